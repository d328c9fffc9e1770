"""What verification finds: each break names its origin, its event (seq and id) and its
kind, with a sentence an admin can act on; a summary counts what was checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Kind:
    EDITED = "edited"  # the event's hash does not match its content
    REMOVED = "removed"  # a gap: an event links to a hash no stored event has
    INSERTED = "inserted"  # no event links to it / it claims another's predecessor
    REORDERED = "reordered"  # links present, but out of HLC (or, locally, seq) order
    SIGNATURE = "signature"  # a bad signature, or events no valid signature covers
    RECORD = "record"  # a current record or tombstone differs from what its events say
    ALL = (EDITED, REMOVED, INSERTED, REORDERED, SIGNATURE, RECORD)


class EventRef(NamedTuple):  # a tuple: one is made for every event verified
    """Where an event sits: its node-local seq, id and origin HLC."""
    seq: int
    event_id: str
    hlc: int

    def __str__(self) -> str:
        return f"seq {self.seq} (event {self.event_id})"


@dataclass(frozen=True)
class Break:
    kind: str
    origin_node_id: str  # for a record: the origin of the event it was checked against
    where: str  # "seq 12 (event 01H...)" or "team 01H..."
    detail: str
    event_id: str | None = None
    seq: int | None = None

    def line(self) -> str:
        origin = f"origin {self.origin_node_id}: " if self.origin_node_id else ""
        return f"{self.kind.upper()}: {origin}{self.where}: {self.detail}"


def event_break(kind: str, origin: str, ref: EventRef, detail: str) -> Break:
    return Break(kind, origin, str(ref), detail, ref.event_id, ref.seq)


@dataclass
class Summary:
    events: int = 0
    origins: int = 0
    signed: int = 0  # events covered by a valid signature of their origin
    chain_only: int = 0  # events of the pre-key era: verified by hash chain only
    records: int = 0  # current records and tombstones compared with their events
    breaks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Kind.ALL, 0))
    # What rests on a peer's word: records whose bases came in its snapshot.
    resting: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.breaks.values())

    def count(self, found: Break) -> None:
        self.breaks[found.kind] += 1

    def line(self) -> str:
        checked = (f"{self.events:,} events of {self.origins} origin(s) "
                   f"({self.signed:,} covered by signatures, {self.chain_only:,} by hash "
                   f"chain only), {self.records:,} records and tombstones")
        if self.ok and self.resting:  # not "no break found": the bases are not proven
            return (f"verified from the snapshot on: {checked}; no break after it, but "
                    + "; ".join(self.resting))
        if self.ok:
            return f"verified: {checked}; no break found"
        found = ", ".join(f"{n} {k}" for k, n in self.breaks.items() if n)
        return f"FAILED: {sum(self.breaks.values())} break(s) ({found}) in {checked}"
