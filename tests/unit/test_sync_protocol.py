"""The sync protocol's documents: a batch answers the cursor it was asked for, holds at
most the events asked for, in rising seq order, and a served body is valid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from webapp.sync import protocol
from webapp.sync.protocol import COVER_SLACK, ProtocolError

NODE = "01J0000000000000000000000A"


def doc(**changes: Any) -> dict[str, Any]:
    base = {"protocol": 1, "node_id": NODE, "head_seq": 9, "after": 4, "more": True,
            "events": [{"seq": 5, "event": {}}, {"seq": 7, "event": {}}]}
    return {**base, **changes}


def test_a_well_formed_batch_parses() -> None:
    batch = protocol.parse_batch(doc(), after=4, limit=2)
    assert batch.last_seq == 7 and batch.more and [s for s, _ in batch.items] == [5, 7]


@pytest.mark.parametrize("changes, reason", [
    ({"protocol": 2}, "speaks protocol"),
    ({"node_id": "me"}, "not a ULID"),
    ({"after": 3}, "answered for after=3"),
    ({"events": {}}, "not a list"),
    ({"events": [{"seq": 5, "event": {}}] * (3 + COVER_SLACK)}, "oversized batch"),
    ({"events": [{"seq": 4, "event": {}}]}, "not above 4"),
    ({"events": [{"seq": 7, "event": {}}, {"seq": 6, "event": {}}]}, "not above 7"),
    ({"events": [{"seq": 10, "event": {}}]}, "above the head"),
    ({"events": [{"seq": "5", "event": {}}]}, "non-negative integer"),
    ({"events": [{"seq": 5, "event": []}]}, "is not"),
    ({"more": "yes"}, "'more'"),
    ({"head_seq": -1}, "head_seq"),
])
def test_a_batch_that_breaks_the_protocol_is_refused_with_a_reason(
        changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        protocol.parse_batch(doc(**changes), after=4, limit=2)


def test_malformed_json_is_a_protocol_error() -> None:
    for body in (b"{", b"[]", b"\xff\xfe", b"null"):
        with pytest.raises(ProtocolError):
            protocol.loads(body)


def test_a_served_batch_is_one_valid_json_document() -> None:
    items = [protocol.dumps({"seq": 1, "event": {"text": 'say "events":[] here'}})]
    body = protocol.dumps_batch({"protocol": 1, "node_id": NODE, "head_seq": 1, "after": 0,
                                 "more": False}, items)
    parsed = json.loads(body)
    assert parsed["events"] == [{"seq": 1, "event": {"text": 'say "events":[] here'}}]
    assert protocol.parse_batch(parsed, after=0, limit=5).last_seq == 1


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "9" * 20, " 1", "²", "٣", "1²"])
def test_query_numbers_are_whole_and_bounded(text: str) -> None:
    # The reason names the argument: not Python's own int() message.
    with pytest.raises(ValueError, match="^after must be a whole number from 0 to"):
        protocol.parse_seq(text, "after")
    assert protocol.parse_seq(None, "limit", 500) == 500


OTHER = "01J0000000000000000000000B"


@pytest.mark.parametrize(("sent", "kept"), [
    ("beta", "beta"),
    ("\u202eateb", "ateb"),  # a right-to-left override would reorder the page around it
    ("al\u200bpha", "alpha"),  # invisible: would pass for "alpha"
    ("evil\x1d\x1e01J0000000000000000000000CFake", "evil01J0000000000000000000000CFake"),
    ("  line\nbreak\t ", "linebreak"),
    ("\u200f\u200b\x00", None),  # nothing visible left: the node is named by its id
])
def test_node_names_in_a_hello_are_kept_as_a_node_could_name_itself(
        sent: str, kept: str | None) -> None:
    hello = protocol.parse_hello({"protocol": 1, "node_id": NODE, "name": sent,
                                  "head_seq": 3, "nodes": {OTHER: sent}})
    assert hello.name == (kept or NODE)
    assert hello.nodes == {NODE: kept or NODE, OTHER: kept or OTHER}


def test_a_hello_whose_names_are_not_short_texts_is_refused() -> None:
    for name in (None, 7, "x" * 101):
        with pytest.raises(ProtocolError, match="node name"):
            protocol.parse_hello({"protocol": 1, "node_id": NODE, "name": name,
                                  "head_seq": 3, "nodes": {}})
