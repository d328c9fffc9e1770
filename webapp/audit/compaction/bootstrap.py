"""A brand-new node starting from a peer's snapshot instead of replaying its whole log.

What it takes from the snapshot is what the peer's compaction left: each record's base
event (whole, as its origin wrote and signed it), where each origin's chain and the
peer's log now start. Everything is checked before it counts, as the apply path checks
an event (replication/checks.py, trust.py): each base's hash against its content, its
signature against its origin's pinned key (an unknown signer, or a keyed origin's base
with no signature, is refused), its state and params against its entity, its clock
against the drift bound; each chain start's signature; the snapshot's clock frontier
against the drift bound. The records written are exactly the bases' post-states (a
tombstone for a deleting base); no record or vector is taken on the peer's word.

The rest comes the ordinary way: the cursor on the peer's log is set to where its
compaction ended, so the next pull fetches and applies, verified, every event after the
bases. Late concurrent edits then merge against the bases (replication/history.py),
which every node had seen when the peer compacted. One transaction: a refusal writes
nothing."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, vv
from ..entity import Registry
from ..errors import AuditError
from ..events import ChangeEvent
from ..hlc import HybridClock
from ..ids import is_ulid, new_ulid
from ..keys import BAD_SIGNATURE, UNKNOWN_SIGNER, UNSIGNED_KEYED, signature_verdict
from ..prepared import insert_rows
from ..replication.chaintables import chain_heads
from ..replication.checks import check_batch
from ..replication.tracking import move_cursor
from ..replication.wire import event_from_wire
from ..snapshot import FORMAT
from ..tables import change_events, node_state, tombstones
from .tables import compacted_records, compaction_origins, compaction_runs

PAGE = 1000  # bases written at once
Progress = Callable[[int, int], None]  # (lines done, lines in all)


class BootstrapError(ValueError):
    """This node cannot bootstrap from that snapshot (the reason says why)."""


@dataclass(frozen=True)
class Bootstrapped:
    snapshot_id: str
    last_seq: int  # the peer's log seq the snapshot was taken at
    start_seq: int  # where this node's cursor on the peer's log now is
    records: int
    tombstones: int
    replayed: int = 0  # a returning node's own unsent events, replayed after it
    conflicts: int = 0  # collisions the replay found


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


def bootstrap(session: Session, registry: Registry, clock: HybridClock,
              lines: Iterable[dict[str, Any]], own_node_id: str, source_node_id: str,
              keys: dict[str, str], total: int = 0,
              progress: Progress | None = None, returning: bool = False) -> Bootstrapped:
    """Check and write the snapshot `lines` (header first) into this brand-new node (or
    a returning one, emptied first: compaction/returning.py), with `keys` the pinned
    public keys; the caller commits (or rolls back on error)."""
    check_fresh(session, registry)
    stream = iter(lines)
    header = _header(next(stream, None), registry, source_node_id, clock)
    own = None if returning else own_node_id  # a returning node's own bases are its own
    starts = _starts(header.get("starts"), keys, own)
    writer = _Writer(session, registry)
    page: list[Any] = []  # base events as received, checked and written a page at a time
    done = 0
    for doc in stream:
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind == "end":
            break
        if kind == "base":
            page.append(doc.get("event"))
            if len(page) == PAGE:
                writer.add_all(_bases(page, registry, clock, keys, own, starts))
                page = []
        elif kind not in ("record", "tombstone"):  # the peer's current state: not taken
            raise BootstrapError(f"a snapshot line of unknown kind {str(kind)[:20]!r}")
        done += 1
        if progress is not None and done % PAGE == 0:
            progress(done, total)
    writer.add_all(_bases(page, registry, clock, keys, own, starts))
    writer.flush()
    for origin, start in sorted(starts.items()):
        if origin != own_node_id:  # this node's own chain head is its node state's
            session.execute(chain_heads.insert().values(origin_node_id=origin,
                                                        last_hash=start["hash"],
                                                        last_hlc=start["hlc"]))
        session.execute(compaction_origins.insert().values(
            origin_node_id=origin, start_hash=start["hash"], start_hlc=start["hlc"],
            start_event_id=start["event_id"], start_signature=start.get("signature"),
            removed=0))
    through = header["compacted_through"]
    move_cursor(session, source_node_id, through, header["hlc_frontier"])
    session.execute(node_state.update().where(node_state.c.last_hlc < header["hlc_frontier"])
                    .values(last_hlc=header["hlc_frontier"]))
    clock.observe(header["hlc_frontier"])
    _restart_log(session, header, source_node_id)
    return Bootstrapped(header["snapshot_id"], header["last_seq"], through, writer.records,
                        writer.tombstones)


def _restart_log(session: Session, header: dict[str, Any], source: str) -> None:
    """Note the bootstrap as a compaction of this node's own log through one seq past
    its last (a seq no event takes). This node's log now presupposes the snapshot's
    bases, which no peer pulled from it: a peer whose cursor on this log predates the
    bootstrap (or a non-new peer starting at 0) must be told "snapshot required", or it
    would go on from its cursor and never get what came in through the bases. The peer
