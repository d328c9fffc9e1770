"""Resolving a conflict: an audited command whose version vector dominates every side.

On a live record it is an UpdateRecord with the merged values (or a DeleteRecord to
take the deleted side), run through the Auditor like any other command; the record's
vector is already the merge of the sides, so the command's vector dominates them. On a
record whose deleted side won, it is a revival (or a confirmed deletion) built here on
the same Transaction. Either way meta says {"resolves": conflict_id}, the local hook
closes the conflict in the same transaction, and every node closes it on apply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, vv
from ..commands import CommandResult, DeleteRecord, UpdateRecord
from ..context import AuditContext, current_context
from ..entity import Entity
from ..errors import NotFoundError, ParamsError, StaleVersionError
from ..events import ChangeEvent, Op
from ..handlers import check_rules
from ..ids import new_ulid
from ..lookups import last_state
from ..records import get_record
from ..service import Auditor
from ..tables import tombstones
from ..transaction import Transaction
from ..uow import UnitOfWork
from .errors import ConflictClosedError, ConflictNotFoundError
from .headevents import histories
from .heads import Head
from .models import OPEN, Conflict
from .queries import get_conflict


def resolve_conflict(auditor: Auditor, session: Session, conflict_id: str,
                     values: Mapping[str, Any] | None, expected_version: int,
                     ctx: AuditContext | None = None) -> CommandResult:
    """Resolve with `values` (the fields of the merged record, as a form posts them) or
    None (take the deleted side). expected_version is the version the admin saw."""
    conflict = get_conflict(session, conflict_id, auditor.registry)  # sides upcast
    if conflict is None:
        raise ConflictNotFoundError(f"no conflict with id {str(conflict_id)[:40]!r}")
    if conflict.status != OPEN:
        later = f"; it became {conflict.superseded_by}" if conflict.superseded_by else ""
        raise ConflictClosedError(f"conflict {conflict_id} is {conflict.status}{later}")
    if values is not None and not isinstance(values, Mapping):
        raise ParamsError({"_": "values must be a mapping of field names to values"})
    entity = auditor.registry.get(conflict.entity)
    meta = {"resolves": conflict_id}
    if get_record(session, entity, conflict.record_id) is not None:
        if values is None:
            return auditor.execute(session, DeleteRecord(
                entity.name, conflict.record_id, expected_version, meta=meta), ctx)
        return auditor.execute(session, UpdateRecord(
            entity.name, conflict.record_id, expected_version, dict(values), meta=meta), ctx)
    return _settle_deleted(auditor, session, conflict, entity, values, expected_version,
                           ctx or current_context(), meta)


def _settle_deleted(auditor: Auditor, session: Session, conflict: Conflict, entity: Entity,
                    values: Mapping[str, Any] | None, expected: int,
                    ctx: AuditContext, meta: dict[str, Any]) -> CommandResult:
    record_id = conflict.record_id
    with UnitOfWork(session) as uow:
        tx = Transaction(session, auditor.registry, auditor.clock, auditor.node_id)
        where = (tombstones.c.entity == entity.name, tombstones.c.record_id == record_id)
        tomb = session.execute(sa.select(tombstones).where(*where)).first()
        if tomb is None:
            raise NotFoundError(f"no {entity.label.lower()} with id {record_id}")
        before_vv: dict[str, int] = canonical.loads(tomb.vv)
        if vv.version_of(before_vv) != expected:
            raise StaleVersionError(entity.name, record_id, expected, None)
        last = last_state(entity, tomb.last_state, tomb.schema_version)  # current schema
        params, post = ({}, None) if values is None else _revived(tx, entity, conflict, values)
        seq, hlc = tx.next_event_slot()
        after_vv = vv.bump(before_vv, tx.node_id)
        event = tx.add_event(ChangeEvent.sealed(dict(
            event_id=new_ulid(), origin_node_id=tx.node_id, hlc=hlc, entity=entity.name,
            record_id=record_id, op=Op.DELETED if post is None else Op.CREATED,
            params=params, pre_state=last if post is None else None, post_state=post,
            vv_before=before_vv, vv_after=after_vv, schema_version=entity.schema_version,
            idempotency_key="resolve:" + canonical.sha256_hex(
                conflict.conflict_id, str(expected), canonical.dumps(params)),
            user_id=ctx.user_id, request_id=ctx.request_id, client_ip=ctx.client_ip,
            session_id=ctx.session_id, tenant_id=ctx.tenant_id, trace_id=ctx.trace_id,
            span_id=ctx.span_id, meta=meta), tx.cursor.last_hash, seq))
        session.execute(tombstones.delete().where(*where))
        record = None
        if post is None:
            session.execute(tombstones.insert().values(
                entity=entity.name, record_id=record_id, vv=canonical.dumps(after_vv), hlc=hlc,
                origin_node_id=tx.node_id, event_id=event.event_id,
                last_state=None if last is None else canonical.dumps(last),
                schema_version=entity.schema_version))
        else:
            record = {"id": record_id, "version": vv.version_of(after_vv), "vv": after_vv,
                      "hlc": hlc, "origin_node_id": tx.node_id,
                      **{k: v for k, v in post.items() if k != "id"}}
            tx.insert(entity, record)
        tx.commit(uow.commit)
    return CommandResult(event, record)


def _live_merged(tx: Transaction, entity: Entity, conflict: Conflict) -> dict[str, Any]:
    """What the live sides say together (merged field by field when several), so that
    bringing the record back keeps every side's change, not only the newest side's."""
    live = [s for s in conflict.sides if s.state is not None]
    if len(live) == 1:
        return dict(live[0].state or {})
    history = histories(tx.session, tx.registry, entity.name, [conflict.record_id]).get(
        conflict.record_id)
    heads = [Head(s.event_id, dict(s.vv), s.hlc, s.origin_node_id, False, s.state)
             for s in live]
    merged = history.merge(heads).state if history is not None else None
    return dict(merged or live[-1].state or {})


def _revived(tx: Transaction, entity: Entity, conflict: Conflict,
             values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, post-state) of bringing the record back: the newest live side's state
    with the admin's values over it, checked like a create."""
    live = [s for s in conflict.sides if s.state is not None]
    if not live:
        raise ParamsError({"_": "no side of this conflict has a state to bring back"})
    params = entity.params.clean(values, partial=True)
    post = {**_live_merged(tx, entity, conflict), **params, "id": conflict.record_id}
    missing = {f: "is required" for f, p in entity.fields.items()
               if p.required and post.get(f) is None}
    try:
        check_rules(tx, entity, conflict.record_id, post)  # the rules a create is held to
    except ParamsError as exc:
        raise ParamsError({**missing, **exc.errors}) from None
    if missing:
        raise ParamsError(missing)
    return params, post
