"""Snapshots of a node's state: every record (its fields, version and version vector),
every tombstone, each origin's chain head and the HLC frontier, as of one consistent
point of the log, written as a JSON Lines file in bounded memory; after compaction, also
each record's base event (whole, as its origin signed it) and where each chain and the
log now start: what a new node bootstraps from (compaction/bootstrap.py).

The file: a header line (format, snapshot id, node, the log's seq and the clock at the
point, the chain heads), then one line per record (entity by entity, by id), one per
tombstone, and an end line with the counts and the SHA-256 of every line before it, so
a reader knows it has the whole file and that it is intact. Every line is canonical
JSON. Everything is read in one transaction that sees one snapshot of the database
(verifier.snapshot), so the records, tombstones and heads are those of the same point
of the log however long writing takes, and the node goes on writing meanwhile."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import canonical
from .compaction.points import compacted_through, epoch
from .compaction.tables import BASE_EVENT_COLUMNS, compacted_records, compaction_origins
from .entity import Registry
from .events import ChangeEvent
from .lookups import last_state
from .node import GENESIS_HASH
from .replication.chaintables import chain_heads as replication_chain_heads
from .replication.wire import event_to_wire
from .tables import change_events as ev
from .tables import node_state, nodes, tombstones
from .transaction import record_from_row, state_of
from .verify.verifier import snapshot as consistent_read

FORMAT = "hindsight-snapshot-v1"
PAGE = 1000  # rows per read: the only rows held at once
Progress = Callable[[int, int], None]  # (lines written, lines in all)


@dataclass(frozen=True)
class Summary:
    snapshot_id: str
    last_seq: int
    hlc_frontier: int
    records: int
    tombstones: int
    sha256: str


def write(session: Session, registry: Registry, out: IO[bytes], snapshot_id: str,
          created_ms: int, progress: Progress | None = None) -> Summary:
    """Write the snapshot to `out`; read-only on the database (ends its transaction)."""
    consistent_read(session)
    try:
        state = session.execute(sa.select(node_state)).first()
        if state is None:
            raise ValueError("this database has no node yet: nothing to snapshot")
        total = _count(session, registry)
        digest, done = hashlib.sha256(), 0
        header = {"kind": "header", "format": FORMAT, "snapshot_id": snapshot_id,
                  "node_id": state.node_id, "created_ms": created_ms,
                  "last_seq": int(state.last_seq), "hlc_frontier": int(state.last_hlc),
                  "entities": {e.name: e.schema_version for e in registry},
                  "heads": chain_heads(session),
                  # Where this node's log and chains start after compaction: a node
                  # bootstrapping from here takes the base lines and pulls from there.
                  "compacted_through": compacted_through(session),
                  # This node's restart epoch: a node bootstrapped from here spares it
                  # "snapshot required" only while it has not started again since.
                  "epoch": epoch(session),
                  "starts": chain_starts(session),
                  # The head of each origin's chain this node holds: a node coming
                  # back keeps (and replays) its own events after its head here.
                  "chains": held_heads(session, state)}
        _line(out, digest, header)
        counts = {"record": 0, "tombstone": 0, "base": 0}
        for doc in _items(session, registry):
            _line(out, digest, doc)
            counts[doc["kind"]] += 1
            done += 1
            if progress is not None and (done % PAGE == 0 or done == total):
                progress(done, total)
        summary = Summary(snapshot_id, int(state.last_seq), int(state.last_hlc),
                          counts["record"], counts["tombstone"], digest.hexdigest())
        _line(out, None, {"kind": "end", "records": summary.records,
                          "tombstones": summary.tombstones, "bases": counts["base"],
                          "sha256": summary.sha256})
        return summary
    finally:
        session.rollback()


def chain_heads(session: Session) -> dict[str, dict[str, Any]]:
    """{origin node id: its chain's last event here (event id, this node's seq, HLC,
    hash and signature), and the last signed one when that one carries none}."""
    heads: dict[str, dict[str, Any]] = {}
    known = session.execute(sa.select(nodes.c.node_id, nodes.c.public_key)
                            .order_by(nodes.c.node_id)).all()
    for origin, public_key in known:
        head = _last(session, origin)
        if head is None:
            continue
        if head["signature"] is None and public_key is not None:  # only keyed origins sign
            head["signed"] = _last(session, origin, signed=True)
        heads[origin] = head
    return heads


def chain_starts(session: Session) -> dict[str, dict[str, Any]]:
    """{origin: where its chain here starts (its last compacted event's hash, HLC, id
    and signature)}, for the origins compaction cut."""
    c = compaction_origins.c
    return {row.origin_node_id: {"hash": row.start_hash, "hlc": int(row.start_hlc),
                                 "event_id": row.start_event_id,
                                 "signature": row.start_signature}
            for row in session.execute(sa.select(compaction_origins)
                                       .order_by(c.origin_node_id))}


def held_heads(session: Session, state: Any) -> dict[str, dict[str, Any]]:
    """{origin: the hash and HLC its chain here ends at}: this node's own, and every
    origin whose events it holds (compacted or not)."""
    c = replication_chain_heads.c
    heads = {row.origin_node_id: {"hash": row.last_hash, "hlc": int(row.last_hlc)}
             for row in session.execute(sa.select(replication_chain_heads)
                                        .order_by(c.origin_node_id))}
    if state.last_hash != GENESIS_HASH:
        heads[state.node_id] = {"hash": state.last_hash, "hlc": int(state.last_hlc)}
    return heads


def _last(session: Session, origin: str, signed: bool = False) -> dict[str, Any] | None:
    # An origin's chain runs in its HLC order: its head is its event with the greatest.
    query = sa.select(ev.c.event_id, ev.c.seq, ev.c.hlc, ev.c.hash, ev.c.signature).where(
        ev.c.origin_node_id == origin)
    if signed:
        query = query.where(ev.c.signature.is_not(None))
    row = session.execute(query.order_by(ev.c.hlc.desc(), ev.c.event_id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def _count(session: Session, registry: Registry) -> int:
    tables = [e.table for e in registry] + [tombstones, compacted_records]
    return sum(int(session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
               for t in tables)


def _items(session: Session, registry: Registry) -> Iterator[dict[str, Any]]:
    for entity in registry:
        table = entity.table
        for row in _pages(session, table, [table.c.id]):
            record = record_from_row(row)
            yield {"kind": "record", "entity": entity.name, "id": record["id"],
                   "version": record["version"], "vv": record["vv"], "hlc": record["hlc"],
                   "origin_node_id": record["origin_node_id"],
                   "state": state_of(entity, record)}
    t = tombstones.c
    for row in _pages(session, tombstones, [t.entity, t.record_id]):
        doc = dict(row._mapping)
        doc["vv"] = canonical.loads(doc["vv"])
        if doc["entity"] in registry:  # at the schema the header names, like the records
            entity = registry.get(doc["entity"])
            doc["last_state"] = last_state(entity, doc["last_state"], doc["schema_version"])
            doc["schema_version"] = entity.schema_version
        else:
            doc["last_state"] = canonical.loads(doc["last_state"])
        yield {"kind": "tombstone", **doc}
    cr = compacted_records.c  # base events as their origins wrote them (never upcast:
    for row in _pages(session, compacted_records, [cr.entity, cr.record_id]):  # signed)
        yield {"kind": "base", "event": event_to_wire(ChangeEvent.from_row(
            {c.name: row._mapping[c.name] for c in BASE_EVENT_COLUMNS}))}


def _pages(session: Session, table: sa.Table,
           key: list[sa.Column[Any]]) -> Iterator[sa.Row[Any]]:
    """Every row of `table` in `key` order, PAGE rows per query (keyset, no OFFSET)."""
    after: tuple[Any, ...] | None = None
    while True:
        query = sa.select(table).order_by(*key).limit(PAGE)
        if after is not None:
            query = query.where(sa.tuple_(*key) > sa.tuple_(*after))
        rows = session.execute(query).all()
        yield from rows
        if len(rows) < PAGE:
            return
        after = tuple(rows[-1]._mapping[c.name] for c in key)


def _line(out: IO[bytes], digest: Any, doc: dict[str, Any]) -> None:
    line = canonical.dumps(doc).encode() + b"\n"
    if digest is not None:
        digest.update(line)
    out.write(line)
