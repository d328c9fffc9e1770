"""Password hashes: argon2id, bounded on verify (a planted costly hash is refused without
being run), the old scrypt form still verifying and flagged for a rehash."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher

from webapp.audit import passwords
from webapp.audit.passwords import (
    hash_password,
    is_password_hash,
    needs_rehash,
    verify_password,
)

SALT = bytes(range(16))


def _scrypt(password: str, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    digest = hashlib.scrypt(password.encode(), salt=SALT, n=n, r=r, p=p)
    return f"scrypt${n}${r}${p}${SALT.hex()}${digest.hex()}"


def test_new_hashes_are_argon2id_and_need_no_rehash():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not needs_rehash(stored) and is_password_hash(stored)


def test_the_old_scrypt_form_still_verifies_and_asks_for_a_rehash():
    stored = _scrypt("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong horse battery")
    assert needs_rehash(stored)


def test_argon2id_with_other_parameters_in_bounds_verifies_and_asks_for_a_rehash():
    stored = PasswordHasher(time_cost=3, memory_cost=19456, parallelism=1).hash("pw-in-bounds")
    assert verify_password(stored, "pw-in-bounds") and needs_rehash(stored)


@pytest.mark.parametrize("planted", [
    # scrypt that the old code ran with whatever n, r, p the hash named
    "scrypt$16384$8$1024$" + SALT.hex() + "$" + "00" * 64,
    "scrypt$1048576$8$1$" + SALT.hex() + "$" + "00" * 64,
    "scrypt$16384$64$1$" + SALT.hex() + "$" + "00" * 64,
    # argon2 asking for 4 GiB, a thousand passes, or 255 lanes
    "$argon2id$v=19$m=4194304,t=2,p=1$" + "A" * 22 + "$" + "A" * 43,
    "$argon2id$v=19$m=19456,t=999,p=1$" + "A" * 22 + "$" + "A" * 43,
    "$argon2id$v=19$m=19456,t=2,p=255$" + "A" * 22 + "$" + "A" * 43,
    # cheaper than the current cost, or not argon2id
    "$argon2id$v=19$m=8,t=1,p=1$" + "A" * 22 + "$" + "A" * 43,
    "$argon2i$v=19$m=19456,t=2,p=1$" + "A" * 22 + "$" + "A" * 43,
    "$argon2id$v=16$m=19456,t=2,p=1$" + "A" * 22 + "$" + "A" * 43,
])
def test_a_planted_hash_with_an_absurd_or_weak_cost_is_refused_without_running(
        planted, monkeypatch):
    ran = []
    monkeypatch.setattr(passwords.hashlib, "scrypt", lambda *a, **k: ran.append(k))
    monkeypatch.setattr(passwords, "_HASHER", None)  # any use of it would raise
    assert verify_password(planted, "anything at all") is False
    assert ran == []  # refused by its form: the cost it names is never paid
    assert not is_password_hash(planted)
