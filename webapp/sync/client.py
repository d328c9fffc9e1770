"""The pull client: signed GETs to a peer, signed responses checked before use.

The transport is a plain function so tests can point the client at a WSGI app (the
real one, or a hostile fake) without a socket; the default one speaks HTTP via urllib."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import protocol
from .protocol import Batch, Hello, ProtocolError, SyncError
from .signing import Headers, SignatureError, sign_request, verify_response

# (url, headers, max_bytes, timeout) -> (status, response headers, body; at most max_bytes+1)
Transport = Callable[[str, dict[str, str], int, float], tuple[int, Headers, bytes]]


class PeerUnreachableError(SyncError):
    """The peer did not answer (connection refused, DNS, timeout)."""


class PeerRefusedError(SyncError):
    """The peer answered with an error status (e.g. 401 for a wrong secret)."""


class ResponseSignatureError(SyncError):
    """The peer's response is unsigned or its signature does not verify."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a signed request is for one path; never follow it elsewhere


_opener = urllib.request.build_opener(_NoRedirect)


def http_transport(url: str, headers: dict[str, str], max_bytes: int,
                   timeout: float) -> tuple[int, Headers, bytes]:
    request = urllib.request.Request(url, headers={**headers, "Accept": "application/json"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read(max_bytes + 1)
    except OSError as exc:  # URLError (refused, DNS), timeouts, resets
        reason = getattr(exc, "reason", exc)
        raise PeerUnreachableError(f"could not reach {url.split('?')[0]}: {reason}") from None
    except http.client.HTTPException as exc:  # e.g. a status line that is not HTTP
        raise ProtocolError(f"{url.split('?')[0]} sent a malformed HTTP response "
                            f"({type(exc).__name__}: {str(exc)[:80]!r})") from None


class PeerClient:
    def __init__(self, base_url: str, secret: str, transport: Transport | None = None,
                 timeout: float = 30.0, max_bytes: int = protocol.MAX_RESPONSE_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.transport = transport or http_transport
        self.timeout = timeout
        self.max_bytes = max_bytes

    def hello(self) -> Hello:
        return protocol.parse_hello(self._get(protocol.HELLO_PATH, {}))

    def events(self, after: int, limit: int = protocol.DEFAULT_LIMIT,
               have: int | None = None, brand_new: bool = False, epoch: str = "") -> Batch:
        """Events after `after`. `have` (this node's own last seq, read with the cursor
        `after`) makes the request an acknowledgement (webapp/sync/acks.py); `brand_new`
        says this node holds nothing yet; `epoch` is this node's restart epoch
        (compaction.points.epoch)."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if have is not None:
            params["have"] = have
        if brand_new:  # a node that compacted or bootstrapped answers: snapshot required
            params["new"] = 1
        if epoch:
            params["epoch"] = epoch
        doc = self._get(protocol.EVENTS_PATH, params)
        return protocol.parse_batch(doc, after, limit)

    def snapshot_page(self, snapshot_id: str | None, after: int,
                      limit: int = protocol.SNAPSHOT_LINES) -> dict[str, Any]:
        """One page of the peer's latest snapshot (or of `snapshot_id`), from byte
        `after`; snapshot_client.fetch checks what the pages hold."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if snapshot_id is not None:
            params["id"] = snapshot_id
        return self._get(protocol.SNAPSHOT_PATH, params)

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        full_path = urlsplit(self.base_url).path + path
        query = urlencode(params)
        signed = sign_request(self.secret, "GET", full_path, query)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        status, headers, body = self.transport(url, signed.as_dict(), self.max_bytes,
                                               self.timeout)
        if len(body) > self.max_bytes:
            raise ProtocolError(f"oversized response: the peer sent more than "
                                f"{self.max_bytes} bytes")
        if status != 200:
            hint = (" (the peer does not know this secret, or a clock is more than 5 minutes "
                    "off; the peer's log says which)") if status == 401 else ""
            raise PeerRefusedError(f"the peer answered {status}: {_reason(body)}{hint}")
        try:
            verify_response(self.secret, headers, status, body, signed.nonce)
        except SignatureError as exc:
            raise ResponseSignatureError(str(exc)) from None
        return protocol.loads(body)


def _reason(body: bytes) -> str:
    """The peer's stated reason, for display only (an error response is not trusted)."""
    try:
        doc = json.loads(body.decode("utf-8"))
        text = str(doc.get("error", doc)) if isinstance(doc, dict) else str(doc)
    except (UnicodeDecodeError, ValueError, RecursionError):
        text = body[:200].decode("utf-8", "replace")
    text = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogate stays
    return " ".join(text.split())[:300] or "no reason given"
