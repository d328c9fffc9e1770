"""HybridClock.receive(): the bounded HLC receive rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.audit.errors import ClockDriftError, HLCFormatError
from webapp.audit.hlc import MAX_HLC, MAX_LOGICAL, MAX_PHYSICAL, HybridClock, pack, unpack

WALL = 1_700_000_000_000
DRIFT = 5_000


def clock(last: int = 0, wall: int = WALL, drift: int = DRIFT) -> HybridClock:
    return HybridClock(max_drift_ms=drift, wall=lambda: wall, last=last)


def test_remote_exactly_at_the_drift_bound_is_accepted():
    c = clock()
    remote = pack(WALL + DRIFT, MAX_LOGICAL)  # the whole last millisecond is allowed
    assert c.receive(remote) == remote + 1
    assert c.now() > remote + 1


def test_remote_one_millisecond_past_the_bound_is_refused_and_the_clock_stays():
    c = clock(last=pack(WALL, 42))
    with pytest.raises(ClockDriftError, match=r"5001 ms ahead.*maximum drift is 5000 ms"):
        c.receive(pack(WALL + DRIFT + 1, 0))
    assert c.last == pack(WALL, 42)
    assert c.now() == pack(WALL, 43)


def test_check_refuses_exactly_what_receive_refuses_and_changes_nothing():
    c = clock(last=pack(WALL, 7))
    c.check(pack(WALL + DRIFT, MAX_LOGICAL))
    with pytest.raises(ClockDriftError):
        c.check(pack(WALL + DRIFT + 1, 0))
    assert c.last == pack(WALL, 7)


def test_zero_drift_accepts_the_current_millisecond_only():
    c = clock(drift=0)
    assert unpack(c.receive(pack(WALL, 9))) == (WALL, 10)
    with pytest.raises(ClockDriftError):
        c.receive(pack(WALL + 1, 0))


def test_remote_behind_us_keeps_our_time_and_still_moves_forward():
    c = clock(last=pack(WALL, 100))
    assert c.receive(pack(WALL - 50_000, 9)) == pack(WALL, 101)


def test_remote_ahead_within_drift_is_adopted_plus_one():
    c = clock(last=pack(WALL, 100))
    assert c.receive(pack(WALL + 10, 5)) == pack(WALL + 10, 6)
    assert c.now() == pack(WALL + 10, 7)  # later local stamps stay after the remote one


def test_remote_with_a_full_counter_carries_into_the_next_millisecond():
    c = clock()
    assert unpack(c.receive(pack(WALL + 1, MAX_LOGICAL))) == (WALL + 2, 0)


def test_remote_zero_is_accepted_and_changes_nothing_but_the_counter():
    c = clock(last=pack(WALL, 3))
    assert c.receive(0) == pack(WALL, 4)


def test_largest_48_bit_time_is_refused_as_drift_with_the_clock_unchanged():
    c = clock(last=pack(WALL, 3))
    with pytest.raises(ClockDriftError):
        c.receive(pack(MAX_PHYSICAL, MAX_LOGICAL))
    assert c.last == pack(WALL, 3)


def test_largest_time_with_an_unbounded_drift_cannot_step_past_the_64_bit_range():
    c = HybridClock(max_drift_ms=MAX_PHYSICAL, wall=lambda: WALL)
    with pytest.raises(HLCFormatError, match="largest value"):
        c.receive(MAX_HLC)
    assert c.last == 0


@pytest.mark.parametrize("bad", ["123", 1.0, float("nan"), True, False, None, -1,
                                 MAX_HLC + 1, 2**64, 2**100, b"\x00" * 8, [1]])
def test_malformed_remote_stamps_are_refused_and_the_clock_stays(bad):
    c = clock(last=pack(WALL, 3))
    with pytest.raises(HLCFormatError):
        c.receive(bad)
    with pytest.raises(HLCFormatError):
        c.check(bad)
    with pytest.raises(HLCFormatError):
        c.observe(bad)
    assert c.last == pack(WALL, 3)


def test_a_negative_drift_or_bad_starting_stamp_is_refused():
    with pytest.raises(ValueError):
        HybridClock(max_drift_ms=-1)
    with pytest.raises(HLCFormatError):
        HybridClock(last=-5)


def test_a_wall_clock_beyond_48_bits_is_an_error_not_a_wrapped_stamp():
    c = HybridClock(wall=lambda: MAX_PHYSICAL + 1)
    with pytest.raises(HLCFormatError):
        c.now()


@given(st.integers(0, MAX_HLC), st.integers(0, MAX_HLC))
def test_receive_returns_more_than_both_or_refuses_without_moving(last, remote):
    c = clock(last=last, drift=60_000)
    try:
        got = c.receive(remote)
    except ClockDriftError:
        assert unpack(remote)[0] - WALL > 60_000 and c.last == last
    except HLCFormatError:
        assert max(last, remote) == MAX_HLC and c.last == last
    else:
        assert got > last and got > remote and got >= pack(WALL, 0) and c.last == got
