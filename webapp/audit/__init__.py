"""The audit core: clock, context, commands, event store. It imports nothing from Flask;
the web layer hands it a SQLAlchemy session (tests hand it a plain one)."""

# Replication declares its tables on the same metadata and hooks local commands, so a
# command on a conflicted record closes its conflict in the same transaction.
from . import replication  # noqa: F401
from .commands import Command, CommandResult, CreateRecord, DeleteRecord, UpdateRecord
from .context import AuditContext, audit_context, current_context
from .entity import Entity, Policy, Registry
from .events import ChangeEvent, Op
from .hlc import HybridClock, format_hlc, parse_hlc
from .service import Auditor
from .tables import metadata

__all__ = [
    "AuditContext", "Auditor", "ChangeEvent", "Command", "CommandResult", "CreateRecord",
    "DeleteRecord", "Entity", "HybridClock", "Op", "Policy", "Registry", "UpdateRecord",
    "audit_context", "current_context", "format_hlc", "metadata", "parse_hlc",
]
