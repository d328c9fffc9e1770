"""Hybrid logical clock: 48 bits of physical milliseconds, 16 bits of logical counter.

A timestamp is one 64-bit integer, so it sorts as an integer. Its top bit stays clear:
every database stores it in a signed BIGINT, so physical times stop at 2^47 - 1 ms
(the year 6429) and a timestamp at MAX_HLC = 2^63 - 1. Adding one to a timestamp whose
counter is full carries into the physical part, which is exactly the overflow rule we
want: the clock moves one millisecond ahead, under the same lock.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .errors import ClockDriftError, HLCFormatError

PHYSICAL_BITS = 48
LOGICAL_BITS = 16
# The physical part's range: the top bit of the 48 is kept clear for signed BIGINT columns.
MAX_PHYSICAL = (1 << (PHYSICAL_BITS - 1)) - 1
MAX_LOGICAL = (1 << LOGICAL_BITS) - 1
MAX_HLC = (MAX_PHYSICAL << LOGICAL_BITS) | MAX_LOGICAL  # 2^63 - 1

# ASCII digits only: `\d` alone also takes '１２' or '١٢', which int() reads as numbers.
_PRINTED = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})Z\+([0-9a-f]{4})",
                      re.ASCII)
# Beyond year 9999 datetime cannot print the time, so format_hlc prints milliseconds.
_PRINTED_MS = re.compile(r"(\d{1,15})ms\+([0-9a-f]{4})", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def pack(physical_ms: int, logical: int = 0) -> int:
    if not 0 <= physical_ms <= MAX_PHYSICAL:
        raise HLCFormatError(f"physical time {physical_ms} is outside 0..{MAX_PHYSICAL}")
    if not 0 <= logical <= MAX_LOGICAL:
        raise HLCFormatError(f"logical counter {logical} is outside 0..{MAX_LOGICAL}")
    return (physical_ms << LOGICAL_BITS) | logical


def unpack(ts: int) -> tuple[int, int]:
    ts = validate(ts)
    return ts >> LOGICAL_BITS, ts & MAX_LOGICAL


def validate(ts: object) -> int:
    """Return `ts` if it is a valid HLC integer, else raise HLCFormatError."""
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise HLCFormatError(f"an HLC is an integer, got {type(ts).__name__}")
    if not 0 <= ts <= MAX_HLC:
        raise HLCFormatError(f"HLC {ts} is outside 0..{MAX_HLC} (a signed 64-bit column)")
    return ts


def to_datetime(ts: int) -> datetime:
    physical, _ = unpack(ts)
    return datetime.fromtimestamp(physical / 1000, tz=UTC)


def format_hlc(ts: int) -> str:
    """Readable form: UTC time to the millisecond, then the counter in hex. (gmtime and
    an f-string: twice as fast as datetime's formatting; an export prints one per event.)"""
    physical, logical = unpack(ts)
    seconds, millis = divmod(physical, 1000)
    t = time.gmtime(seconds)
    if t.tm_year > 9999:  # beyond what datetime (and so parse_hlc's form) can hold
        return f"{physical}ms+{logical:04x}"
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{millis:03d}Z+{logical:04x}")


def parse_hlc(text: str) -> int:
    """Inverse of format_hlc; also accepts the bare integer form. Anything else, including
    a non-string, raises HLCFormatError."""
    if not isinstance(text, str):
        raise HLCFormatError(f"an HLC is written as text, got {type(text).__name__}")
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 20:
        return validate(int(text))
    if match := _PRINTED_MS.fullmatch(text):
        return pack(int(match.group(1)), int(match.group(2), 16))
    match = _PRINTED.fullmatch(text)
    try:
        if not match:
            raise ValueError
        moment = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        raise HLCFormatError(f"not an HLC: {text[:60]!r}") from None
    physical = (moment - _EPOCH) // timedelta(milliseconds=1)
    return pack(physical, int(match.group(2), 16))


class HybridClock:
    """A thread-safe HLC. `now()` strictly increases; `receive()` applies the bounded rule."""

    def __init__(
        self,
        max_drift_ms: int = 60_000,
        wall: Callable[[], int] = wall_ms,
        last: int = 0,
    ) -> None:
        if max_drift_ms < 0:
            raise ValueError("max_drift_ms must not be negative")
        self.max_drift_ms = max_drift_ms
        self._wall = wall
        self._last = validate(last)
        self._lock = threading.Lock()

    @property
    def last(self) -> int:
        return self._last

    def now(self) -> int:
        with self._lock:
            self._last = self._next(self._last + 1)
            return self._last

    def observe(self, ts: int) -> None:
        """Advance to at least `ts`, a timestamp this node itself issued (e.g. read back
        from its database after a restart or from another worker process)."""
        ts = validate(ts)
        with self._lock:
            self._last = max(self._last, ts)

    def receive(self, remote: int) -> int:
        """Merge a remote timestamp and return a new local one greater than both.

        A remote physical time more than `max_drift_ms` ahead of our wall clock is
        refused with ClockDriftError and the clock is left exactly as it was.
        """
        remote = validate(remote)
        with self._lock:
            wall = self._wall()
            self._refuse_drift(remote, wall)
            self._last = self._next(max(self._last, remote) + 1, wall)
            return self._last

    def check(self, remote: int) -> None:
        """Raise ClockDriftError if `receive(remote)` would refuse it; change nothing."""
        self._refuse_drift(validate(remote), self._wall())

    def _refuse_drift(self, remote: int, wall: int) -> None:
        ahead = (remote >> LOGICAL_BITS) - wall
        if ahead > self.max_drift_ms:
            raise ClockDriftError(
                f"remote time {format_hlc(remote)} is {ahead} ms ahead of the local clock; "
                f"the maximum drift is {self.max_drift_ms} ms"
            )

    def _next(self, candidate: int, wall: int | None = None) -> int:
        physical = self._wall() if wall is None else wall
        if physical > MAX_PHYSICAL:
            raise HLCFormatError("the wall clock is beyond 2^47 ms (the year 6429)")
        if candidate > MAX_HLC:
            raise HLCFormatError("the HLC has reached its largest value")
        return max(physical << LOGICAL_BITS, candidate)
