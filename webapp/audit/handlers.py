"""Command handlers: validate, check, mutate and record one event, inside a Transaction."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from . import canonical, vv
from .commands import Command, CommandResult, CreateRecord, DeleteRecord, UpdateRecord, check_meta
from .commands import idempotency_key as key_for
from .context import AuditContext
from .entity import Entity
from .errors import IntegrityRuleError, NotFoundError, ParamsError, StaleVersionError
from .events import ChangeEvent
from .ids import is_ulid, new_ulid
from .prepared import Prepared
from .transaction import Record, Settle, Transaction, state_of


def handle(tx: Transaction, command: Command, ctx: AuditContext,
           params: dict[str, Any] | None = None) -> CommandResult:
    """Run one command. `params` are its params already cleaned, or None to clean them
    here (raising their ParamsError after the checks that come first)."""
    entity = tx.registry.get(command.entity)
    if not is_ulid(command.record_id):
        raise NotFoundError(f"{entity.label} id {str(command.record_id)[:40]!r} is not a ULID")
    version = command.expected_version
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ParamsError({"version": "must be a whole number of 0 or more"})
    check_meta(command.meta)
    if isinstance(command, DeleteRecord):
        return _delete(tx, entity, command, ctx)
    if params is None:
        params = entity.params.clean(command.params, partial=isinstance(command, UpdateRecord))
    if isinstance(command, CreateRecord):
        return _create(tx, entity, command, ctx, params)
    return _update(tx, entity, command, ctx, params)


def warm(tx: Transaction, command: Command, params: dict[str, Any]) -> Settle:
    """The first reads `command` (of a registered entity) will make, sent ahead (see
    Transaction)."""
    entity = tx.registry.get(command.entity)
    if isinstance(command, CreateRecord):
        return tx.queue_probe(entity, command.record_id, params)
    return tx.queue_read(entity, command.record_id)


def _create(tx: Transaction, entity: Entity, cmd: CreateRecord, ctx: AuditContext,
            params: dict[str, Any]) -> CommandResult:
    tx.probe_create(entity, cmd.record_id, params)  # the reads below, in one round trip
    if tx.record(entity, cmd.record_id) is not None or tx.is_tombstoned(entity, cmd.record_id):
        raise IntegrityRuleError(f"{entity.label} {cmd.record_id} already exists or existed")
    check_rules(tx, entity, cmd.record_id, params)
    seq, hlc = tx.next_event_slot()
    after_vv = vv.bump({}, tx.node_id)
    record = build_record(cmd.record_id, after_vv, hlc, tx.node_id, params)
    tx.insert(entity, record)
    event = _event(tx, entity, cmd, ctx, params, None, record, seq, hlc, after_vv)
    return CommandResult(event, record)


def _update(tx: Transaction, entity: Entity, cmd: UpdateRecord, ctx: AuditContext,
            params: dict[str, Any]) -> CommandResult:
    before = _current(tx, entity, cmd)
    changed = {k: v for k, v in params.items() if before[k] != v}
    if not changed and not cmd.meta:
        return CommandResult(None, before)
    check_rules(tx, entity, cmd.record_id, changed)
    seq, hlc = tx.next_event_slot()
    after_vv = vv.bump(before["vv"], tx.node_id)
    record = build_record(cmd.record_id, after_vv, hlc, tx.node_id, {**before, **params})
    tx.update(entity, cmd.expected_version, before, record)
    event = _event(tx, entity, cmd, ctx, params, before, record, seq, hlc, after_vv)
    return CommandResult(event, record)


def _delete(tx: Transaction, entity: Entity, cmd: DeleteRecord, ctx: AuditContext) -> CommandResult:
    before = _current(tx, entity, cmd)
    _check_not_referenced(tx, entity, cmd.record_id)
    seq, hlc = tx.next_event_slot()
    after_vv = vv.bump(before["vv"], tx.node_id)
    event = _event(tx, entity, cmd, ctx, {}, before, None, seq, hlc, after_vv)
    tx.delete(entity, cmd.expected_version, before, {
        "entity": entity.name, "record_id": cmd.record_id, "vv": canonical.dumps(after_vv),
        "hlc": hlc, "origin_node_id": tx.node_id, "event_id": event.event_id,
        "last_state": canonical.dumps(state_of(entity, before)),
        "schema_version": entity.schema_version,
    })
    return CommandResult(event, None)


def _current(tx: Transaction, entity: Entity, cmd: UpdateRecord | DeleteRecord) -> Record:
    before = tx.record(entity, cmd.record_id)
    if before is None:
        if tx.is_tombstoned(entity, cmd.record_id):
            raise StaleVersionError(entity.name, cmd.record_id, cmd.expected_version, None)
        raise NotFoundError(f"no {entity.label.lower()} with id {cmd.record_id}")
    if before["version"] != cmd.expected_version:
        raise StaleVersionError(entity.name, cmd.record_id, cmd.expected_version, dict(before))
    return before


def check_rules(tx: Transaction, entity: Entity, record_id: str, values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    for field in entity.unique_fields:
        value = values.get(field)
        if value is not None and tx.owner_of(entity, field, value) not in (None, record_id):
            errors[field] = f"{value!r} is already taken by another {entity.label.lower()}"
    for field, target_name in entity.refs.items():
        value = values.get(field)
        if value is None:
            continue
        target = tx.registry.get(target_name)
        if tx.record(target, value) is None:
            errors[field] = f"no {target.label.lower()} with id {value}"
    if errors:
        raise ParamsError(errors)


def _check_not_referenced(tx: Transaction, entity: Entity, record_id: str) -> None:
    referrers = [(o, f) for o in tx.registry for f, target in o.refs.items()
                 if target == entity.name]
    if referrers:
        tx.write_buffered()  # so the query below sees this batch's earlier commands too
    for other, field in referrers:
        hit = _referrer(other.table, field).rows(tx.conn, {"b_id": record_id})
        if hit:
            raise IntegrityRuleError(
                f"{entity.label} {record_id} is still used by {other.label.lower()} {hit[0][0]}")


@cache
def _referrer(table: sa.Table, field: str) -> Prepared:
    return Prepared(sa.select(table.c.id).where(table.c[field] == sa.bindparam("b_id")).limit(1))


def build_record(record_id: str, after_vv: dict[str, int], hlc: int, node_id: str,
                 values: dict[str, Any]) -> Record:
    """A stored record: its system columns, then `values` (whose own system keys, as a
    record or an event state carries them, are left out)."""
    record: Record = {"id": record_id, "version": vv.version_of(after_vv), "vv": after_vv,
                      "hlc": hlc, "origin_node_id": node_id}
    record.update({k: v for k, v in values.items() if k not in record})
    return record


def _event(tx: Transaction, entity: Entity, cmd: Command, ctx: AuditContext,
           params: dict[str, Any], before: Record | None, after: Record | None,
           seq: int, hlc: int, vv_after: dict[str, int]) -> ChangeEvent:
    content = dict(
        event_id=new_ulid(), origin_node_id=tx.node_id, hlc=hlc, entity=entity.name,
        record_id=cmd.record_id, op=cmd.op, params=params,
        pre_state=state_of(entity, before), post_state=state_of(entity, after),
        vv_before=dict(before["vv"]) if before else {}, vv_after=dict(vv_after),
        schema_version=entity.schema_version,
        idempotency_key=key_for(cmd, params, entity.secret_fields),
        user_id=ctx.user_id, request_id=ctx.request_id, client_ip=ctx.client_ip,
        session_id=ctx.session_id, tenant_id=ctx.tenant_id, trace_id=ctx.trace_id,
        span_id=ctx.span_id, meta=dict(cmd.meta),
    )
    return tx.add_event(ChangeEvent.sealed(content, tx.cursor.last_hash, seq))
