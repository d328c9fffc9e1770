"""This node's identity and its single state row (last seq, last HLC, chain head)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .hlc import HybridClock
from .ids import new_ulid
from .prepared import Db, Prepared, connection
from .tables import node_state, nodes
from .visible import INVISIBLE_IN_IDENTIFIERS

GENESIS_HASH = "0" * 64


@dataclass
class NodeCursor:
    last_seq: int
    last_hlc: int
    last_hash: str
    public_key: str | None = None  # this node's, once it has a key: its events are signed


def clean_node_name(name: object) -> str:
    """A node's name as stored and shown to admins and peers; ValueError if unusable."""
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise ValueError("a node name is 1 to 100 characters")
    if _visible(name) != name:
        raise ValueError("a node name must not contain control, invisible or "
                         "text-direction characters")
    return unicodedata.normalize("NFC", name.strip())


def peer_node_name(node_id: str, name: str) -> str:
    """A peer's word on a node's name, as this node keeps and shows it: without the
    characters that clean_node_name refuses in a name a node gives itself (a hostile or
    relayed name could hide or reorder the text around it with them); the node's id if
    nothing else is left."""
    return unicodedata.normalize("NFC", _visible(name).strip()) or node_id


def _visible(name: str) -> str:
    """`name` without control characters, lone surrogates, and the invisible and
    text-direction characters of identifiers (audit/visible.py)."""
    kept = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cs"))
    return INVISIBLE_IN_IDENTIFIERS.sub("", kept)


def init_node(session: Session, name: str, clock: HybridClock) -> str:
    """Create this database's NodeID once; later calls return the stored one. Processes
    starting together on a new database agree: the one row with id 1 decides."""
    name = clean_node_name(name)
    existing = session.execute(sa.select(node_state.c.node_id)).scalar()
    if existing:
        return str(existing)
    node_id = new_ulid()
    try:
        session.execute(
            node_state.insert().values(id=1, node_id=node_id, last_seq=0, last_hlc=0,
                                       last_hash=GENESIS_HASH)
        )
        session.execute(
            nodes.insert().values(node_id=node_id, name=name, is_self=True,
                                  first_seen_hlc=clock.now())
        )
        session.commit()
    except IntegrityError:
        session.rollback()  # another process made the node first: use its id
        return str(session.execute(sa.select(node_state.c.node_id)).scalar_one())
    return node_id


def rename_node(session: Session, name: str) -> str:
    """Give this node a new name; its id (what peers pin and events carry) stays. Returns
    the old name. Peers take the new one from this node's next hello."""
    name = clean_node_name(name)
    where = nodes.c.is_self.is_(True)
    old = session.execute(sa.select(nodes.c.name).where(where)).scalar()
    if old is None:
        raise LookupError("this database has no node yet")
    session.execute(nodes.update().where(where).values(name=name))
    session.commit()
    return str(old)


def load_node(session: Session) -> tuple[str, int] | None:
    """(node_id, last_hlc) of this database, or None before init_node."""
    row = session.execute(sa.select(node_state.c.node_id, node_state.c.last_hlc)).first()
    return (str(row.node_id), int(row.last_hlc)) if row else None


# Run on every audited transaction: prepared (see prepared.py).
_LOCK = node_state.update().where(node_state.c.id == 1).values(last_seq=node_state.c.last_seq)
_STATE = (node_state.c.last_seq, node_state.c.last_hlc, node_state.c.last_hash,
          node_state.c.public_key)
_LOCK_RETURNING = Prepared(_LOCK.returning(*_STATE))
_LOCK_ONLY, _READ = Prepared(_LOCK), Prepared(sa.select(*_STATE))
_SAVE = Prepared(node_state.update().where(node_state.c.id == 1).values(
    last_seq=sa.bindparam("b_seq"), last_hlc=sa.bindparam("b_hlc"),
    last_hash=sa.bindparam("b_hash")))


def lock_node(db: Db) -> Callable[[], NodeCursor]:
    """Take the node's write lock for the rest of the transaction; return how to read
    the state it holds.

    The first statement of every audited transaction is this UPDATE: it takes the row
    lock on PostgreSQL and MariaDB and the write lock on SQLite, and it comes before any
    read, so nothing in the transaction reads a snapshot older than the lock. Where the
    database can (PostgreSQL, SQLite) the UPDATE returns the state: one statement. In a
    pipeline the state is read once the pipeline has synced, so reads queued after the
    lock share its round trip."""
    conn = connection(db)
    if conn.dialect.update_returning:
        statement, result = _LOCK_RETURNING, _LOCK_RETURNING.execute(conn)
    else:
        _LOCK_ONLY.execute(conn)
        statement, result = _READ, _READ.execute(conn)

    def state() -> NodeCursor:
        rows = statement.fetched(conn, result)
        if len(rows) != 1:
            raise RuntimeError("this database has no node yet: run init_node first")
        last_seq, last_hlc, last_hash, public_key = rows[0]
        return NodeCursor(int(last_seq), int(last_hlc), str(last_hash), public_key)
    return state


def save_node(db: Db, cursor: NodeCursor) -> None:
    _SAVE.execute(db, {"b_seq": cursor.last_seq, "b_hlc": cursor.last_hlc,
                            "b_hash": cursor.last_hash})
