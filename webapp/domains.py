"""Which records this app serves: Hindsight's accounts (`user`, always), then either the
demo entities (the default domain) or those of the module HINDSIGHT_DOMAIN names.

That module is the user's own, importable from the app's path (PYTHONPATH), and defines
`register(registry)`, which registers its entities (see README, "Your own records"). A
declaration that cannot work stops the app at start-up with a message naming the
module, the entity and the field, never on the first request that meets it."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable

from .audit.entity import DeclarationError, Entity, Registry

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class DomainError(RuntimeError):
    """The domain module cannot be served; the message says why and where."""


def _domain_register(module_name: str) -> Callable[[Registry], object]:
    if not _MODULE.fullmatch(module_name):
        raise DomainError(f"HINDSIGHT_DOMAIN={module_name[:80]!r} is not a dotted module name "
                          "(e.g. inventory.domain)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DomainError(f"HINDSIGHT_DOMAIN={module_name}: cannot import it ({exc}); is its "
                          "folder on PYTHONPATH?") from exc
    register = getattr(module, "register", None)
    if not callable(register):
        raise DomainError(f"HINDSIGHT_DOMAIN={module_name}: the module defines no "
                          "register(registry) function")
    return register  # type: ignore[no-any-return]


def load(module_name: str | None, accounts: Entity, default: Iterable[Entity],
         roles: tuple[str, ...]) -> Registry:
    """The registry to serve: `accounts` first, then `default` or the module's entities."""
    registry = Registry()
    registry.register(accounts)
    where = f"HINDSIGHT_DOMAIN={module_name}" if module_name else "the default domain"
    try:
        if module_name:
            _domain_register(module_name)(registry)
        else:
            for entity in default:
                registry.register(entity)
        registry.check()
        for entity in registry:
            if entity.edit_role not in roles:
                raise DeclarationError(entity.name, f"edit_role must be one of "
                                       f"{', '.join(roles)}, not {entity.edit_role!r}")
    except DeclarationError as exc:
        raise DomainError(f"{where}: {exc}") from None
    return registry
