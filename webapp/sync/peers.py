"""The peer store: who this node pulls from and serves to, and how the last sync went.
Each write is its own small transaction, separate from the applied batches."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.hlc import pack
from ..audit.keys import clean_fingerprint
from ..audit.tables import nodes
from .signing import MIN_SECRET_LENGTH, key_id, now_ms
from .tables import peers

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
MAX_ERROR_CHARS = 2000


class PeerError(Exception):
    """A peer that cannot be added, found or used as asked; the message says why."""


@dataclass(frozen=True)
class Peer:
    name: str
    url: str | None
    secret: str
    key_id: str
    node_id: str | None
    key_fingerprint: str | None  # pinned by hand (`peers add --key`), cleaned
    head_seq: int | None
    last_attempt_ms: int | None
    last_success_ms: int | None
    last_error: str | None
    created_ms: int

    @classmethod
    def from_row(cls, row: Any) -> Peer:
        return cls(**dict(row._mapping))


def check_url(url: str, insecure: bool = False) -> str:
    """A peer's base URL. HTTPS, unless the peer is on this machine (loopback) or the
    admin said `insecure`: sync responses carry every account's password hash and email,
    and the HMAC signs them but does not hide them."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PeerError(f"peer URL must be http(s)://host[:port][/path], got {url[:100]!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise PeerError("peer URL must not carry a query, fragment or credentials")
    if len(url) > 500:
        raise PeerError("peer URL is longer than 500 characters")
    if parts.scheme == "http" and not insecure and not is_loopback(parts.hostname):
        raise PeerError("peer URL must be https:// (sync carries password hashes and emails); "
                        "plain http:// only for a loopback address, or with --insecure")
    return url


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_secret(secret: str) -> str:
    secret = secret.strip()
    if len(secret) < MIN_SECRET_LENGTH or len(secret) > 200:
        raise PeerError(f"a peer secret must be {MIN_SECRET_LENGTH} to 200 characters "
                        f"(got {len(secret)}); `flask peers secret` prints a good one")
    if any(ch.isspace() or not ch.isprintable() for ch in secret):
        raise PeerError("a peer secret must be printable characters without spaces")
    return secret


def add_peer(session: Session, name: str, url: str | None, secret: str,
             key: str | None = None, insecure: bool = False) -> Peer:
    """`key`: the peer's key fingerprint (or whole public key), pinned before first contact.
    `insecure`: a plain http:// URL to another host is accepted (see check_url)."""
    if not _NAME.match(name or ""):
        raise PeerError("peer name: lowercase letters, digits, '-' and '_', at most 100")
    secret = check_secret(secret)
    try:
        pinned = None if key is None else clean_fingerprint(key)
    except ValueError as exc:
        raise PeerError(f"--key: {exc}") from None
    row = {"name": name, "url": check_url(url, insecure) if url else None, "secret": secret,
           "key_id": key_id(secret), "created_ms": now_ms(), "key_fingerprint": pinned}
    session.rollback()
    if get_peer(session, name) is not None:
        raise PeerError(f"a peer named {name!r} already exists; remove it first")
    if find_by_key_id(session, row["key_id"]) is not None:
        raise PeerError("another peer already uses this secret; give each peer its own")
    session.execute(peers.insert().values(**row))
    session.commit()
    found = get_peer(session, name)
    assert found is not None
    return found


def remove_peer(session: Session, name: str) -> None:
    deleted = session.execute(peers.delete().where(peers.c.name == name)).rowcount  # type: ignore[attr-defined]
    session.commit()
    if not deleted:
        raise PeerError(f"no peer named {name!r}")


def get_peer(session: Session, name: str) -> Peer | None:
    row = session.execute(sa.select(peers).where(peers.c.name == name)).first()
    return Peer.from_row(row) if row else None


def find_by_key_id(session: Session, kid: str) -> Peer | None:
    row = session.execute(sa.select(peers).where(peers.c.key_id == kid)).first()
    return Peer.from_row(row) if row else None


_ALL = sa.select(peers).order_by(peers.c.name)  # built once: the home page reads it


def list_peers(session: Session) -> list[Peer]:
    return [Peer.from_row(r) for r in session.execute(_ALL)]


def _update(session: Session, name: str, **values: Any) -> None:
    session.rollback()  # never commit a half-done batch along with the bookkeeping
    session.execute(peers.update().where(peers.c.name == name).values(**values))
    session.commit()


def pin_node_id(session: Session, name: str, node_id: str) -> None:
    _update(session, name, node_id=node_id)


def record_success(session: Session, name: str, head_seq: int) -> None:
    at = now_ms()
    _update(session, name, head_seq=head_seq, last_attempt_ms=at, last_success_ms=at,
            last_error=None)


def record_error(session: Session, name: str, message: str, head_seq: int | None = None) -> None:
    values: dict[str, Any] = {"last_attempt_ms": now_ms(), "last_error": message[:MAX_ERROR_CHARS]}
    if head_seq is not None:
        values["head_seq"] = head_seq
    _update(session, name, **values)


def node_name(session: Session, node_id: str) -> str:
    """A node's name as this database knows it ('' for an unknown node)."""
    found = session.execute(sa.select(nodes.c.name).where(nodes.c.node_id == node_id)).scalar()
    return str(found or "")


def remember_nodes(session: Session, names: dict[str, str], speaker: str | None = None) -> None:
    """Add nodes a peer told us about (itself, and origins it relays) to the nodes
    table, so pages can show their names. Known nodes keep the name they have, except
    the `speaker`: the authenticated peer's word on its own name is taken (a rename),
    never a relay's word on another node's."""
    session.rollback()
    known: dict[str, str] = {row.node_id: row.name for row in session.execute(
        sa.select(nodes.c.node_id, nodes.c.name).where(nodes.c.is_self.is_(False)))}
    mine = set(session.execute(sa.select(nodes.c.node_id).where(nodes.c.is_self.is_(True)))
               .scalars())
    fresh = [{"node_id": node_id, "name": name, "is_self": False,
              "first_seen_hlc": pack(now_ms(), 0)}
             for node_id, name in sorted(names.items())
             if node_id not in known and node_id not in mine]
    renamed = speaker in known and speaker in names and known[speaker] != names[speaker]
    if not fresh and not renamed:
        return
    try:
        if fresh:
            session.execute(nodes.insert(), fresh)
        if renamed:
            session.execute(nodes.update().where(nodes.c.node_id == speaker)
                            .values(name=names[str(speaker)]))
        session.commit()
    except IntegrityError:  # another process added one meanwhile; names are cosmetic
        session.rollback()
