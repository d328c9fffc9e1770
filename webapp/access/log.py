"""Structured log lines for the operator's log pipeline: one JSON object per line on the
`hindsight.access` logger (logins, failures, lockouts, logouts, ended sessions, refused
sync requests, 403s, CSRF failures), with the request's id and client address."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import g, has_request_context, request

logger = logging.getLogger("hindsight.access")


def log_access(kind: str, level: int = logging.INFO, **fields: Any) -> None:
    line: dict[str, Any] = {"event": kind}
    if has_request_context():
        line.update(request_id=g.get("request_id"), address=request.remote_addr,
                    method=request.method, path=request.path[:200])
    line.update({k: v for k, v in fields.items() if v is not None})
    logger.log(level, json.dumps(line, sort_keys=True, default=str, ensure_ascii=True))


def configure() -> None:
    """Lines at INFO and above go to stderr (where gunicorn and `flask run` log), once,
    unless the operator's logging config already gave this logger a handler. They also
    propagate, for a root handler the operator may have set up."""
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
