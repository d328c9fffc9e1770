"""The one path every command runs through: lock, mutate, record, commit (or none of it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .commands import Command, CommandResult, CreateRecord, fingerprint, idempotency_key
from .context import AuditContext, current_context
from .entity import Registry
from .errors import AuditError, IdempotencyKeyReuseError, ParamsError
from .events import ChangeEvent
from .handlers import build_record, handle, warm
from .hlc import HybridClock
from .ids import is_ulid
from .store import find_by_key
from .transaction import BEFORE_LOCK, Settle, Transaction
from .uow import UnitOfWork

Cleaned = dict[str, Any] | None  # a command's cleaned params; None when they are refused


def _sealed(results: list[CommandResult], events: list[ChangeEvent]) -> list[CommandResult]:
    """The results with the transaction's last event as stored: signed (keys.sign_last)."""
    if not events or events[-1].signature is None:
        return results
    last = events[-1]
    return [CommandResult(last, r.record, r.replayed)
            if r.event is not None and r.event.event_id == last.event_id else r
            for r in results]


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
        # Cleaned once, before the node lock is taken: a password's argon2 hash alone
        # takes tens of milliseconds that every other writer of the node would wait out.
        cleaned = [self._clean(command) for command in commands]
        for hook in BEFORE_LOCK:
            hook(session, self.registry, self.node_id)
        try:
            with UnitOfWork(session) as uow:
                tx = Transaction(session, self.registry, self.clock, self.node_id,
                                 warm=self._warm(commands, cleaned))
                if len(commands) > 1:
                    self._prefetch(tx, commands, cleaned)
                results = [handle(tx, command, ctx, params)
                           for command, params in zip(commands, cleaned, strict=True)]
                tx.commit(uow.commit)
                return _sealed(results, tx.events)
        except (AuditError, IntegrityError):
            # Only now look for an earlier run with the same keys: the happy path pays
            # nothing for idempotency, and a repeat fails fast on the key's unique index.
            replayed = self._replay(session, commands, cleaned)
            if replayed is None:
                raise
            return replayed

    def _clean(self, command: Command) -> Cleaned:
        """None when refused: handle() cleans again and raises, after its earlier checks."""
        if command.entity not in self.registry:
            return None
        entity = self.registry.get(command.entity)
        try:
            return entity.params.clean(command.params,
                                       partial=not isinstance(command, CreateRecord))
        except ParamsError:
            return None

    @staticmethod
    def _warm(commands: Sequence[Command],
              cleaned: Sequence[Cleaned]) -> Callable[[Transaction], Settle] | None:
        """For a lone command that will not be refused at once, the reads it makes
        first, made while the lock is taken (in one round trip where the driver can)."""
        if len(commands) != 1 or cleaned[0] is None or not is_ulid(commands[0].record_id):
            return None
        command, params = commands[0], cleaned[0]
        return lambda tx: warm(tx, command, params)

    def _prefetch(self, tx: Transaction, commands: Sequence[Command],
                  cleaned: Sequence[Cleaned]) -> None:
        """Read what a batch will check in a few queries per entity, not a few per command.
        Commands that will be refused anyway (bad id or params) are left out."""
        by_entity: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for command, params in zip(commands, cleaned, strict=True):
            if params is not None and is_ulid(command.record_id):
                by_entity.setdefault(command.entity, []).append((command.record_id, params))
        for name, group in by_entity.items():
            entity = self.registry.get(name)
            ids = [record_id for record_id, _ in group]
            tx.prefetch(entity, ids)
            tx.prefetch_tombstones(entity, ids)
            for field in entity.unique_fields:
                tx.prefetch_owners(entity, field, [p[field] for _, p in group
                                                   if p.get(field) is not None])
            for field, target in entity.refs.items():
                tx.prefetch(self.registry.get(target), [p[field] for _, p in group
                                                        if p.get(field) is not None])

    def _replay(self, session: Session, commands: Sequence[Command],
                cleaned: Sequence[Cleaned]) -> list[CommandResult] | None:
        results = []
        for command, params in zip(commands, cleaned, strict=True):
            event = self._earlier_run(session, command, params)
            if event is None:
                return None
            post = event.post_state
            record = None if post is None else build_record(
                event.record_id, event.vv_after, event.hlc, event.origin_node_id, post)
            results.append(CommandResult(event, record, replayed=True))
        return results

    def _earlier_run(self, session: Session, command: Command,
                     params: Cleaned) -> ChangeEvent | None:
        if params is None or not is_ulid(command.record_id):
            return None  # refused before any key could be derived: it never ran
        secret = self.registry.get(command.entity).secret_fields
        try:
            key = idempotency_key(command, params, secret)
        except ParamsError:
            return None
        event = find_by_key(session, key)
        session.rollback()
        if event is None:
            return None
        asked = fingerprint(command.entity, command.op, command.record_id, params, secret)
        stored = fingerprint(event.entity, event.op, event.record_id, event.params, secret)
        if asked != stored:
            raise IdempotencyKeyReuseError(
                f"idempotency key {key[:40]!r} was already used for a different command")
        return event
