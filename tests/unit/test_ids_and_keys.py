"""ULIDs and idempotency keys: what the core accepts as an id or a key."""

from __future__ import annotations

import pytest

from webapp.audit.commands import CreateRecord, UpdateRecord, idempotency_key
from webapp.audit.errors import ParamsError
from webapp.audit.ids import is_ulid, new_ulid


def test_new_ulids_are_valid_unique_and_sort_by_creation():
    ids = [new_ulid() for _ in range(2000)]
    assert all(is_ulid(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert [i[:10] for i in ids] == sorted(i[:10] for i in ids)  # the time part rises


@pytest.mark.parametrize("bad", ["", "01ARZ3NDEKTSV4RRFFQ69G5FAV\n", "01arz3ndektsv4rrffq69g5fav",
                                 "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV",
                                 "01ARZ3NDEKTSV4RRFFQ69G5FAI", " 01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                 None, 123, b"01ARZ3NDEKTSV4RRFFQ69G5FAV"])
def test_is_ulid_refuses_anything_but_26_crockford_characters(bad):
    assert not is_ulid(bad)


def test_a_caller_key_is_used_as_given():
    command = CreateRecord("team", {"slug": "red"}, idempotency_key="form:abc-123")
    assert idempotency_key(command, {"slug": "red"}, set()) == "form:abc-123"


@pytest.mark.parametrize("bad", ["", "has space", "tab\there", "newline\n", "ü", "k" * 101, 7])
def test_a_caller_key_must_be_1_to_100_printable_ascii_characters(bad):
    command = CreateRecord("team", {"slug": "red"}, idempotency_key=bad)
    with pytest.raises(ParamsError) as caught:
        idempotency_key(command, {"slug": "red"}, set())
    assert caught.value.errors == {"idempotency_key": "must be 1 to 100 printable characters"}


def test_a_derived_key_names_the_command_and_leaves_secrets_out():
    rid = new_ulid()
    first = UpdateRecord("user", rid, 3, {"role": "admin", "password": "x"})
    key = idempotency_key(first, {"role": "admin", "password": "hash-1"}, {"password"})
    assert key.startswith("auto:") and len(key) <= 100
    # The same command again (password salted afresh) derives the same key ...
    assert key == idempotency_key(first, {"role": "admin", "password": "hash-2"}, {"password"})
    # ... while another version, record or value derives another one.
    for other, cleaned in [(UpdateRecord("user", rid, 4, {}), {"role": "admin"}),
                           (UpdateRecord("user", new_ulid(), 3, {}), {"role": "admin"}),
                           (first, {"role": "viewer"})]:
        assert idempotency_key(other, cleaned, {"password"}) != key
