"""What each peer has acknowledged of this node's log: a peer asking for events after
seq N holds every event up to N (its cursor moves only in the transaction that applies
them). Kept as the peer's latest `after`, not its greatest, so a peer that starts again
(a restored or rebuilt node) lowers it and holds compaction back. Compaction removes
nothing a peer has not acknowledged (webapp/audit/compaction/)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.tables import TABLE_ARGS, metadata
from .tables import peers

peer_acks = sa.Table(
    "peer_acks",
    metadata,
    sa.Column("peer", sa.String(100), primary_key=True),
    sa.Column("acked_seq", sa.BigInteger, nullable=False),
    sa.Column("acked_ms", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)


def record_ack(session: Session, peer: str, seq: int, now_ms: int) -> None:
    """Note that `peer` holds this node's events up to `seq`. Commits its own small
    transaction (the sync routes only read otherwise)."""
    session.rollback()
    values = {"acked_seq": seq, "acked_ms": now_ms}
    done = session.execute(peer_acks.update().where(peer_acks.c.peer == peer).values(**values))
    if not done.rowcount:  # type: ignore[attr-defined]
        session.execute(peer_acks.insert().values(peer=peer, **values))
    session.commit()


def acknowledged(session: Session) -> dict[str, int | None]:
    """{every known peer: the seq of this node's log it has acknowledged, or None}. An
    acknowledgement older than the peer (removed and added again) does not count."""
    a = peer_acks.c
    rows = session.execute(
        sa.select(peers.c.name, a.acked_seq)
        .outerjoin(peer_acks, sa.and_(a.peer == peers.c.name, a.acked_ms >= peers.c.created_ms))
        .order_by(peers.c.name)).all()
    return {name: (None if seq is None else int(seq)) for name, seq in rows}
