"""What each peer has acknowledged of this node's log, and since when that holds for
everything it will still send.

A peer starting a pull says `after` (its committed cursor on this log: it holds every
event up to there) and `have` (its own log's last seq, read together with that
cursor). Any event the peer writes later, past `have`, was written by a node that had
seen this node's events through `after`. So once this node has pulled the peer's log
through `have`, nothing the peer can still send was made without those events: only
then may compaction take them (a late concurrent edit always finds its common ancestor,
SPEC 6). Until then the previous settled acknowledgement counts. Requests without
`have` (the prefetched next batches of a pull, or an older peer) acknowledge nothing.
Kept as the peer's latest, not its greatest, so a peer that starts again (a restored
node) lowers it and holds compaction back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.compaction.points import mark_arrival
from ..audit.replication.tracking import read_cursor
from ..audit.tables import TABLE_ARGS, metadata, nodes
from .tables import peers

peer_acks = sa.Table(
    "peer_acks",
    metadata,
    sa.Column("peer", sa.String(100), primary_key=True),
    sa.Column("acked_seq", sa.BigInteger, nullable=False),
    sa.Column("acked_head", sa.BigInteger),  # the peer's own last seq when it acked
    sa.Column("settled_seq", sa.BigInteger),  # the latest ack whose `have` is pulled here
    sa.Column("acked_ms", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)


def record_ack(session: Session, peer: str, peer_node_id: str | None, seq: int, head: int,
               now_ms: int) -> None:
    """Note that `peer` holds this node's events up to `seq` while its log ended at
    `head`. Commits its own small transaction (the sync routes only read otherwise)."""
    session.rollback()
    a = peer_acks.c
    old = session.execute(sa.select(a.acked_seq, a.acked_head, a.settled_seq)
                          .where(a.peer == peer)).first()
    settled = None if old is None else old.settled_seq
    pulled = read_cursor(session, peer_node_id) if peer_node_id else 0
    if old is not None and old.acked_head is not None and pulled >= old.acked_head:
        settled = old.acked_seq
    if settled is not None and seq < settled:  # the peer started again: it holds less
        settled = seq
    values = {"acked_seq": seq, "acked_head": head, "settled_seq": settled, "acked_ms": now_ms}
    if old is None:
        session.execute(peer_acks.insert().values(peer=peer, **values))
    else:
        session.execute(peer_acks.update().where(a.peer == peer).values(**values))
    mark_arrival(session, now_ms)  # and when this node's log reached its seq (retention)
    session.commit()


def acknowledged(session: Session, own_node_id: str) -> dict[str, int | None]:
    """{every known node but this one: the seq of this node's log below which nothing
    it can still send was made without seeing, or None when unknown}. Peers by name;
    a known node that is not a peer (met through a relay) by id, always None: this node
    cannot know what it has seen. An acknowledgement older than the peer (removed and
    added again) does not count."""
    a = peer_acks.c
    rows = session.execute(
        sa.select(peers.c.name, peers.c.node_id, a.acked_seq, a.acked_head, a.settled_seq)
        .outerjoin(peer_acks, sa.and_(a.peer == peers.c.name, a.acked_ms >= peers.c.created_ms))
        .order_by(peers.c.name)).all()
    out: dict[str, int | None] = {}
    for row in rows:
        pulled = read_cursor(session, row.node_id) if row.node_id else 0
        if row.acked_seq is not None and row.acked_head is not None and pulled >= row.acked_head:
            out[row.name] = int(row.acked_seq)
        else:
            out[row.name] = None if row.settled_seq is None else int(row.settled_seq)
    as_peers = {row.node_id for row in rows}
    for node_id in session.execute(sa.select(nodes.c.node_id).order_by(nodes.c.node_id)
                                   .where(nodes.c.node_id != own_node_id)).scalars():
        if node_id not in as_peers:
            out[f"node {node_id} (not a peer)"] = None
    return out
