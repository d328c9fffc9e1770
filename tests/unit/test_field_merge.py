"""Field-by-field merge: a change to a field the other side did not touch is never lost,
only a field changed on several sides to different values is disputed, and the result
depends on the set of versions only, never on the order they are given in."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from webapp.audit import vv
from webapp.audit.events import ChangeEvent
from webapp.audit.replication.heads import head_of
from webapp.audit.replication.history import History, meet
from webapp.audit.replication.merge import Version, merge

A, B, C = "01AAAAAAAAAAAAAAAAAAAAAAAA", "01BBBBBBBBBBBBBBBBBBBBBBBB", "01CCCCCCCCCCCCCCCCCCCCCCCC"
BASE = {"id": "R", "name": "Red", "status": "planned", "budget": None}


def side(event_id: str, hlc: int, origin: str, **changes: Any) -> Version:
    return Version(event_id, hlc, origin, {**BASE, **changes})


def test_changes_to_different_fields_both_survive() -> None:
    merged = merge(BASE, [side("a", 5, A, status="active"), side("b", 9, B, budget="large")])
    assert merged.state == {**BASE, "status": "active", "budget": "large"}
    assert merged.disputed == ()
    assert merged.changed == {"a": ("status",), "b": ("budget",)}
    assert merged.source == {"status": "a", "budget": "b"}
    assert merged.lost == {"a": (), "b": ()}


def test_the_same_change_on_both_sides_is_no_dispute() -> None:
    merged = merge(BASE, [side("a", 5, A, status="done"), side("b", 9, B, status="done")])
    assert merged.state == {**BASE, "status": "done"}
    assert merged.disputed == ()


def test_different_changes_to_one_field_are_disputed_and_the_greatest_change_wins() -> None:
    merged = merge(BASE, [side("a", 5, A, status="active", name="Rouge"),
                          side("b", 9, B, status="done", budget="small")])
    assert merged.disputed == ("status",)
    assert merged.state == {**BASE, "status": "done", "name": "Rouge", "budget": "small"}
    assert merged.lost == {"a": ("status",), "b": ()}
    # Ties on hlc go to the greater origin node id, as lww orders changes everywhere.
    tie = merge(BASE, [side("a", 9, A, status="active"), side("b", 9, B, status="done")])
    assert tie.state["status"] == "done"  # type: ignore[index]


def test_a_field_changed_back_to_the_ancestors_value_is_unchanged() -> None:
    merged = merge(BASE, [side("a", 5, A, status="planned"), side("b", 3, B, status="done")])
    assert merged.state["status"] == "done"  # type: ignore[index]
    assert merged.disputed == ()


def test_three_sides_dispute_one_field_with_three_candidates() -> None:
    merged = merge(BASE, [side("a", 5, A, status="active"), side("b", 7, B, status="done"),
                          side("c", 6, C, status="planned-2", budget="small")])
    assert merged.disputed == ("status",)
    assert merged.state["status"] == "done"  # type: ignore[index]
    assert merged.state["budget"] == "small"  # type: ignore[index]
    assert merged.lost == {"a": ("status",), "b": (), "c": ("status",)}


def test_a_field_one_side_gained_by_a_schema_upgrade_is_kept() -> None:
    ancestor = {k: v for k, v in BASE.items() if k != "budget"}
    old = Version("a", 5, A, {**ancestor, "status": "active"})  # written before budget existed
    new = side("b", 9, B, budget="large")
    merged = merge(ancestor, [old, new])
    assert merged.state == {**BASE, "status": "active", "budget": "large"}
    assert merged.disputed == ()


def test_true_and_one_are_different_values() -> None:
    merged = merge({"id": "R", "flag": 1}, [Version("a", 1, A, {"id": "R", "flag": True}),
                                             Version("b", 2, B, {"id": "R", "flag": 1})])
    assert merged.state == {"id": "R", "flag": True}


def test_a_delete_that_ranks_highest_deletes_and_a_lower_one_lets_the_live_sides_merge() -> None:
    gone = Version("d", 10, C, None)
    assert merge(BASE, [side("a", 5, A, status="x"), gone]).state is None
    merged = merge(BASE, [side("a", 5, A, status="x"), side("b", 6, B, budget="y"),
                          Version("d", 1, C, None)])
    assert merged.state == {**BASE, "status": "x", "budget": "y"}


values = st.sampled_from([None, "x", "y", "z"])
states = st.fixed_dictionaries({"id": st.just("R"), "f": values, "g": values, "h": values})


@given(states, st.lists(st.tuples(states, st.integers(0, 3)), min_size=2, max_size=4))
def test_the_merge_does_not_depend_on_the_order_of_its_sides(
        ancestor: dict[str, Any], drawn: list[tuple[dict[str, Any], int]]) -> None:
    sides = [Version(f"e{i}", hlc, (A, B, C, A)[i], state)
             for i, (state, hlc) in enumerate(drawn)]
    first = merge(ancestor, sides)
    for order in itertools.permutations(sides):
        assert merge(ancestor, list(order)) == first
    # Nothing any side changed alone is lost, and nothing unchanged moves.
    assert first.state is not None
    for name in ("f", "g", "h"):
        changers = {repr(s.state[name]) for s in sides if s.state[name] != ancestor[name]}
        if not changers:
            assert first.state[name] == ancestor[name]
        elif len(changers) == 1:
            assert repr(first.state[name]) in changers and name not in first.disputed
        else:
            assert name in first.disputed


# -- History: the state at any vector, from the events alone ------------------------------

class Writer:
    """Nodes editing one record; each keeps its own events and merges what it hears."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self.hlc = 0

    def write(self, origin: str, seen: list[ChangeEvent], deletes: bool = False,
              **changes: Any) -> ChangeEvent:
        history = History(self.events)
        before_vv: dict[str, int] = {}
        for event in seen:
            before_vv = vv.merge(before_vv, event.vv_after)
        pre = history.state_at(before_vv) if before_vv else None
        post = None if deletes else {
            **(pre or {"id": "R", "name": None, "status": None, "budget": None}), **changes}
        self.hlc += 1
        event = ChangeEvent(
            event_id=f"E{len(self.events):02d}", origin_node_id=origin, hlc=self.hlc,
            entity="project", record_id="R",
            op="deleted" if deletes else "updated" if pre else "created",
            params=changes, pre_state=pre, post_state=post, vv_before=before_vv,
            vv_after=vv.bump(before_vv, origin), schema_version=1, idempotency_key="k")
        self.events.append(event)
        return event


