"""The HLC's integer layout and its printed form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.audit.errors import HLCFormatError
from webapp.audit.hlc import (
    MAX_HLC,
    MAX_LOGICAL,
    MAX_PHYSICAL,
    format_hlc,
    pack,
    parse_hlc,
    to_datetime,
    unpack,
    validate,
)

hlcs = st.integers(min_value=0, max_value=MAX_HLC)


def test_layout_is_48_bits_of_milliseconds_then_16_bits_of_counter():
    # The top bit stays clear, so every HLC fits the signed BIGINT column of each database.
    assert pack(1, 0) == 1 << 16
    assert pack(0, MAX_LOGICAL) == 0xFFFF
    assert pack(MAX_PHYSICAL, MAX_LOGICAL) == MAX_HLC == 2**63 - 1
    assert unpack(pack(1_700_000_000_123, 7)) == (1_700_000_000_123, 7)


@given(st.integers(0, MAX_PHYSICAL), st.integers(0, MAX_LOGICAL),
       st.integers(0, MAX_PHYSICAL), st.integers(0, MAX_LOGICAL))
def test_integer_order_is_physical_then_counter_order(p1, l1, p2, l2):
    assert (pack(p1, l1) < pack(p2, l2)) == ((p1, l1) < (p2, l2))


@given(hlcs)
def test_printed_form_parses_back_to_the_same_integer(ts):
    assert parse_hlc(format_hlc(ts)) == ts
    assert parse_hlc(str(ts)) == ts


@pytest.mark.parametrize("ts", [0, 1, MAX_LOGICAL, MAX_HLC, pack(MAX_PHYSICAL, 3)])
def test_extreme_values_round_trip(ts):
    assert parse_hlc(format_hlc(ts)) == ts


def test_printed_form_is_readable_utc_time_and_hex_counter():
    assert format_hlc(pack(0, 0)) == "1970-01-01T00:00:00.000Z+0000"
    assert format_hlc(pack(1_700_000_000_123, 0x2A)) == "2023-11-14T22:13:20.123Z+002a"
    assert to_datetime(pack(1_700_000_000_123, 5)).isoformat() == (
        "2023-11-14T22:13:20.123000+00:00")


def test_printed_form_sorts_like_the_integer_within_the_datetime_range():
    a, b = pack(1_700_000_000_000, MAX_LOGICAL), pack(1_700_000_000_001, 0)
    assert a < b and format_hlc(a) < format_hlc(b)


@pytest.mark.parametrize("physical, logical", [
    (-1, 0), (MAX_PHYSICAL + 1, 0), (0, -1), (0, MAX_LOGICAL + 1)])
def test_pack_refuses_parts_out_of_range(physical, logical):
    with pytest.raises(HLCFormatError):
        pack(physical, logical)


@pytest.mark.parametrize("bad", [
    "", "   ", "abc", "-1", "1.5", "1e3", str(MAX_HLC + 1), "9" * 5000, "١٢٣", "²",
    "2023-11-14T22:13:20.123Z", "2023-11-14T22:13:20.123Z+02a", "2023-11-14T22:13:20.123Z+002A",
    "2023-11-14 22:13:20.123Z+002a", "2023-13-14T22:13:20.123Z+002a",
    "2023-11-14T22:13:20.123Z+002a\nx", "0x10", "10ms+zz", "281474976710656ms+0000",
    # Non-ASCII digits, which int() and a Unicode `\\d` would read as numbers.
    "１２ms+0000", "12ms+００００", "２０２３-11-14T22:13:20.123Z+002a", "١٢ms+0000",
    # At and beyond 2^47 ms (2^63 as an integer): a signed BIGINT column cannot hold it.
    "140737488355328ms+0000", str(2**63), "9999-12-31T23:59:59.999Z+0000",
])
def test_parse_refuses_malformed_strings_with_a_format_error(bad):
    with pytest.raises(HLCFormatError):
        parse_hlc(bad)


@pytest.mark.parametrize("bad", [None, 12, 1.5, b"123", ["1"]])
def test_parse_refuses_non_strings_with_a_format_error(bad):
    with pytest.raises(HLCFormatError):
        parse_hlc(bad)


@pytest.mark.parametrize("bad", [True, False, 1.0, "1", None, -1, MAX_HLC + 1, 2**63,
                                 2**64 - 1, 2**80])
def test_validate_accepts_only_integers_a_signed_bigint_holds(bad):
    with pytest.raises(HLCFormatError):
        validate(bad)


def test_parse_tolerates_surrounding_whitespace():
    assert parse_hlc("  1970-01-01T00:00:00.001Z+0001\n") == pack(1, 1)
