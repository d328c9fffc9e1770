"""The one path every command runs through: lock, mutate, record, commit (or none of it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import vv
from .commands import Command, CommandResult, CreateRecord, fingerprint, idempotency_key
from .context import AuditContext, current_context
from .entity import Registry
from .errors import AuditError, IdempotencyKeyReuseError, ParamsError
from .events import ChangeEvent
from .handlers import handle
from .hlc import HybridClock
from .ids import is_ulid
from .store import find_by_key
from .transaction import Transaction
from .uow import UnitOfWork


class Auditor:
    """Runs commands for one node. Thread-safe; share one per process."""

    def __init__(self, registry: Registry, clock: HybridClock, node_id: str) -> None:
        self.registry = registry
        self.clock = clock
        self.node_id = node_id

    def execute(self, session: Session, command: Command,
                ctx: AuditContext | None = None) -> CommandResult:
        return self.execute_all(session, [command], ctx)[0]

    def execute_all(self, session: Session, commands: Sequence[Command],
                    ctx: AuditContext | None = None) -> list[CommandResult]:
        """Run all commands in one transaction: all of them commit, or none does."""
        ctx = ctx or current_context()
        try:
            with UnitOfWork(session) as uow:
                tx = Transaction(session, self.registry, self.clock, self.node_id)
                self._prefetch(tx, commands)
                results = [handle(tx, command, ctx) for command in commands]
                tx.flush()
                uow.commit()
                return results
        except (AuditError, IntegrityError):
            # Only now look for an earlier run with the same keys: the happy path pays
            # nothing for idempotency, and a repeat fails fast on the key's unique index.
            replayed = self._replay(session, commands)
            if replayed is None:
                raise
            return replayed

    def _prefetch(self, tx: Transaction, commands: Sequence[Command]) -> None:
        if len(commands) < 2:
            return  # a single command reads what it needs as it goes
        by_entity: dict[str, set[str]] = {}
        for command in commands:
            by_entity.setdefault(command.entity, set()).add(command.record_id)
        for name, ids in by_entity.items():
            entity = self.registry.get(name)
            tx.prefetch(entity, ids)
            tx.prefetch_tombstones(entity, ids)
            for field in entity.unique_fields:
                param = entity.fields[field]
                values = []
                for command in commands:
                    if command.entity == name and field in command.params:
                        try:
                            values.append(param.clean(command.params[field]))
                        except ValueError:
                            pass
                tx.prefetch_owners(entity, field, values)
            for field, target in entity.refs.items():
                refs = [str(c.params[field]).upper() for c in commands
                        if c.entity == name and c.params.get(field)]
                tx.prefetch(self.registry.get(target), refs)

    def _replay(self, session: Session, commands: Sequence[Command]) -> list[CommandResult] | None:
        results = []
        for command in commands:
            event = self._earlier_run(session, command)
            if event is None:
                return None
            results.append(CommandResult(event, _record_after(event), replayed=True))
        return results

    def _earlier_run(self, session: Session, command: Command) -> ChangeEvent | None:
        if command.entity not in self.registry or not is_ulid(command.record_id):
            return None  # refused before any key could be derived: it never ran
        entity = self.registry.get(command.entity)
        try:
            partial = not isinstance(command, CreateRecord)
            cleaned = entity.params.clean(command.params, partial=partial)
            key = idempotency_key(command, cleaned, entity.secret_fields)
        except ParamsError:
            return None
        event = find_by_key(session, key)
        session.rollback()
        if event is None:
            return None
        create = command.op == "created"
        asked = fingerprint(command.entity, command.op, None if create else command.record_id,
                            cleaned, entity.secret_fields)
        stored = fingerprint(event.entity, event.op, None if create else event.record_id,
                             event.params, entity.secret_fields)
        if asked != stored:
            raise IdempotencyKeyReuseError(
                f"idempotency key {key[:40]!r} was already used for a different command")
        return event


def _record_after(event: ChangeEvent) -> dict[str, Any] | None:
    if event.post_state is None:
        return None
    return {**event.post_state, "version": vv.version_of(event.vv_after), "vv": event.vv_after,
            "hlc": event.hlc, "origin_node_id": event.origin_node_id}
