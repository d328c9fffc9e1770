"""Core errors mapped to HTTP status codes, in one place."""

from __future__ import annotations

from flask import Flask

from .audit import errors as core

STATUS: dict[type[Exception], int] = {
    core.ParamsError: 400,
    core.HLCFormatError: 400,
    core.UnknownEntityError: 404,
    core.NotFoundError: 404,
    core.StaleVersionError: 409,
    core.IdempotencyKeyReuseError: 409,
    core.IntegrityRuleError: 409,
    core.ClockDriftError: 422,
}


def status_for(exc: Exception) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def init_app(app: Flask) -> None:
    for kind, status in STATUS.items():
        app.register_error_handler(kind, lambda exc, status=status: (str(exc), status))
