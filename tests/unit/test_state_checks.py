"""A peer's stored values are checked against each field's clean form; the check's cache
must not take one value for another that compares equal (True == 1 == 1.0)."""

from __future__ import annotations

from webapp.audit.params import Boolean, Integer
from webapp.audit.replication.checks import _problem


def test_an_equal_value_of_another_type_is_not_taken_from_the_cache() -> None:
    flag, count = Boolean(label="Active"), Integer(label="Count", min_value=0, max_value=9)
    assert _problem(flag, True) is None
    assert _problem(flag, 1) == "must be true or false"
    assert _problem(count, 1) is None
    assert _problem(count, True) is not None
    assert _problem(count, 1.0) is not None
