"""Where each field's value came from, walked back from a vector, is the same whether
the walk stops at an earlier answer (what a record page remembers) or reads the whole
history: checked over random histories of several nodes that edit and merge."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_field_merge import A, B, C, Writer
from webapp.audit import vv
from webapp.audit.events import ChangeEvent
from webapp.audit.replication.history import History, same_vector

FIELDS = ("name", "status", "budget")
# One write: (origin, which other nodes' latest events it has heard of, field, value)
WRITE = st.tuples(st.sampled_from((A, B, C)), st.sets(st.sampled_from((A, B, C))),
                  st.sampled_from(FIELDS), st.sampled_from(("x", "y", "z")))


def written(writes: list[tuple[str, set[str], str, str]]) -> list[ChangeEvent]:
    """A history: a creation, then each write by a node on what it has heard (always
    its own last event, so an origin's events on the record follow one another)."""
    w = Writer()
    root = w.write(A, [], name="r", status="s", budget="b")
    latest: dict[str, ChangeEvent] = {A: root}
    for origin, heard, name, value in writes:
        seen = [latest[n] for n in heard | {origin} if n in latest] or [root]
        latest[origin] = w.write(origin, seen, **{name: value})
    return w.events


def vector_of(events: list[ChangeEvent]) -> dict[str, int]:
    out: dict[str, int] = {}
    for event in events:
        out = vv.merge(out, event.vv_after)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(WRITE, min_size=1, max_size=14), st.data())
def test_a_walk_that_stops_at_an_earlier_answer_finds_the_same_sources(
        writes: list[tuple[str, set[str], str, str]], data: st.DataObject) -> None:
    events = written(writes)
    at = vector_of(events)
    # An earlier answer: the sources as a prefix of the history (what was seen then) had them.
    cut = data.draw(st.integers(1, len(events)))
    then = vector_of(events[:cut])
    earlier = History(events).sources(then, FIELDS)
    expected = History(events).sources(at, FIELDS)
    assert History(events).sources(at, FIELDS, (then, earlier)) == expected
    assert set(expected) == set(FIELDS)  # every field was set by some event


def test_the_walk_stops_at_the_earlier_answer_without_reading_older_events() -> None:
    w = Writer()
    root = w.write(A, [], name="r", status="s", budget="b")
    a1 = w.write(A, [root], status="active")
    a2 = w.write(A, [a1], name="n")
    read: list[list[str]] = []

    def load(ids: list[str]) -> list[ChangeEvent]:
        read.append(ids)
        return [e for e in w.events if e.event_id in ids]
    stubs: list[Any] = [root, a1]  # the older events: only what a stub read would give
    history = History([*stubs, a2], load)
    earlier = {"name": root.event_id, "status": a1.event_id, "budget": root.event_id}
    assert history.sources(a2.vv_after, FIELDS, (a1.vv_after, earlier)) == {
        "name": a2.event_id, "status": a1.event_id, "budget": root.event_id}
    assert read == []


def test_vectors_compare_equal_whatever_zero_counts_they_name() -> None:
    assert same_vector({A: 1, B: 0}, {A: 1})
    assert not same_vector({A: 1}, {A: 2})
