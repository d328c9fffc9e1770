"""Heads and winners: the versions of a record a node shows depend only on which
events it holds, never on the order they came in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webapp.audit import vv
from webapp.audit.params import Email, Key, Slug, Text
from webapp.audit.replication.heads import Head, advance, is_collision, merged, winner
from webapp.audit.replication.unique import suffixed

NODES = ["01AAAAAAAAAAAAAAAAAAAAAAAA", "01BBBBBBBBBBBBBBBBBBBBBBBB", "01CCCCCCCCCCCCCCCCCCCCCCCC"]


def history(steps: list[tuple[int, int, bool]]) -> list[Head]:
    """Three nodes writing one record: (writer, peer whose version it merged first, delete)."""
    seen: list[dict[str, int]] = [{} for _ in NODES]
    clock = [0, 0, 0]
    events = []
    for number, (writer, peer, deleted) in enumerate(steps):
        seen[writer] = vv.merge(seen[writer], seen[peer])
        clock[writer] = max(clock) + 1 if peer != writer else clock[writer] + 1
        seen[writer] = vv.bump(seen[writer], NODES[writer])
        events.append(Head(f"e{number:03d}", dict(seen[writer]), clock[writer],
                           NODES[writer], deleted))
    return events


def heads_of(events: list[Head]) -> list[Head]:
    heads: list[Head] = []
    for event in events:
        heads = advance(heads, event) or heads
    return heads


steps = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.booleans()),
                 min_size=1, max_size=12)


@given(steps, st.randoms(use_true_random=False))
def test_heads_winner_and_vector_do_not_depend_on_arrival_order(plan: list[tuple[int, int, bool]],
                                                                rnd: object) -> None:
    events = history(plan)
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    shuffled += shuffled[: len(shuffled) // 2]  # duplicates too
    ordered, other = heads_of(events), heads_of(shuffled)
    assert sorted(h.event_id for h in ordered) == sorted(h.event_id for h in other)
    assert winner(ordered).event_id == winner(other).event_id
    assert merged(ordered) == merged(other) == merged(events)


def test_a_contained_version_changes_nothing() -> None:
    old, new = history([(0, 0, False), (0, 0, False)])
    assert advance([new], old) is None


def test_a_descendant_replaces_its_ancestor() -> None:
    old, new = history([(0, 0, False), (1, 0, False)])
    assert [h.event_id for h in advance([old], new) or []] == [new.event_id]


def test_concurrent_versions_are_a_collision_won_by_the_later_hlc() -> None:
    base, left, right = history([(0, 0, False), (1, 0, False), (2, 0, False)])
    heads = advance(advance([base], left) or [], right) or []
    assert is_collision(heads) and winner(heads).event_id == right.event_id


def test_concurrent_deletes_agree_and_are_no_collision() -> None:
    base, left, right = history([(0, 0, False), (1, 0, True), (2, 0, True)])
    heads = advance(advance([base], left) or [], right) or []
    assert len(heads) == 2 and not is_collision(heads)


def test_suffixed_values_stay_valid_for_their_field_and_distinct_per_record() -> None:
    record_a, record_b = "01J00000000000000000ABCDEF", "01J00000000000000000GHJKMN"
    slug = suffixed(Slug(max_length=40), "bob", record_a)
    assert slug == "bob-00abcdef" and Slug(max_length=40).clean(slug) == slug
    assert suffixed(Slug(max_length=40), "bob", record_b) != slug
    email = suffixed(Email(), "bob@example.org", record_a)
    assert email == "bob+00abcdef@example.org" and Email().clean(email) == email
    key = suffixed(Key(), "mail.host", record_a)
    assert Key().clean(key) == key == "mail.host_00abcdef"
    long = suffixed(Slug(max_length=40), "a" * 38 + "-b", record_a)
    assert len(long) <= 40 and Slug(max_length=40).clean(long) == long
    assert suffixed(Text(max_length=20), "x" * 20, record_a) == "x" * 9 + " (00abcdef)"
