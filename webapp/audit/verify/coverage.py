"""Which events of one origin a valid signature covers, walked in chain order.

The origin signs the last event of each of its transactions; a signature over an
event's hash covers it and, through the hash links, every event before it. So an event
is covered when it or a later event of its origin carries a signature that verifies
against the origin's pinned key. Events after the last valid signature are covered by
none: a break, unless the origin never signed anything (events written before it had a
key: verified by hash chain only).

Checking one signature costs about as much as hashing a hundred events, so by default
only the signatures that carry the proof are checked: the last one before each place
where the links stop (a chain break) and the last one of the origin. An intact chain
up to a valid signature proves every event before it; a signature in between adds
nothing. `every=True` checks each signature. Memory: counts and one pending signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .findings import Break, EventRef, Kind, event_break

# (public key hex, origin node id, event hash, signature hex) -> valid?
VerifySignature = Callable[[str, str, str, str], bool]


@dataclass
class _Signed:
    ref: EventRef
    digest: str
    signature: str
    through: int  # events it would cover: the unproven ones up to and including it


class Coverage:
    def __init__(self, origin: str, public_key: str | None, verify: VerifySignature | None,
                 fingerprint: str = "", every: bool = False) -> None:
        self.origin, self.key, self.verify = origin, public_key, verify
        self.fingerprint, self.every = fingerprint, every
        self.signed = 0  # covered by a verified signature
        self.unproven = 0  # since the last verified signature, in this linked stretch
        self.lost = 0  # cut off from every later signature by a chain break
        self.last_ref: EventRef | None = None
        self.pending: _Signed | None = None  # the latest signature, not checked yet
        self.ever_signed = False
        self.unpinned_reported = False

    def add(self, ref: EventRef, digest: str, signature: str | None,
            continuous: bool) -> list[Break]:
        """Take the next event; `continuous`: it links to the event before it."""
        found = [] if continuous else self._cut()
        self.unproven += 1
        self.last_ref = ref
        if signature is None:
            return found
        if self.key is None or self.verify is None:
            if not self.unpinned_reported:
                self.unpinned_reported = True
                found.append(event_break(Kind.SIGNATURE, self.origin, ref, "it is signed, "
                                         "but this node has no pinned key for its origin"))
            return found
        self.ever_signed = True  # from here on, an uncovered event is a break
        self.pending = _Signed(ref, digest, signature, self.unproven)
        return found + self._check() if self.every else found

    def _check(self) -> list[Break]:
        """Check the pending signature: valid, it proves the events up to it."""
        signed, self.pending = self.pending, None
        if signed is None or self.key is None or self.verify is None:
            return []
        if not self.verify(self.key, self.origin, signed.digest, signed.signature):
            return [event_break(Kind.SIGNATURE, self.origin, signed.ref, "its signature does "
                                f"not verify against the origin's pinned key {self.fingerprint}")]
        self.signed += signed.through
        self.unproven -= signed.through
        return []

    def _cut(self) -> list[Break]:
        """A chain break: no later signature reaches the events before it."""
        found = self._check()
        self.lost += self.unproven
        self.unproven = 0
        return found

    def finish(self) -> list[Break]:
        """The last signature's check, and the break for events no signature covers."""
        found = self._check()
        uncovered = self.unproven + self.lost
        if not uncovered or not self.ever_signed:
            return found
        assert self.last_ref is not None
        return found + [event_break(
            Kind.SIGNATURE, self.origin, self.last_ref,
            f"{uncovered} event(s) of this origin are covered by no valid signature (after "
            "its last valid one, or cut off from it by a chain break)")]

    @property
    def chain_only(self) -> int:
        """Events of the pre-key era (the origin never signed): hash chain only."""
        return 0 if self.ever_signed else self.unproven + self.lost
