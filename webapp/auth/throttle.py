"""Failed logins, counted in the database so that every worker process sees them.

A username tried from one address gets `limit` failures per window; then its logins from
there are refused until the oldest of those failures leaves the window. One address gets
ten times that over all the usernames it tries (password spraying). An IPv6 address
counts as its /64, the block one host or customer usually holds. A username tried from
many addresses is slowed, not locked: past twice `limit` failures in the window, each
further attempt waits 1, 2, 4 … at most 60 seconds after the one before, so a botnet gets
a guess a minute and the account's owner gets in after a minute at worst. A successful
login clears its pair."""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.tables import TABLE_ARGS, metadata
from ..housekeeping import sweep

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("address", sa.String(45), nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    # One index for both counts: an address's failures, and a pair's.
    sa.Index("ix_login_failures_address", "address", "username", "at_ms"),
    sa.Index("ix_login_failures_at", "at_ms"),  # the sweep of failures out of the window
    sa.Index("ix_login_failures_username", "username", "at_ms"),  # a username's, anywhere
    **TABLE_ARGS,
)

ADDRESS_FACTOR = 10  # an address may fail this many times the per-username limit
USERNAME_FACTOR = 2  # a username fails this many times the limit, anywhere, before slowing
MAX_GAP_MS = 60_000  # the longest a slowed username waits between attempts


@dataclass(frozen=True)
class Throttle:
    limit: int  # failures per username and address within the window
    window_ms: int

    def attempt(self, session: Session, username: str, address: str,
                now_ms: int | None = None) -> tuple[int | None, int]:
        """Count an attempt as a failure before its password is checked, so attempts
        made at the same moment count each other (checking first and counting after
        would let a burst of parallel guesses all pass). Returns (its id, 0), or
        (None, seconds to wait) when it is one too many: then it is not kept. Then
        sweeps the failures out of the window."""
        now = _now(now_ms)
        user, addr = _keys(username, address)
        session.rollback()
        made = session.execute(login_failures.insert().values(
            address=addr, username=user, at_ms=now))
        attempt_id = int(made.inserted_primary_key[0])
        session.commit()
        # Its own row is the newest of the limit + 1 counted, so the wait is the one
        # the others leave once it is taken back.
        wait = max(self._wait(session, user, addr, now),
                   self._gap(session, user, attempt_id, now))
        sweep(session, login_failures.delete().where(
            login_failures.c.at_ms <= now - self.window_ms), "login failure sweep")
        if wait:
            self.forgive(session, attempt_id)
            return None, wait
        return attempt_id, 0

    def forgive(self, session: Session, attempt_id: int) -> None:
        """Take back an attempt that was no guess (a disabled account's right password)."""
        session.execute(login_failures.delete().where(login_failures.c.id == attempt_id))
        session.commit()

    def succeeded(self, session: Session, username: str, address: str) -> None:
        clear(session, username, address)

    def _wait(self, session: Session, user: str, addr: str, now: int) -> int:
        """Seconds to wait if the attempt just stored is one over a limit; else 0."""
        c = login_failures.c
        waits = [0]
        for match, allowed in ((c.address == addr, self.limit * ADDRESS_FACTOR + 1),
                               (sa.and_(c.address == addr, c.username == user),
                                self.limit + 1)):
            newest = session.execute(
                sa.select(c.at_ms).where(match, c.at_ms > now - self.window_ms)
                .order_by(c.at_ms.desc(), c.id.desc()).limit(allowed)).scalars().all()
            if len(newest) >= allowed:  # free again once the oldest of them is out
                waits.append(newest[-1] + self.window_ms - now)
        return math.ceil(max(waits) / 1000)


    def _gap(self, session: Session, user: str, attempt_id: int, now: int) -> int:
        """Seconds this username must still wait after its newest earlier failure (from
        any address) once it is past its allowance; else 0."""
        allowance, c = self.limit * USERNAME_FACTOR, login_failures.c
        earlier = session.execute(
            sa.select(c.at_ms).where(c.username == user, c.id != attempt_id,
                                     c.at_ms > now - self.window_ms)
            .order_by(c.at_ms.desc()).limit(allowance + 7)).scalars().all()
        if len(earlier) < allowance:
            return 0
        gap = min(1000 << (len(earlier) - allowance), MAX_GAP_MS)
        return max(0, math.ceil((earlier[0] + gap - now) / 1000))


def clear(session: Session, username: str, address: str | None = None) -> int:
    """Forget the failed logins of `username` (from `address`, or from everywhere);
    how many there were. A success does it for its pair; an admin, with the CLI."""
    user, addr = _keys(username, address or "")
    c = login_failures.c
    where = [c.username == user] + ([c.address == addr] if address is not None else [])
    cleared = session.execute(login_failures.delete().where(*where)).rowcount
    session.commit()
    return int(cleared)


def _keys(username: str, address: str) -> tuple[str, str]:
    """As stored: usernames are compared lowercase (as accounts store them), addresses
    as the block they count in."""
    return username.strip().lower()[:100], address_block(address)


def address_block(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address as its /64 (one host or customer can
    hold the whole block); anything else as given."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "unknown")[:45]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def _now(now_ms: Any) -> int:
    return time.time_ns() // 1_000_000 if now_ms is None else int(now_ms)
