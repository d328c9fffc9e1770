"""HMAC-SHA256 signatures for sync requests and responses. No Flask, no database.

A request is signed over its method, path, canonical query, timestamp, nonce and body
hash; the peer is found by a key id derived from the shared secret, so the secret itself
never travels. A response is signed over its status, its body hash and the request's
nonce, so an old (or another request's) response cannot be passed off as this one's."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

KEY_HEADER = "X-Hindsight-Key"
TIME_HEADER = "X-Hindsight-Timestamp"
NONCE_HEADER = "X-Hindsight-Nonce"
SIGNATURE_HEADER = "X-Hindsight-Signature"
WINDOW_MS = 300_000  # a signed request is accepted for 5 minutes either side of our clock
MIN_SECRET_LENGTH = 32
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # each pattern is used with fullmatch
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # ASCII digits: str.isdigit() also takes "²"


class Headers(Protocol):
    """Anything with .get(name): a dict, werkzeug's or http.client's headers."""

    def get(self, key: str, /) -> str | None: ...


class SignatureError(Exception):
    """A request or response whose signature headers are missing, malformed or wrong."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def key_id(secret: str) -> str:
    """Names the secret without revealing anything about it: keyed by the secret itself
    (HMAC), so no table of hashes of guessed secrets can match it."""
    return hmac.new(secret.encode(), b"hindsight sync key id v1", hashlib.sha256).hexdigest()[:16]


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_query(query: str) -> str:
    """Sorted, re-encoded pairs: the same text whichever way a client orders them."""
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def _mac(secret: str, *parts: str) -> str:
    message = "\n".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SignedHeaders:
    key_id: str
    timestamp: int
    nonce: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {KEY_HEADER: self.key_id, TIME_HEADER: str(self.timestamp),
                NONCE_HEADER: self.nonce, SIGNATURE_HEADER: self.signature}


def sign_request(secret: str, method: str, path: str, query: str = "", body: bytes = b"",
                 timestamp: int | None = None, nonce: str | None = None) -> SignedHeaders:
    timestamp = now_ms() if timestamp is None else timestamp
    nonce = nonce or secrets.token_urlsafe(24)
    signature = _mac(secret, "request", method.upper(), path, canonical_query(query),
                     str(timestamp), nonce, body_hash(body))
    return SignedHeaders(key_id(secret), timestamp, nonce, signature)


def parse_request_headers(headers: Headers) -> SignedHeaders:
    """Read the four headers, checking their shape only."""
    values = {name: headers.get(name) or "" for name in (KEY_HEADER, TIME_HEADER,
                                                         NONCE_HEADER, SIGNATURE_HEADER)}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SignatureError(f"missing signature header(s): {', '.join(missing)}")
    if not _KEY_ID.fullmatch(values[KEY_HEADER]):
        raise SignatureError("malformed key id")
    if not _TIMESTAMP.fullmatch(values[TIME_HEADER]):
        raise SignatureError("malformed timestamp (milliseconds, at most 15 digits)")
    if not _NONCE.fullmatch(values[NONCE_HEADER]):
        raise SignatureError("malformed nonce (16 to 64 URL-safe characters)")
    if not _SIGNATURE.fullmatch(values[SIGNATURE_HEADER]):
        raise SignatureError("malformed signature")
    return SignedHeaders(values[KEY_HEADER], int(values[TIME_HEADER]),
                         values[NONCE_HEADER], values[SIGNATURE_HEADER])


def verify_request(secret: str, signed: SignedHeaders, method: str, path: str, query: str,
                   body: bytes, now: int | None = None, window_ms: int = WINDOW_MS) -> None:
    """Raise SignatureError unless `signed` is a fresh, valid signature of this request.
    The nonce's uniqueness is checked by the caller against its nonce store."""
    now = now_ms() if now is None else now
    if abs(now - signed.timestamp) > window_ms:
        raise SignatureError(
            f"timestamp is {abs(now - signed.timestamp) // 1000} s away from this node's "
            f"clock; the window is {window_ms // 1000} s")
    expected = _mac(secret, "request", method.upper(), path, canonical_query(query),
                    str(signed.timestamp), signed.nonce, body_hash(body))
    if not hmac.compare_digest(expected, signed.signature):
        raise SignatureError("signature does not match the request")


def sign_response(secret: str, status: int, body: bytes, request_nonce: str,
                  timestamp: int | None = None) -> dict[str, str]:
    timestamp = now_ms() if timestamp is None else timestamp
    signature = _mac(secret, "response", str(status), request_nonce, str(timestamp),
                     body_hash(body))
    return {KEY_HEADER: key_id(secret), TIME_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature}


def verify_response(secret: str, headers: Headers, status: int, body: bytes,
                    request_nonce: str) -> None:
    stamp, signature = headers.get(TIME_HEADER) or "", headers.get(SIGNATURE_HEADER) or ""
    if not _TIMESTAMP.fullmatch(stamp) or not _SIGNATURE.fullmatch(signature):
        raise SignatureError("the peer's response is not signed")
    expected = _mac(secret, "response", str(status), request_nonce, stamp, body_hash(body))
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("the peer's response signature does not match (wrong secret, "
                             "or the response was altered)")
