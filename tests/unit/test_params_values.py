"""Value params: Choice, Integer, Boolean, Ref and Password."""

from __future__ import annotations

import pytest

from webapp.audit.ids import new_ulid
from webapp.audit.params import Boolean, Choice, Integer, Invalid, Password, Ref
from webapp.audit.passwords import verify_password


def refused(param, value) -> str:
    with pytest.raises(Invalid) as caught:
        param.clean(value)
    return str(caught.value)


ROLE = Choice(choices=("viewer", "editor", "admin"))


def test_choice_accepts_exactly_the_listed_values():
    assert [ROLE.clean(v) for v in ROLE.choices] == ["viewer", "editor", "admin"]


@pytest.mark.parametrize("bad", ["Admin", " admin", "admin ", "root", "", None, 1, ["admin"]])
def test_choice_refuses_anything_else_and_lists_the_choices(bad):
    assert refused(ROLE, bad) == "must be one of: viewer, editor, admin"


@pytest.mark.parametrize("raw, clean", [(0, 0), (-7, -7), ("42", 42), (" -3 ", -3),
                                        (2**31 - 1, 2**31 - 1), (-(2**31), -(2**31))])
def test_integer_accepts_whole_numbers_and_their_text(raw, clean):
    assert Integer().clean(raw) == clean


@pytest.mark.parametrize("bad", [1.5, 1.0, "1.0", "1e3", "0x10", "", "one", True, None, "١٢",
                                 "9" * 20, [1]])
def test_integer_refuses_anything_but_a_whole_number(bad):
    assert refused(Integer(), bad) == "must be a whole number"


def test_integer_keeps_to_its_bounds():
    small = Integer(min_value=1, max_value=10)
    assert small.clean(1) == 1 and small.clean("10") == 10
    assert refused(small, 0) == "must be between 1 and 10"
    assert refused(small, 11) == "must be between 1 and 10"
    assert refused(Integer(), 2**31) == "must be between -2147483648 and 2147483647"


@pytest.mark.parametrize("raw, clean", [(True, True), (False, False), ("on", True), ("yes", True),
                                        ("TRUE", True), ("1", True), ("off", False),
                                        ("no", False), ("0", False), ("", False)])
def test_boolean_reads_form_and_json_spellings(raw, clean):
    assert Boolean().clean(raw) is clean


@pytest.mark.parametrize("bad", ["maybe", "2", 1, 0, 0.0, [], {}])
def test_boolean_refuses_other_values(bad):
    assert refused(Boolean(), bad) == "must be yes or no"


def test_ref_accepts_a_ulid_in_either_case():
    ulid = new_ulid()
    assert Ref(entity="team").clean(ulid) == ulid
    assert Ref(entity="team").clean(f" {ulid.lower()} ") == ulid


@pytest.mark.parametrize("bad", ["", "team-red", "01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters
                                 "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "81ARZ3NDEKTSV4RRFFQ69G5FAV",
                                 "01ARZ3NDEKTSV4RRFFQ69G5FAU", "01ARZ3NDEKTSV4RRFFQ69G5FA\n", 42])
def test_ref_refuses_what_is_not_a_ulid(bad):
    assert refused(Ref(entity="team"), bad)


def test_password_is_stored_only_as_a_salted_hash():
    stored = Password().clean("correct horse battery")
    assert "correct horse battery" not in stored
    assert stored.startswith("scrypt$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert Password().clean("correct horse battery") != stored  # a fresh salt every time


def test_password_is_a_secret_field():
    assert Password().secret and not Choice(choices=("a",)).secret


@pytest.mark.parametrize("bad, message", [
    ("short", "must be at least 10 characters"), ("x" * 257, "must be at most 256 characters"),
    (1234567890123, "must be text"), (None, "must be text"),
    ("long enough\ud800", "must not contain unpaired surrogate characters"),
])
def test_password_refuses_weak_or_malformed_input_without_echoing_it(bad, message):
    assert refused(Password(), bad) == message


@pytest.mark.parametrize("stored", [None, "", "plain", "scrypt$x$8$1$00$00", "md5$1$2$3$4$5",
                                    "scrypt$16384$8$1$zz$00"])
def test_verify_password_says_no_to_malformed_hashes(stored):
    assert verify_password(stored, "anything at all") is False
