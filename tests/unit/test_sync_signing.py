"""Request and response signatures for the sync protocol (pure functions, no database)."""

from __future__ import annotations

import pytest

from webapp.sync import signing
from webapp.sync.signing import SignatureError, sign_request, verify_request

SECRET = "s" * 40
NOW = 1_700_000_000_000


def _signed(**overrides: object) -> signing.SignedHeaders:
    args = {"method": "GET", "path": "/sync/events", "query": "after=3&limit=10",
            "timestamp": NOW, "nonce": "n" * 24, **overrides}
    return sign_request(SECRET, **args)  # type: ignore[arg-type]


def test_a_signed_request_verifies_whatever_the_query_order() -> None:
    signed = _signed()
    verify_request(SECRET, signed, "GET", "/sync/events", "limit=10&after=3", b"", now=NOW)


@pytest.mark.parametrize("change", [
    {"path": "/sync/hello"}, {"query": "after=0&limit=10"}, {"method": "POST"},
    {"body": b"x"},
])
def test_any_change_to_the_signed_request_is_refused(change: dict[str, object]) -> None:
    signed = _signed()
    request = {"method": "GET", "path": "/sync/events", "query": "after=3&limit=10",
               "body": b"", **change}
    with pytest.raises(SignatureError, match="does not match"):
        verify_request(SECRET, signed, request["method"], request["path"],  # type: ignore[arg-type]
                       request["query"], request["body"], now=NOW)  # type: ignore[arg-type]


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_request("t" * 40, _signed(), "GET", "/sync/events", "after=3&limit=10", b"",
                       now=NOW)


def test_a_stale_or_future_timestamp_is_refused_with_the_window() -> None:
    for skew in (signing.WINDOW_MS + 1, -signing.WINDOW_MS - 1):
        with pytest.raises(SignatureError, match="window is 300 s"):
            verify_request(SECRET, _signed(), "GET", "/sync/events", "after=3&limit=10", b"",
                           now=NOW + skew)


@pytest.mark.parametrize("headers, reason", [
    ({}, "missing signature header"),
    ({"X-Hindsight-Key": "nothex!", "X-Hindsight-Timestamp": "1", "X-Hindsight-Nonce": "n" * 20,
      "X-Hindsight-Signature": "0" * 64}, "malformed key id"),
    ({"X-Hindsight-Key": "0" * 16, "X-Hindsight-Timestamp": "soon",
      "X-Hindsight-Nonce": "n" * 20, "X-Hindsight-Signature": "0" * 64}, "malformed timestamp"),
    ({"X-Hindsight-Key": "0" * 16, "X-Hindsight-Timestamp": "1", "X-Hindsight-Nonce": "short",
      "X-Hindsight-Signature": "0" * 64}, "malformed nonce"),
])
def test_missing_or_malformed_headers_are_named(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        signing.parse_request_headers(headers)


def test_a_response_is_bound_to_its_request_nonce_and_body() -> None:
    headers = signing.sign_response(SECRET, 200, b'{"a":1}', "nonce-one-1234567890")
    signing.verify_response(SECRET, headers, 200, b'{"a":1}', "nonce-one-1234567890")
    for status, body, nonce in ((200, b'{"a":2}', "nonce-one-1234567890"),
                                (200, b'{"a":1}', "nonce-two-1234567890"),
                                (201, b'{"a":1}', "nonce-one-1234567890")):
        with pytest.raises(SignatureError):
            signing.verify_response(SECRET, headers, status, body, nonce)
    with pytest.raises(SignatureError, match="not signed"):
        signing.verify_response(SECRET, {}, 200, b"{}", "nonce-one-1234567890")


def test_the_key_id_names_a_secret_without_revealing_it() -> None:
    kid = signing.key_id(SECRET)
    assert len(kid) == 16 and SECRET not in kid and kid == signing.key_id(SECRET)
    assert kid != signing.key_id(SECRET + "x")


def test_the_key_id_is_keyed_by_the_secret_not_a_plain_hash_of_it():
    import hashlib

    from webapp.sync.signing import key_id

    secret = "s" * 40
    assert len(key_id(secret)) == 16 and key_id(secret) != key_id(secret + "x")
    # A plain hash could be matched against hashes of guessed secrets.
    assert key_id(secret) != hashlib.sha256(secret.encode()).hexdigest()[:16]