it came from is the exception: it had every base it sent."""
    through = int(session.execute(sa.select(node_state.c.last_seq)).scalar_one()) + 1
    session.execute(node_state.update().values(last_seq=through))
    session.execute(compaction_runs.insert().values(
        run_id=new_ulid(), snapshot_id=header["snapshot_id"],
        snapshot_seq=header["last_seq"], through_seq=through, events_removed=0,
        done_ms=int(time.time() * 1000), source_node_id=source,
        source_epoch=header.get("epoch") or None))


def _header(doc: Any, registry: Registry, source: str, clock: HybridClock) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BootstrapError(f"not a {FORMAT} snapshot")
    if doc.get("node_id") != source:
        raise BootstrapError(f"the snapshot is node {str(doc.get('node_id'))[:40]}'s, "
                             f"not {source}'s")
    ours = {e.name: e.schema_version for e in registry}
    if doc.get("entities") != ours:
        raise BootstrapError(f"the snapshot's entities and schema versions "
                             f"{str(doc.get('entities'))[:200]} differ from this node's {ours}")
    for name in ("last_seq", "hlc_frontier", "compacted_through"):
        value = doc.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BootstrapError(f"the snapshot's {name} is not a whole number")
    if doc["compacted_through"] > doc["last_seq"]:
        raise BootstrapError("the snapshot says its log was compacted past its own end")
    if not is_ulid(doc.get("snapshot_id")):
        raise BootstrapError("the snapshot's id is not a ULID")
    if doc.get("epoch", "") != "" and not is_ulid(doc.get("epoch")):
        raise BootstrapError("the snapshot's epoch is not a ULID")
    try:
        clock.check(doc["hlc_frontier"])  # one node's bad clock must not drag this one
    except AuditError as exc:
        raise BootstrapError(f"the snapshot's clock frontier is refused: {exc}") from None
    return doc


def _starts(doc: Any, keys: dict[str, str], own: str | None) -> dict[str, dict[str, Any]]:
    """Each origin's chain start, its signature checked when it has one."""
    if not isinstance(doc, dict):
        raise BootstrapError("the snapshot's chain starts are not an object")
    for origin, start in doc.items():
        if not is_ulid(origin) or origin == own or not isinstance(start, dict) \
                or not isinstance(start.get("hash"), str) or len(start["hash"]) != 64 \
                or not isinstance(start.get("hlc"), int) or not is_ulid(start.get("event_id")):
            raise BootstrapError(f"the chain start of origin {str(origin)[:40]} is malformed")
        # Unsigned is allowed here: the bases it covers are checked one by one.
        verdict = signature_verdict(keys.get(origin), origin, start["hash"],
                                    start.get("signature"))
        if verdict == UNKNOWN_SIGNER:
            raise BootstrapError(f"the chain start of origin {origin} is signed, but this "
                                 "node has no pinned key for it (unknown signer)")
        if verdict == BAD_SIGNATURE:
            raise BootstrapError(f"the chain start of origin {origin} carries a signature "
                                 "its pinned key does not verify")
    return doc


def _bases(docs: list[Any], registry: Registry, clock: HybridClock, keys: dict[str, str],
           own: str | None, starts: dict[str, dict[str, Any]]) -> list[ChangeEvent]:
    """A page of base events, checked as the apply path checks a batch, then each
    against its origin's key and chain start; as stored (see _base)."""
    try:
        received = [event_from_wire(doc) for doc in docs]
        current = check_batch(registry, clock, received)
    except AuditError as exc:
        raise BootstrapError(f"a base event is refused: {exc}") from None
    return [_base(r, c, keys, own, starts) for r, c in zip(received, current, strict=True)]


