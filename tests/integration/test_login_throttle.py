"""The failed-login counts on every database: the window, the pair, the address, the sweep."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.auth.throttle import Throttle, login_failures

T0 = 1_800_000_000_000  # a fixed "now", in ms
WINDOW = 60_000


def test_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window(session):
    throttle = Throttle(limit=3, window_ms=WINDOW)
    for at in (T0, T0 + 1_000, T0 + 2_000):
        attempt_id, wait = throttle.attempt(session, "ada", "10.0.0.1", at)
        assert attempt_id is not None and wait == 0
    # Refused attempts are not kept, so asking again changes nothing.
    assert throttle.attempt(session, "Ada ", "10.0.0.1", T0 + 2_000) == (None, 58)
    assert throttle.attempt(session, "ada", "10.0.0.1", T0 + WINDOW - 1) == (None, 1)
    assert throttle.attempt(session, "ada", "10.0.0.2", T0 + 2_000)[1] == 0
    assert throttle.attempt(session, "bob", "10.0.0.1", T0 + 2_000)[1] == 0
    assert throttle.attempt(session, "ada", "10.0.0.1", T0 + WINDOW)[1] == 0


def test_the_address_limit_counts_every_username(session):
    throttle = Throttle(limit=2, window_ms=WINDOW)
    for i in range(20):
        throttle.attempt(session, f"user-{i}", "10.0.0.1", T0 + i)
    assert throttle.attempt(session, "someone-else", "10.0.0.1", T0 + 30) == (None, 60)
    assert throttle.attempt(session, "someone-else", "10.0.0.3", T0 + 30)[1] == 0


def test_success_clears_only_its_pair_and_old_failures_are_swept(session):
    throttle = Throttle(limit=2, window_ms=WINDOW)
    throttle.attempt(session, "ada", "10.0.0.1", T0)
    throttle.attempt(session, "bob", "10.0.0.1", T0)
    throttle.succeeded(session, "ada", "10.0.0.1")
    left = session.execute(sa.select(login_failures.c.username)).scalars().all()
    assert left == ["bob"]
    throttle.attempt(session, "cy", "10.0.0.4", T0 + WINDOW + 1)  # bob's is out of the window
    left = session.execute(sa.select(login_failures.c.username)).scalars().all()
    assert left == ["cy"]


def test_attempts_made_at_the_same_moment_count_each_other(session):
    """A burst of parallel guesses: each is counted before any password is checked, so
    only `limit` of them get a check, whatever the order their checks finish in."""
    throttle = Throttle(limit=3, window_ms=WINDOW)
    made = [throttle.attempt(session, "ada", "10.0.0.1", T0) for _ in range(5)]
    assert [attempt_id is not None for attempt_id, _ in made] == [True] * 3 + [False] * 2
    assert [wait for _, wait in made] == [0, 0, 0, 60, 60]
    assert len(session.execute(sa.select(login_failures.c.id)).all()) == 3  # refused: not kept


def test_a_forgiven_attempt_no_longer_counts(session):
    throttle = Throttle(limit=2, window_ms=WINDOW)
    first, _ = throttle.attempt(session, "ada", "10.0.0.1", T0)
    assert first is not None
    throttle.forgive(session, first)
    assert throttle.attempt(session, "ada", "10.0.0.1", T0)[0] is not None
    assert throttle.attempt(session, "ada", "10.0.0.1", T0)[0] is not None
    assert throttle.attempt(session, "ada", "10.0.0.1", T0)[0] is None
