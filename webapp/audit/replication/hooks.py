"""Local commands and replication state. A local command on a record has seen every
version the record holds (its vector is the merge of the heads), so it settles the
record: its collision heads go, its open conflict is resolved by that command, in the
same transaction. Unique values the command let go of go to the next claimant."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity
from ..events import ChangeEvent
from ..idlists import list_style, one_of
from ..prepared import Prepared
from ..transaction import AFTER_FLUSH, Transaction
from . import conflicts as cf
from . import unique, writes
from .finalize import settle_values
from .tables import replication_heads, unique_renames


def after_local_flush(tx: Transaction) -> None:
    by_entity: dict[str, dict[str, list[ChangeEvent]]] = defaultdict(lambda: defaultdict(list))
    for event in tx.events:
        by_entity[event.entity][event.record_id].append(event)
    for name, records in by_entity.items():
        entity = tx.registry.get(name)
        # A record made by this very command has no past to settle: most writes are those.
        known = {rid: evs for rid, evs in records.items() if evs[0].vv_before}
        if not known:
            continue
        hashes = _held(entity, known)
        # Most records have neither collision heads nor contested values: one probe
        # for both says so, and only a hit pays for the full reads below.
        if not _has_state(tx, entity, sorted(known), sorted(hashes)):
            continue
        tx.pipeline.end()  # what follows is not prepared
        _settle_heads(tx.session, entity, known)
        if hashes:
            _settle_unique(tx.session, entity, known, hashes)


def _held(entity: Entity, records: dict[str, list[ChangeEvent]]) -> set[str]:
    """Hashes of the unique values the commands let go of (a loser may take one over)
    and hold (a contest whose sides name each claimant's latest event must hear)."""
    states = [s for events in records.values()
              for s in (events[0].pre_state, events[-1].post_state) if s is not None]
    return {cf.value_hash(state[f]) for state in states for f in entity.unique_fields
            if state.get(f) is not None}


def _has_state(tx: Transaction, entity: Entity, ids: list[str], hashes: list[str]) -> bool:
    conn = tx.conn
    if len(ids) == 1 and len(hashes) <= _PROBE_HASHES:
        params: dict[str, Any] = {"entity": entity.name, "id": ids[0]}
        params.update({f"h{i}": hashes[i] if i < len(hashes) else None
                       for i in range(_PROBE_HASHES)})
        sent = _ONE_PROBE.execute(conn, params)
        # The sync that ends the pipeline brings the answer with the writes' row counts;
        # a transaction whose writes are checked before COMMIT waits for that sync anyway.
        tx.pipeline.end()
        return bool(_ONE_PROBE.fetched(conn, sent))
    tx.pipeline.end()
    found = conn.execute(_probe(list_style(conn)),
                            {"entity": entity.name, "ids": ids, "hashes": hashes})
    return found.first() is not None


def _side(event: ChangeEvent) -> cf.SideRef:
    return cf.SideRef(event.event_id, event.record_id, event.origin_node_id, event.hlc,
                      event.user_id)


def _settle_heads(session: Session, entity: Entity, records: dict[str, list[ChangeEvent]]) -> None:
    found = session.execute(_collided(list_style(session)),
                            {"entity": entity.name, "ids": sorted(records)})
    collided = sorted(set(found.scalars()))
    if not collided:
        return  # no heads, hence no live record conflict: the common case costs one probe
    writes.replace_entries(session, replication_heads, entity, collided, [])
    for record_id in collided:
        cf.settle_by(session, cf.record_scope(entity.name, record_id),
                     _side(records[record_id][0]))


def _settle_unique(session: Session, entity: Entity, records: dict[str, list[ChangeEvent]],
                   hashes: set[str]) -> None:
    before = {rid: events[0].pre_state for rid, events in records.items()}
    after = {rid: events[-1].post_state or {} for rid, events in records.items()}
    rows = session.execute(_renamed(list_style(session)), {
        "entity": entity.name, "ids": sorted(records), "hashes": sorted(hashes)}).all()
    if not rows:
        return  # the command neither was a loser nor let go of a contested value
    own: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        if row.record_id in records:
            own[row.record_id][row.field] = canonical.loads(row.value)
    changes = {rid: (None if state is None else {**state, **own[rid]}, records[rid][-1].post_state)
               for rid, state in before.items()}
    plan = unique.plan(session, entity, changes,
                       {(f, rid) for rid, fields in own.items() for f in fields})
    for rid, stored in plan.stored.items():
        differ = {f: v for f, v in stored.items() if after[rid].get(f) != v}
        if differ:  # cannot happen while local checks see stored values; kept exact anyway
            plan.others[rid].update(differ)
    writes.write_renames(session, entity, plan)
    others = writes.other_rows(session, entity, plan)
    writes.replace_rows(session, entity, list(plan.others), others)
    touched = {rid: (lambda _s, e=events[-1]: _side(e)) for rid, events in records.items()}
    settle_values(session, entity, plan, touched)


# Built once: this runs after every local command, where building costs more than running.
@cache
def _collided(style: str) -> sa.Select[Any]:
    return sa.select(replication_heads.c.record_id).where(
        replication_heads.c.entity == sa.bindparam("entity"),
        one_of(replication_heads.c.record_id, "ids", style))


def _probe_parts(record_match: Any, hash_match: Any) -> sa.CompoundSelect[Any]:
    heads, renames = replication_heads.c, unique_renames.c
    return sa.union_all(
        sa.select(heads.record_id).where(heads.entity == sa.bindparam("entity"),
                                         record_match(heads.record_id)),
        sa.select(renames.record_id).where(
            renames.entity == sa.bindparam("entity"),
            sa.or_(record_match(renames.record_id), hash_match(renames.value_hash))))


_PROBE_HASHES = 4  # a record's unique values before and after, for up to two fields
_ONE_PROBE = Prepared(_probe_parts(
    lambda c: c == sa.bindparam("id"),
    lambda c: c.in_([sa.bindparam(f"h{i}") for i in range(_PROBE_HASHES)])))


@cache
def _probe(style: str) -> sa.CompoundSelect[Any]:
    return _probe_parts(lambda c: one_of(c, "ids", style),
                        lambda c: one_of(c, "hashes", style))


@cache
def _renamed(style: str) -> sa.Select[Any]:
    return sa.select(unique_renames).where(
        unique_renames.c.entity == sa.bindparam("entity"),
        sa.or_(one_of(unique_renames.c.record_id, "ids", style),
               one_of(unique_renames.c.value_hash, "hashes", style)))

AFTER_FLUSH.append(after_local_flush)
