"""The wire format of change events: what a peer sends is checked field by field, and
anything malformed, oversized or altered is refused with a message naming the problem."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from webapp.audit import canonical
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import MAX_HLC, pack
from webapp.audit.ids import new_ulid
from webapp.audit.replication import (
    PayloadError,
    TamperedEventError,
    event_from_wire,
    event_to_wire,
)

ORIGIN = new_ulid()


def sealed(**changes: Any) -> ChangeEvent:
    record_id = new_ulid()
    event = ChangeEvent(
        event_id=new_ulid(), origin_node_id=ORIGIN, hlc=pack(1_700_000_000_000, 3),
        entity="team", record_id=record_id, op="created",
        params={"slug": "red", "name": "Red"}, pre_state=None,
        post_state={"id": record_id, "slug": "red", "name": "Red", "description": None},
        vv_before={}, vv_after={ORIGIN: 1}, schema_version=1, idempotency_key="auto:abc",
        user_id="u1", meta={}, prev_hash="0" * 64)
    event = replace(event, **changes)
    return replace(event, hash=event.chained_hash(event.prev_hash))


def wire(**overrides: Any) -> dict[str, Any]:
    doc = canonical.loads(canonical.dumps(event_to_wire(sealed())))
    doc.update(overrides)
    return doc  # type: ignore[no-any-return]


def test_an_event_survives_the_wire_unchanged_except_its_local_seq() -> None:
    event = replace(sealed(), seq=42)
    doc = event_to_wire(event)
    assert "seq" not in doc
    assert doc["hash"] == event.hash and doc["prev_hash"] == event.prev_hash
    back = event_from_wire(canonical.loads(canonical.dumps(doc)))
    assert back == replace(event, seq=None)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"event_id": "not-a-ulid"}, "event_id is not a ULID"),
    ({"origin_node_id": 12}, "origin_node_id is not a ULID"),
    ({"record_id": "8" * 26}, "record_id is not a ULID"),  # first character above 7
    ({"hlc": -1}, "hlc"),
    ({"hlc": MAX_HLC + 1}, "hlc"),
    ({"hlc": "123"}, "hlc"),
    ({"hlc": True}, "hlc"),
    ({"entity": "Team; drop"}, "entity"),
    ({"entity": "team\n"}, "entity is not an entity name"),
    ({"op": "exploded"}, "op must be one of"),
    ({"params": []}, "params must be a JSON object"),
    ({"params": {"name": {"nested": 1}}}, "must be text, a number"),
    ({"params": {str(i): i for i in range(201)}}, "more than 200 keys"),
    ({"meta": "resolves"}, "meta must be a JSON object"),
    ({"meta": {"note": "x" * 17_000}}, "meta must be at most 16384 bytes"),
    ({"meta": {"note": [1]}}, "meta values must be text"),
    ({"vv_after": {ORIGIN: 0}}, "positive integer"),
    ({"vv_after": {"x": 1}}, "not a node id"),
    ({"vv_after": {ORIGIN: 5}}, "plus one"),
    ({"schema_version": 0}, "schema_version"),
    ({"schema_version": 1.5}, "schema_version"),
    ({"idempotency_key": ""}, "idempotency_key"),
    ({"idempotency_key": "form:1\n"}, "idempotency_key"),
    ({"user_id": "u" * 65}, "user_id"),
    ({"hash": "XYZ"}, "hash must be 64"),
    ({"prev_hash": "0" * 64 + "\n"}, "prev_hash must be 64"),
    ({"post_state": None}, "post_state must be null exactly when"),
    ({"surprise": 1}, "unknown fields ['surprise']"),
])
def test_a_malformed_event_is_refused_with_the_reason(overrides: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("[", r"\[").replace("]", r"\]")):
        event_from_wire(wire(**overrides))


def test_how_long_a_text_may_be_is_left_to_its_entity_declaration() -> None:
    """The wire knows no entity: checks.py bounds texts by the fields (see the
    replication tests), so no fixed limit here can refuse what a field allows."""
    event = sealed(params={"name": "x" * 50_001})
    assert event_from_wire(canonical.loads(canonical.dumps(event_to_wire(event)))) == event


def test_a_state_about_another_record_is_refused() -> None:
    doc = wire()
    doc["post_state"] = {**doc["post_state"], "id": new_ulid()}
    with pytest.raises(PayloadError, match="post_state.id is not the event's record_id"):
        event_from_wire(doc)


def test_missing_fields_are_named() -> None:
    doc = wire()
    del doc["hlc"], doc["meta"]
    with pytest.raises(PayloadError, match=r"missing fields \['hlc', 'meta'\]"):
        event_from_wire(doc)


@pytest.mark.parametrize("doc", [None, [], "event", 12, b"{}"])
def test_something_that_is_not_an_object_is_refused(doc: object) -> None:
    with pytest.raises(PayloadError, match="an event is a JSON object"):
        event_from_wire(doc)


def test_an_altered_event_is_detected_by_its_hash_and_named() -> None:
    doc = wire()
    doc["post_state"] = {**doc["post_state"], "name": "Blue"}
    with pytest.raises(TamperedEventError, match=f"event {doc['event_id']}: its hash"):
        event_from_wire(doc)


def test_the_error_names_the_event_when_its_id_is_readable() -> None:
    doc = wire(op="exploded")
    with pytest.raises(PayloadError) as caught:
        event_from_wire(doc)
    assert caught.value.event_id == doc["event_id"]