def test_history_merges_against_the_common_ancestor_even_after_several_edits_per_side() -> None:
    w = Writer()
    root = w.write(A, [], name="Red", status="planned", budget="none")
    a1 = w.write(A, [root], status="active")
    a2 = w.write(A, [a1], name="Rouge")
    b1 = w.write(B, [root], budget="large")
    b2 = w.write(B, [b1], budget="huge")
    history = History(w.events)
    merged = history.merge([head_of(a2), head_of(b2)])
    assert merged.state == {"id": "R", "name": "Rouge", "status": "active", "budget": "huge"}
    assert merged.disputed == ()
    assert history.state_at(meet([a2.vv_after, b2.vv_after])) == root.post_state
    at = vv.merge(a2.vv_after, b2.vv_after)
    assert history.sources(at, ["name", "status", "budget"]) == {
        "name": a2.event_id, "status": a1.event_id, "budget": b2.event_id}


def test_criss_cross_merges_use_the_merge_of_their_common_versions() -> None:
    w = Writer()
    root = w.write(A, [], name="Red", status="planned", budget="none")
    a1 = w.write(A, [root], status="active")
    b1 = w.write(B, [root], budget="large")
    # Both nodes hear of the other's edit and edit again on the merged state.
    a2 = w.write(A, [a1, b1], name="Rouge")
    b2 = w.write(B, [a1, b1], name="Rot")
    history = History(w.events)
    merged = history.merge([head_of(a2), head_of(b2)])
    assert merged.disputed == ("name",)
    assert merged.state == {"id": "R", "name": "Rot", "status": "active", "budget": "large"}
    assert merged.lost == {a2.event_id: ("name",), b2.event_id: ()}


def test_a_missing_event_makes_the_ancestor_unknown_and_every_difference_a_dispute() -> None:
    w = Writer()
    root = w.write(A, [], name="Red", status="planned", budget="none")
    a1 = w.write(A, [root], status="active")
    b1 = w.write(B, [root], budget="large")
    history = History([a1, b1])  # root compacted away, say
    merged = history.merge([head_of(a1), head_of(b1)])
    assert set(merged.disputed) == {"status", "budget"}


def test_a_collision_settled_by_two_events_names_the_first_whatever_the_order() -> None:
    w = Writer()
    root = w.write(A, [], name="Red", status="planned", budget="none")
    a1 = w.write(A, [root], name="Ay")
    b1 = w.write(B, [root], name="Bee")
    a2 = w.write(A, [a1, b1], name="Ay again")  # both settle {a1, b1}, concurrently
    b2 = w.write(B, [a1, b1], name="Bee again")
    for events in (w.events, list(reversed(w.events))):
        (found,) = History(events).settlements()
        sides, settler = found
        assert sorted(e.event_id for e in sides) == sorted([a1.event_id, b1.event_id])
        assert settler.event_id == min((a2, b2), key=lambda e: (e.hlc, e.event_id)).event_id


def test_a_lower_ranked_delete_does_not_move_the_ancestor_of_the_live_versions() -> None:
    w = Writer()
    root = w.write(A, [], name="Red", status="planned", budget="none")
    gone = w.write(C, [root], deletes=True)  # the lowest rank of the three heads
    x = w.write(A, [root], status="active")
    a = w.write(A, [x], status="done")
    b = w.write(B, [x], budget="large")
    history = History(w.events)
    merged = history.merge([head_of(e) for e in (gone, a, b)])
    assert merged.state == {"id": "R", "name": "Red", "status": "done", "budget": "large"}
    assert merged.disputed == ()
    at = vv.merge(vv.merge(gone.vv_after, a.vv_after), b.vv_after)
    assert history.state_at(at) == merged.state  # the same rule wherever it is read
    assert history.sources(at, ["status"]) == {"status": a.event_id}


def test_lww_compares_the_changes_to_the_disputed_field_not_the_versions() -> None:
    w = Writer()
    root = w.write(A, [], name="Red", status="planned", budget="none")
    a1 = w.write(A, [root], status="active")
    b1 = w.write(B, [root], status="done")  # a later change of status than a1
    a2 = w.write(A, [a1], name="Rouge")  # A's version is the newer one, for its name
    merged = History(w.events).merge([head_of(a2), head_of(b1)])
    assert merged.disputed == ("status",)
    assert merged.state == {"id": "R", "name": "Rouge", "status": "done", "budget": "none"}
    assert merged.source["status"] == b1.event_id
    assert merged.lost == {a2.event_id: ("status",), b1.event_id: ()}
