"""Which events of one origin a valid signature covers, walked in chain order.

The origin signs the last event of each of its transactions; a signature over an
event's hash covers it and, through the hash links, every event before it. So an event
is covered when it or a later event of its origin carries a signature that verifies
against the origin's pinned key. Events after the last valid signature are covered by
none: a break, unless the origin never signed anything (events written before it had a
key: verified by hash chain only). Memory: a count and the first uncovered event."""

from __future__ import annotations

from collections.abc import Callable

from .findings import Break, EventRef, Kind, event_break

# (public key hex, origin node id, event hash, signature hex) -> valid?
VerifySignature = Callable[[str, str, str, str], bool]


class Coverage:
    def __init__(self, origin: str, public_key: str | None, verify: VerifySignature | None,
                 fingerprint: str = "") -> None:
        self.origin, self.key, self.verify = origin, public_key, verify
        self.fingerprint = fingerprint
        self.signed = 0  # covered by a valid signature
        self.pending = 0  # not covered (yet): since the last valid signature
        self.first_pending: EventRef | None = None
        self.last_pending: EventRef | None = None
        self.ever_signed = False
        self.unpinned_reported = False

    def add(self, ref: EventRef, digest: str, signature: str | None) -> Break | None:
        self.pending += 1
        self.first_pending = self.first_pending or ref
        self.last_pending = ref
        if signature is None:
            return None
        if self.key is None or self.verify is None:
            if self.unpinned_reported:
                return None
            self.unpinned_reported = True
            return event_break(Kind.SIGNATURE, self.origin, ref, "it is signed, but this "
                               "node has no pinned key for its origin to check it with")
        if not self.verify(self.key, self.origin, digest, signature):
            return event_break(Kind.SIGNATURE, self.origin, ref, "its signature does not "
                               f"verify against the origin's pinned key {self.fingerprint}")
        self.ever_signed = True
        self.signed += self.pending
        self.pending, self.first_pending = 0, None
        return None

    def finish(self) -> Break | None:
        """The break for events no signature covers, if any; counts the rest."""
        if not self.pending or not self.ever_signed or self.first_pending is None:
            return None
        assert self.last_pending is not None
        span = (str(self.first_pending) if self.pending == 1 else
                f"{self.first_pending} to {self.last_pending}")
        return event_break(Kind.SIGNATURE, self.origin, self.first_pending,
                           f"{self.pending} event(s), {span}, come after the origin's last "
                           "valid signature: no signature covers them")

    @property
    def chain_only(self) -> int:
        """Events of the pre-key era (the origin never signed): hash chain only."""
        return 0 if self.ever_signed else self.pending
