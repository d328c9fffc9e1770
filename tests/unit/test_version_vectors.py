"""Version vectors: bump, merge, compare, and the integer version derived from them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webapp.audit.vv import Order, bump, compare, merge, version_of

vectors = st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.integers(0, 5), max_size=4)


def test_bump_counts_one_more_change_by_that_node_without_touching_the_input():
    before = {"A": 2}
    assert bump(before, "A") == {"A": 3}
    assert bump(before, "B") == {"A": 2, "B": 1}
    assert before == {"A": 2}


def test_compare_tells_equal_before_after_and_concurrent():
    assert compare({"A": 1}, {"A": 1}) is Order.EQUAL
    assert compare({"A": 1}, {"A": 2}) is Order.BEFORE
    assert compare({"A": 2, "B": 1}, {"A": 2}) is Order.AFTER
    assert compare({"A": 2}, {"A": 1, "B": 1}) is Order.CONCURRENT


def test_a_missing_entry_counts_as_zero():
    assert compare({}, {"A": 0}) is Order.EQUAL
    assert compare({}, {"A": 1}) is Order.BEFORE


def test_merge_takes_the_largest_count_per_node():
    assert merge({"A": 3, "B": 1}, {"B": 4, "C": 2}) == {"A": 3, "B": 4, "C": 2}


def test_version_is_the_total_number_of_changes():
    assert version_of({}) == 0
    assert version_of({"A": 3, "B": 2}) == 5


@given(vectors, vectors)
def test_compare_is_antisymmetric(a, b):
    flipped = {Order.BEFORE: Order.AFTER, Order.AFTER: Order.BEFORE,
               Order.EQUAL: Order.EQUAL, Order.CONCURRENT: Order.CONCURRENT}
    assert compare(b, a) is flipped[compare(a, b)]


@given(vectors, vectors)
def test_merge_dominates_both_sides_and_is_commutative(a, b):
    m = merge(a, b)
    assert compare(a, m) in (Order.BEFORE, Order.EQUAL)
    assert compare(b, m) in (Order.BEFORE, Order.EQUAL)
    assert m == merge(b, a)


@given(vectors, st.sampled_from(["A", "B", "E"]))
def test_a_bump_always_comes_after_what_it_bumped(a, node):
    after = bump(a, node)
    assert compare(after, a) is Order.AFTER
    assert version_of(after) == version_of(a) + 1


@given(vectors, vectors)
def test_vectors_in_order_have_ordered_versions(a, b):
    if compare(a, b) is Order.BEFORE:
        assert version_of(a) < version_of(b)
