"""Password hashes: argon2id (argon2-cffi) with bounded parameters on every verify.

New hashes use OWASP's argon2id setting (19 MiB, two passes, one lane), about 60 ms here.
A stored hash is only ever checked within bounds: a planted hash with an absurd cost (a
gigabyte of memory, a thousand passes, scrypt's p=1024) is refused at once, never run.
Older scrypt hashes still verify within their own bounds, and `needs_rehash` says when a
successful login should store the password again in the current form."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher, Type, exceptions, extract_parameters

TIME_COST, MEMORY_KIB, LANES = 2, 19_456, 1
_HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=LANES,
                         hash_len=32, salt_len=16, type=Type.ID)
# The most a stored argon2id hash may ask for; the least a peer's may offer.
MAX_TIME_COST, MAX_MEMORY_KIB, MAX_LANES = 6, 262_144, 8
_ARGON2 = re.compile(r"\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})"
                     r"\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", re.ASCII)
# The scrypt form this node wrote before argon2id (N=2^14, r=8, p=1), still accepted.
_SCRYPT = re.compile(r"scrypt\$16384\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{128}", re.ASCII)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def is_password_hash(value: object) -> bool:
    """Whether `value` is a hash this node may store and check: argon2id with at least
    the current cost and at most the bounds, or the old scrypt form (a peer may not hand
    this node a cleartext, a weaker scheme, cheaper parameters or a costly trap)."""
    if not isinstance(value, str):
        return False
    if _SCRYPT.fullmatch(value):
        return True
    found = _ARGON2.fullmatch(value)
    if not found:
        return False
    memory, time_cost, lanes = (int(part) for part in found.groups())
    return (MEMORY_KIB <= memory <= MAX_MEMORY_KIB and TIME_COST <= time_cost <= MAX_TIME_COST
            and LANES <= lanes <= MAX_LANES)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; False for any hash out of bounds."""
    if not is_password_hash(stored):
        return False
    assert stored is not None
    if stored.startswith("scrypt$"):
        _, _, _, _, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt),
                                   n=2**14, r=8, p=1)
        return hmac.compare_digest(candidate.hex(), digest)
    try:
        return bool(_HASHER.verify(stored, password))
    except (exceptions.VerificationError, exceptions.InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash that just verified should be stored again in the current form."""
    if not stored.startswith("$argon2id$"):
        return True
    params = extract_parameters(stored)
    return (params.time_cost, params.memory_cost, params.parallelism) != (
        TIME_COST, MEMORY_KIB, LANES)


def dummy_hash() -> str:
    """A hash of nothing anyone knows, to check when a username is unknown."""
    return hash_password(secrets.token_hex(16))
