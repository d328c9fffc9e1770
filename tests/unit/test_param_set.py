"""ParamSet: a record's fields validated together, for a create or a partial update."""

from __future__ import annotations

import pytest

from webapp.audit.errors import ParamsError
from webapp.domain import users

GOOD = {"username": "alice", "email": "alice@example.com", "role": "editor"}


def errors_of(raw, partial=False) -> dict[str, str]:
    with pytest.raises(ParamsError) as caught:
        users.params.clean(raw, partial=partial)
    return caught.value.errors


def test_a_create_fills_optional_fields_with_their_empty_value():
    assert users.params.clean(GOOD, partial=False) == {
        **GOOD, "full_name": None, "active": False, "password": None}


def test_a_create_lists_every_missing_required_field_at_once():
    assert errors_of({}) == {f: "is required" for f in ("username", "email", "role")}
    assert errors_of({**GOOD, "username": "   "}) == {"username": "is required"}
    assert errors_of({**GOOD, "email": None}) == {"email": "is required"}


def test_every_bad_field_is_reported_in_one_error():
    errors = errors_of({"username": "Bad Name", "email": "nope", "role": "root",
                        "active": "perhaps", "password": "short"})
    assert set(errors) == {"username", "email", "role", "active", "password"}
    assert errors["role"] == "must be one of: viewer, editor, admin"


def test_the_error_message_names_each_field():
    with pytest.raises(ParamsError, match="role: must be one of"):
        users.params.clean({**GOOD, "role": "root"}, partial=False)


def test_unknown_fields_are_refused_not_dropped():
    assert errors_of({**GOOD, "is_admin": True}) == {"is_admin": "is not a field of this record"}
    assert errors_of({"version": 9}, partial=True) == {"version": "is not a field of this record"}
    long_name = errors_of({"x" * 1000: 1}, partial=True)
    assert list(long_name) == ["x" * 64]  # a hostile key is cut short in the message


@pytest.mark.parametrize("raw", [None, [], "username=alice", [("username", "alice")]])
def test_params_must_be_a_mapping(raw):
    assert errors_of(raw) == {"_": "parameters must be a mapping of field names to values"}


def test_an_update_checks_only_the_fields_it_names():
    assert users.params.clean({"role": "admin"}, partial=True) == {"role": "admin"}
    assert users.params.clean({}, partial=True) == {}


def test_an_update_may_clear_an_optional_field_but_not_a_required_one():
    assert users.params.clean({"full_name": "  "}, partial=True) == {"full_name": None}
    assert users.params.clean({"active": None}, partial=True) == {"active": False}
    assert errors_of({"email": ""}, partial=True) == {"email": "is required"}


def test_an_update_still_validates_what_it_names():
    assert errors_of({"email": "not-an-email"}, partial=True)["email"].startswith(
        "is not a valid email address")


def test_password_cleartext_never_survives_cleaning():
    cleaned = users.params.clean({**GOOD, "password": "hunter2hunter2"}, partial=False)
    assert cleaned["password"].startswith("$argon2id$")
    assert "hunter2hunter2" not in repr(cleaned)
    assert users.secret_fields == {"password"}
