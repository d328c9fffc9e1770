"""Roles, checked on the server for every route: viewer < editor < admin."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from ..domain import ROLES

F = TypeVar("F", bound=Callable[..., Any])


def has_role(user: Any, role: str) -> bool:
    """True if `user` is logged in with `role` or a higher one."""
    if not getattr(user, "is_authenticated", False):
        return False
    return ROLES.index(user.role) >= ROLES.index(role)


def role_required(role: str) -> Callable[[F], F]:
    """Login first (anonymous users go to the login page), then 403 below `role`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_role(current_user, role):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorate
