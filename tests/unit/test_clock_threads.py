"""HybridClock.now(): strictly increasing across threads, at a frozen millisecond, over
counter overflow and when the wall clock steps back."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.audit.hlc import MAX_LOGICAL, HybridClock, pack, unpack

FROZEN_MS = 1_700_000_000_000


def frozen(ms: int = FROZEN_MS) -> Callable[[], int]:
    return lambda: ms


def hammer(clock: HybridClock, threads: int, per_thread: int) -> list[list[int]]:
    """Call now() from many threads at once; each thread's stamps in call order."""
    start = threading.Barrier(threads)
    seen: list[list[int]] = [[] for _ in range(threads)]

    def work(mine: list[int]) -> None:
        start.wait()
        for _ in range(per_thread):
            mine.append(clock.now())

    workers = [threading.Thread(target=work, args=(seen[i],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return seen


def assert_strictly_rising_and_unique(seen: list[list[int]]) -> list[int]:
    for stamps in seen:
        assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False)), "a thread went back"
    every = [ts for stamps in seen for ts in stamps]
    assert len(set(every)) == len(every), "two calls got the same timestamp"
    return sorted(every)


def test_many_threads_in_one_millisecond_get_distinct_rising_stamps():
    clock = HybridClock(wall=frozen())
    every = assert_strictly_rising_and_unique(hammer(clock, threads=16, per_thread=2000))
    # The counter took every value in turn: nothing skipped, nothing reused.
    assert every == list(range(pack(FROZEN_MS, 0), pack(FROZEN_MS, 0) + len(every)))


def test_counter_overflow_under_threads_moves_one_millisecond_on_without_duplicates():
    start = pack(FROZEN_MS, MAX_LOGICAL - 500)
    clock = HybridClock(wall=frozen(), last=start)
    every = assert_strictly_rising_and_unique(hammer(clock, threads=8, per_thread=1000))
    assert every == list(range(start + 1, start + 1 + 8000))
    physical, logical = unpack(every[-1])
    assert physical == FROZEN_MS + 1 and logical == 8000 - 501


def test_counter_overflow_by_a_single_call_carries_into_the_milliseconds():
    clock = HybridClock(wall=frozen(), last=pack(FROZEN_MS, MAX_LOGICAL))
    assert unpack(clock.now()) == (FROZEN_MS + 1, 0)
    assert unpack(clock.now()) == (FROZEN_MS + 1, 1)


def test_wall_clock_stepping_back_never_moves_the_clock_back():
    wall = [FROZEN_MS]
    clock = HybridClock(wall=lambda: wall[0])
    before = clock.now()
    wall[0] -= 3_600_000  # NTP steps the clock back an hour
    after = [clock.now() for _ in range(5)]
    assert before < after[0] < after[1] < after[4]
    assert unpack(after[0]) == (FROZEN_MS, 1)  # holds the old millisecond, counts on
    wall[0] = FROZEN_MS + 10  # the wall clock catches up: physical time leads again
    assert unpack(clock.now()) == (FROZEN_MS + 10, 0)


def test_stepping_back_under_threads_stays_unique_and_rising():
    ticks = iter(range(10**9))
    lock = threading.Lock()

    def jittery() -> int:  # jumps back and forth by up to a second
        with lock:
            n = next(ticks)
        return FROZEN_MS + (n * 7919) % 1000 - 500

    clock = HybridClock(wall=jittery)
    assert_strictly_rising_and_unique(hammer(clock, threads=8, per_thread=1000))


def test_a_clock_starts_from_the_last_stamp_it_is_given():
    clock = HybridClock(wall=frozen(FROZEN_MS - 60_000), last=pack(FROZEN_MS, 9))
    assert clock.now() == pack(FROZEN_MS, 10)


def test_observe_never_moves_the_clock_back():
    clock = HybridClock(wall=frozen(), last=pack(FROZEN_MS, 50))
    clock.observe(pack(FROZEN_MS, 10))
    assert clock.last == pack(FROZEN_MS, 50)
    clock.observe(pack(FROZEN_MS + 5, 0))
    assert clock.now() == pack(FROZEN_MS + 5, 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["now", "observe", "wall"]),
                          st.integers(-10_000, 10_000)), max_size=60))
def test_any_sequence_of_calls_and_wall_jumps_keeps_now_strictly_rising(steps):
    wall = [FROZEN_MS]
    clock = HybridClock(wall=lambda: wall[0])
    floor = 0  # every stamp issued or observed so far
    for action, amount in steps:
        if action == "wall":
            wall[0] = max(0, wall[0] + amount)
        elif action == "observe":
            seen = pack(FROZEN_MS + amount, abs(amount) % (MAX_LOGICAL + 1))
            clock.observe(seen)
            floor = max(floor, seen)
        else:
            ts = clock.now()
            assert ts > floor
            assert unpack(ts)[0] >= wall[0]  # never behind the wall clock either
            floor = ts
