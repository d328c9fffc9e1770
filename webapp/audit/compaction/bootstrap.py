"""A brand-new node starting from a peer's snapshot instead of replaying its whole log.

In one transaction: every record and tombstone of the snapshot is written as it is;
each origin's chain head becomes where this node's copy of that chain starts (the head
it accepted, and the compacted start verification proves the rest from); the cursor on
the peer's log moves to the snapshot's seq, and the clock to its frontier. Incremental
sync then goes on from there. Only a node with no events and no records of its own may
bootstrap: a node with history of its own would need its unsent events replayed through
conflict detection against the snapshot, which is not done here (it is refused)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Registry
from ..prepared import insert_rows
from ..replication.chaintables import chain_heads
from ..replication.tracking import move_cursor
from ..snapshot import FORMAT
from ..tables import change_events, node_state, tombstones
from .tables import compacted_records, compaction_origins

PAGE = 1000  # lines written at once
Progress = Callable[[int, int], None]  # (lines done, lines in all)


class BootstrapError(ValueError):
    """This node cannot bootstrap from that snapshot (the reason says why)."""


@dataclass(frozen=True)
class Bootstrapped:
    snapshot_id: str
    last_seq: int
    records: int
    tombstones: int


def check_fresh(session: Session, registry: Registry) -> None:
    """BootstrapError unless this node has no events and no records yet."""
    events = int(session.execute(sa.select(sa.func.count()).select_from(change_events))
                 .scalar_one())
    if events:
        raise BootstrapError(f"this node already has {events:,} events: only a brand-new node "
                             "bootstraps from a snapshot (a node with history of its own is "
                             "not bootstrapped, so none of it is lost)")
    for entity in registry:
        if session.execute(sa.select(entity.table.c.id).limit(1)).first() is not None:
            raise BootstrapError(f"this node already has {entity.name} records: only a "
                                 "brand-new node bootstraps from a snapshot")


def bootstrap(session: Session, registry: Registry, lines: Iterable[dict[str, Any]],
              own_node_id: str, source_node_id: str, total: int = 0,
              progress: Progress | None = None) -> Bootstrapped:
    """Write the snapshot `lines` (header first, as checked by the fetch) into this
    brand-new node; the caller commits."""
    check_fresh(session, registry)
    stream = iter(lines)
    header = next(stream, None)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BootstrapError(f"not a {FORMAT} snapshot")
    if header.get("node_id") != source_node_id:
        raise BootstrapError(f"the snapshot is node {str(header.get('node_id'))[:40]}'s, "
                             f"not {source_node_id}'s")
    ours = {e.name: e.schema_version for e in registry}
    if header.get("entities") != ours:
        raise BootstrapError(f"the snapshot's entities and schema versions "
                             f"{header.get('entities')} differ from this node's {ours}")
    counts = {"record": 0, "tombstone": 0}
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    stones: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []  # each record's history here starts at the snapshot
    for doc in stream:
        kind = doc.get("kind")
        if kind == "record":
            rows[doc["entity"]].append({**doc["state"], "version": doc["version"],
                                        "vv": canonical.dumps(doc["vv"]), "hlc": doc["hlc"],
                                        "origin_node_id": doc["origin_node_id"]})
            notes.append({"entity": doc["entity"], "record_id": doc["id"], "seq": 0,
                          "hlc": doc["hlc"], "event_id": "", "op": "snapshot",
                          "schema_version": ours[doc["entity"]],
                          "state": canonical.dumps(doc["state"])})
        elif kind == "tombstone":
            stones.append({k: v for k, v in doc.items() if k != "kind"}
                          | {"vv": canonical.dumps(doc["vv"]),
                             "last_state": canonical.dumps(doc["last_state"])})
            notes.append({"entity": doc["entity"], "record_id": doc["record_id"], "seq": 0,
                          "hlc": doc["hlc"], "event_id": doc["event_id"], "op": "deleted",
                          "schema_version": ours[doc["entity"]], "state": None})
        elif kind == "end":
            break
        else:
            raise BootstrapError(f"a snapshot line of unknown kind {str(kind)[:20]!r}")
        counts[kind] += 1
        if len(notes) >= PAGE:
            _write(session, registry, rows, stones, notes)
        if progress is not None and (sum(counts.values()) % PAGE == 0):
            progress(sum(counts.values()), total)
    _write(session, registry, rows, stones, notes)
    _start_chains(session, header["heads"], own_node_id)
    move_cursor(session, source_node_id, int(header["last_seq"]), int(header["hlc_frontier"]))
    session.execute(node_state.update().where(node_state.c.last_hlc < header["hlc_frontier"])
                    .values(last_hlc=header["hlc_frontier"]))
    return Bootstrapped(header["snapshot_id"], int(header["last_seq"]), counts["record"],
                        counts["tombstone"])


def _write(session: Session, registry: Registry, rows: dict[str, list[dict[str, Any]]],
           stones: list[dict[str, Any]], notes: list[dict[str, Any]]) -> None:
    for name, found in rows.items():
        insert_rows(session, registry.get(name).table, found)
    insert_rows(session, tombstones, stones)
    insert_rows(session, compacted_records, notes)
    rows.clear()
    stones.clear()
    notes.clear()


def _start_chains(session: Session, heads: dict[str, dict[str, Any]], own_node_id: str) -> None:
    """Each origin's chain here starts after its head in the snapshot: the head this
    node has accepted (the next event must link to it) and where verification starts."""
    for origin, head in sorted(heads.items()):
        if origin == own_node_id:
            continue
        session.execute(chain_heads.insert().values(origin_node_id=origin,
                                                    last_hash=head["hash"],
                                                    last_hlc=head["hlc"]))
        session.execute(compaction_origins.insert().values(
            origin_node_id=origin, start_hash=head["hash"], start_hlc=head["hlc"],
            start_event_id=head["event_id"], removed=0))
