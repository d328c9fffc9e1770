"""An event read back from its stored row is the event that was written: every field,
the documents decoded, still immutable; a row with a column too many or too few is
refused, naming it."""

from __future__ import annotations

import dataclasses

import pytest

from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import pack


def _event() -> ChangeEvent:
    return ChangeEvent(
        event_id="01J0000000000000000000000A", origin_node_id="01J0000000000000000000000B",
        hlc=pack(1_700_000_000_123, 5), entity="team", record_id="01J0000000000000000000000C",
        op="updated", params={"name": "New"}, pre_state={"name": "Old", "tags": ["a"]},
        post_state={"name": "New", "tags": ["a"]}, vv_before={"n": 1}, vv_after={"n": 2},
        schema_version=2, idempotency_key="k", user_id="u", request_id="r",
        meta={"resolves": "x"}, prev_hash="p", hash="h", seq=7, signature="s")


def test_an_event_read_from_its_row_equals_the_event_written():
    event = _event()
    read = ChangeEvent.from_row(event.to_row())
    assert read == event and type(read) is ChangeEvent
    assert read.post_state == {"name": "New", "tags": ["a"]} and read.seq == 7
    assert dataclasses.replace(read, seq=8).seq == 8 and read.seq == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.op = "deleted"  # type: ignore[misc]


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_a_row_with_a_column_too_few_or_too_many_is_refused(change):
    row = _event().to_row()
    if change == "missing":
        del row["op"]
    else:
        row["surprise"] = 1
    with pytest.raises(TypeError, match="op" if change == "missing" else "surprise"):
        ChangeEvent.from_row(row)
