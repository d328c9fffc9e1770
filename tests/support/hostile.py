"""A hostile peer for sync tests: a real node behind a WSGI proxy that may replace the
status and body of each answer, signing them afresh (so only the payload is wrong)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.test import Client
from werkzeug.wrappers import Request

from webapp.sync.signing import NONCE_HEADER, sign_response

DEEP = 100_000
Answer = Callable[[str, int, bytes], tuple[int, bytes]]  # (path, nth call, body) -> answer


def proxy(app: Any, secret: str, answer: Answer) -> Any:
    """A WSGI app forwarding to `app`; `answer` may replace each status and body."""
    inner, calls = Client(app), {"n": 0}

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request = Request(environ)
        forwarded = {k: v for k, v in request.headers.items() if k.startswith("X-Hindsight")}
        reply = inner.get(request.full_path, headers=forwarded)
        calls["n"] += 1
        status, body = answer(request.path, calls["n"], reply.get_data())
        headers = sign_response(secret, status, body, request.headers.get(NONCE_HEADER, ""))
        start_response(f"{status} X", [("Content-Type", "application/json"), *headers.items()])
        return [body]

    return wsgi


def nested(path: str, n: int, body: bytes) -> tuple[int, bytes]:
    """The events answer with a member nested DEEP levels deep."""
    if path.endswith("/events"):
        return 200, body[:-1] + b',"x":' + b"[" * DEEP + b"]" * DEEP + b"}"
    return 200, body
