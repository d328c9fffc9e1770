"""Salted scrypt password hashes (hashlib only, so the core needs no web framework)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


_OWN_FORM = re.compile(rf"^scrypt\${_N}\${_R}\${_P}\$[0-9a-f]{{32}}\$[0-9a-f]{{128}}$")


def is_password_hash(value: object) -> bool:
    """Whether `value` is a hash in exactly the form hash_password writes (a peer may
    not hand this node a cleartext, a weaker scheme or cheaper parameters)."""
    return isinstance(value, str) and bool(_OWN_FORM.fullmatch(value))


def verify_password(stored: str | None, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)
