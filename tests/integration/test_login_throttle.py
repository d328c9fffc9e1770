"""The failed-login counts on every database: the window, the pair, the address, the sweep."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.auth.throttle import Throttle, login_failures

T0 = 1_800_000_000_000  # a fixed "now", in ms
WINDOW = 60_000


def test_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window(session):
    throttle = Throttle(limit=3, window_ms=WINDOW)
    for at in (T0, T0 + 1_000, T0 + 2_000):
        assert throttle.wait_seconds(session, "ada", "10.0.0.1", at) == 0
        throttle.failed(session, "ada", "10.0.0.1", at)
    assert throttle.wait_seconds(session, "Ada ", "10.0.0.1", T0 + 2_000) == 58
    assert throttle.wait_seconds(session, "ada", "10.0.0.1", T0 + WINDOW - 1) == 1
    assert throttle.wait_seconds(session, "ada", "10.0.0.1", T0 + WINDOW) == 0
    assert throttle.wait_seconds(session, "ada", "10.0.0.2", T0 + 2_000) == 0
    assert throttle.wait_seconds(session, "bob", "10.0.0.1", T0 + 2_000) == 0


def test_the_address_limit_counts_every_username(session):
    throttle = Throttle(limit=2, window_ms=WINDOW)
    for i in range(20):
        throttle.failed(session, f"user-{i}", "10.0.0.1", T0 + i)
    assert throttle.wait_seconds(session, "someone-else", "10.0.0.1", T0 + 30) == 60
    assert throttle.wait_seconds(session, "someone-else", "10.0.0.3", T0 + 30) == 0


def test_success_clears_only_its_pair_and_old_failures_are_swept(session):
    throttle = Throttle(limit=2, window_ms=WINDOW)
    throttle.failed(session, "ada", "10.0.0.1", T0)
    throttle.failed(session, "bob", "10.0.0.1", T0)
    throttle.succeeded(session, "ada", "10.0.0.1")
    left = session.execute(sa.select(login_failures.c.username)).scalars().all()
    assert left == ["bob"]
    throttle.failed(session, "cy", "10.0.0.4", T0 + WINDOW + 1)  # bob's is out of the window
    left = session.execute(sa.select(login_failures.c.username)).scalars().all()
    assert left == ["cy"]
