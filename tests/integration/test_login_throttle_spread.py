"""Guesses spread over many addresses: an IPv6 /64 counts as one address, and a username
tried from everywhere is slowed (never locked) on every database."""

from __future__ import annotations

import pytest

from webapp.auth.throttle import MAX_GAP_MS, Throttle, address_block

T0 = 1_800_000_000_000
WINDOW = 900_000


@pytest.mark.parametrize("given, block", [
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:10.0.0.1", "10.0.0.1"),
    ("10.0.0.1", "10.0.0.1"),
    ("not an address", "not an address"),
])
def test_an_ipv6_address_counts_as_its_64(given, block):
    assert address_block(given) == block


def test_many_addresses_of_one_64_share_one_allowance(session):
    throttle = Throttle(limit=5, window_ms=WINDOW)
    answers = [throttle.attempt(session, "admin", f"2001:db8:1:2::{i:x}", T0 + i)
               for i in range(1, 101)]
    assert sum(attempt_id is not None for attempt_id, _ in answers) == 5
    # Another /64 is another address (but the username itself is now slowed: see below).
    assert throttle.attempt(session, "other", "2001:db8:1:3::1", T0 + 2000)[0] is not None


def test_a_64_sprays_usernames_within_ten_times_the_limit(session):
    throttle = Throttle(limit=2, window_ms=WINDOW)
    answers = [throttle.attempt(session, f"user-{i}", f"2001:db8::{i:x}", T0 + i)
               for i in range(1, 40)]
    assert sum(attempt_id is not None for attempt_id, _ in answers) == 20


def test_a_username_tried_from_many_addresses_is_slowed_not_locked(session):
    throttle = Throttle(limit=3, window_ms=WINDOW)
    now = T0
    for i in range(6):  # twice the limit, each from its own address: no wait yet
        assert throttle.attempt(session, "admin", f"10.0.{i}.1", now)[1] == 0
    # The 7th waits a second after the 6th, the 8th two, then 4, 8, … at most 60.
    gaps = []
    for i in range(6, 16):
        attempt_id, wait = throttle.attempt(session, "admin", f"10.0.{i}.1", now)
        assert attempt_id is None and wait > 0
        gaps.append(wait)
        now += wait * 1000
        assert throttle.attempt(session, "admin", f"10.0.{i}.1", now)[1] == 0
    assert gaps == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    # Never a lock: a minute after the newest failure the username may try again,
    # however many failures the window holds.
    assert throttle.attempt(session, "admin", "10.9.9.9", now + MAX_GAP_MS)[1] == 0
    # Other usernames are not slowed by it.
    assert throttle.attempt(session, "ada", "10.9.9.8", now + 1)[1] == 0
