"""The audit core: clock, context, commands, event store. It imports nothing from Flask;
the web layer hands it a SQLAlchemy session (tests hand it a plain one).

It is also the public API a domain declares its entities with, in one import:
`from webapp.audit import Entity, Policy, Registry, Text, Date, Decimal, ...`."""

# Replication declares its tables on the same metadata and hooks local commands, so a
# command on a conflicted record closes its conflict in the same transaction.
from . import replication  # noqa: F401
from .commands import Command, CommandResult, CreateRecord, DeleteRecord, UpdateRecord
from .context import AuditContext, audit_context, current_context
from .entity import DeclarationError, Entity, Policy, Registry, Upcaster
from .events import ChangeEvent, Op
from .fields import URL, Date, DateTime, Decimal
from .hlc import HybridClock, format_hlc, parse_hlc
from .params import Boolean, Choice, Email, Integer, Key, Password, Ref, Slug, Text
from .service import Auditor
from .tables import metadata
from .upcasters import added, combined, removed, renamed

__all__ = [
    "URL", "AuditContext", "Auditor", "Boolean", "ChangeEvent", "Choice", "Command",
    "CommandResult", "CreateRecord", "Date", "DateTime", "Decimal", "DeclarationError",
    "DeleteRecord", "Email", "Entity", "HybridClock", "Integer", "Key", "Op", "Password",
    "Policy", "Ref", "Registry", "Slug", "Text", "UpdateRecord", "Upcaster", "added",
    "audit_context", "combined", "current_context", "format_hlc", "metadata", "parse_hlc",
    "removed", "renamed",
]