def _base(received: ChangeEvent, event: ChangeEvent, keys: dict[str, str], own: str | None,
          starts: dict[str, dict[str, Any]]) -> ChangeEvent:
    """A base event that passed the batch checks (`event`: upcast), held to its
    origin's pinned key and chain start."""
    where = f"base event {received.event_id} ({received.entity} {received.record_id})"
    if received.origin_node_id == own:
        raise BootstrapError(f"{where} claims this brand-new node as its origin")
    verdict = signature_verdict(keys.get(received.origin_node_id), received.origin_node_id,
                                received.hash, received.signature)
    if verdict == UNSIGNED_KEYED:
        raise BootstrapError(f"{where} is not signed, and its origin has a pinned key: "
                             "nothing proves its origin wrote it")
    if verdict == UNKNOWN_SIGNER:
        raise BootstrapError(f"{where} is signed by origin {received.origin_node_id}, which "
                             "has no pinned key here (unknown signer)")
    if verdict == BAD_SIGNATURE:
        raise BootstrapError(f"{where} carries a signature its origin's pinned key does not "
                             "verify (forged)")
    start = starts.get(received.origin_node_id)
    if start is None:
        raise BootstrapError(f"{where}: the snapshot has no chain start for its origin "
                             f"{received.origin_node_id} (a base is a removed event, and each "
                             "origin's chain starts at its last removed one)")
    if (received.hlc, received.event_id) > (start["hlc"], start["event_id"]):
        raise BootstrapError(f"{where} is later than its origin's chain start in the snapshot "
                             f"(event {start['event_id']}): a base is a removed event, at or "
                             "before where its origin's remaining chain starts")
    if start["event_id"] == received.event_id and start["hash"] != received.hash:
        raise BootstrapError(f"the chain start of origin {received.origin_node_id} does not "
                             f"match its event {received.event_id}")
    # Stored as received (its hash covers that form); readers upcast when they read.
    return event if event.schema_version == received.schema_version else received


class _Writer:
    """Writes the records, tombstones and bases a page at a time."""

    def __init__(self, session: Session, registry: Registry) -> None:
        self.session, self.registry = session, registry
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.stones: list[dict[str, Any]] = []
        self.bases: list[dict[str, Any]] = []
        self.records = self.tombstones = 0
        self.seen: set[tuple[str, str]] = set()

    def add_all(self, bases: list[ChangeEvent]) -> None:
        for base in bases:
            self.add(base)

    def add(self, base: ChangeEvent) -> None:
        key = (base.entity, base.record_id)
        if key in self.seen:
            raise BootstrapError(f"the snapshot holds two bases of {base.entity} {base.record_id}")
        self.seen.add(key)
        entity = self.registry.get(base.entity)
        upcast = entity.upcast
        vector = canonical.dumps(base.vv_after)
        if base.post_state is None:
            last = upcast(base.pre_state, base.schema_version) if base.pre_state else None
            self.stones.append({"entity": base.entity, "record_id": base.record_id,
                                "vv": vector, "hlc": base.hlc,
                                "origin_node_id": base.origin_node_id,
                                "event_id": base.event_id,
                                "last_state": canonical.dumps(last),  # upcast: current
                                "schema_version": entity.schema_version})
            self.tombstones += 1
        else:
            state = upcast(base.post_state, base.schema_version) or {}
            self.rows[base.entity].append({**state, "id": base.record_id,
                                           "version": vv.version_of(base.vv_after),
                                           "vv": vector, "hlc": base.hlc,
                                           "origin_node_id": base.origin_node_id})
            self.records += 1
        self.bases.append({**base.to_row(), "seq": None})
        if len(self.bases) >= PAGE:
            self.flush()

    def flush(self) -> None:
        for name, found in self.rows.items():
            insert_rows(self.session, self.registry.get(name).table, found)
        insert_rows(self.session, tombstones, self.stones)
        insert_rows(self.session, compacted_records, self.bases)
        self.rows.clear()
        self.stones.clear()
        self.bases.clear()
