"""One origin's hash chain, walked in HLC order with bounded memory.

An honest chain links each event to the one before it in HLC order, the first to the
genesis hash. The walk keeps the last WINDOW events and the events whose predecessor has
not turned up (orphans), and tells the kinds of break apart:

- edited: an event's hash does not match its content;
- removed: an event links to a hash that no stored event has (the one before it was
  deleted, or edited and re-hashed);
- inserted: no event links to it (a second event claiming the same predecessor, or one
  linking to nothing, between two events that link to each other);
- reordered: an event links to one with a later HLC, or (this node's own chain) an
  event's seq is below the seq of the event before it: seq order is commit order.

A break is reported once, on the event that carries it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence

from ..node import GENESIS_HASH
from .findings import Break, EventRef, Kind, event_break

WINDOW = 256  # recent events kept per origin: far more than any honest reordering needs
MAX_ORPHANS = 10_000  # beyond this many open gaps, a gap is reported at once


class _Link:
    __slots__ = ("ref", "prev_hash", "digest", "linked", "orphan", "next_orphan",
                 "claimed_by", "rival")

    def __init__(self, ref: EventRef, prev_hash: str, digest: str) -> None:
        self.ref, self.prev_hash, self.digest = ref, prev_hash, digest
        self.linked = False  # some event links to this one
        self.orphan = False  # its predecessor has not turned up (yet)
        self.next_orphan: _Link | None = None  # the event after it, if an orphan
        self.claimed_by: _Link | None = None  # the first event that links to this one
        self.rival: EventRef | None = None  # another event claiming the same predecessor


class OriginWalk:
    def __init__(self, origin: str, local: bool = False, start: str = GENESIS_HASH) -> None:
        self.origin = origin
        self.start = start  # what its first event links to: genesis, or where it was compacted
        self.local = local  # this node's own chain: seq must rise along it
        self.window: OrderedDict[str, _Link] = OrderedDict()
        self.orphans: dict[str, _Link] = {}  # missing predecessor hash -> the orphan
        self.tail: _Link | None = None
        self.genesis_claimed: EventRef | None = None
        self.events = 0

    def add(self, ref: EventRef, prev_hash: str, digest: str,
            intact: bool) -> Sequence[Break]:
        """Take the next event in HLC order; the breaks that are certain now."""
        self.events += 1
        tail = self.tail
        if (intact and tail is not None and prev_hash == tail.digest and not self.orphans
                and tail.claimed_by is None and (not self.local or ref.seq > tail.ref.seq)):
            link = _Link(ref, prev_hash, digest)  # the usual case: it links to the last one
            tail.claimed_by, tail.linked = link, True
            self.tail = self.window[digest] = link
            if len(self.window) > WINDOW:
                oldest = self.window.popitem(last=False)[1]
                if not oldest.linked:
                    return list(self._settle(oldest))
            return ()
        return list(self._add(ref, prev_hash, digest, intact))

    def _add(self, ref: EventRef, prev_hash: str, digest: str, intact: bool) -> Iterator[Break]:
        if not intact:
            yield event_break(Kind.EDITED, self.origin, ref, "its hash does not match its "
                              "content: the row was changed after it was written")
        link = _Link(ref, prev_hash, digest)
        early = self.orphans.pop(digest, None)
        if early is not None:  # an event before it in HLC order links to it
            early.orphan, link.linked, link.claimed_by = False, True, early
            yield event_break(Kind.REORDERED, self.origin, early.ref,
                              f"it links to {ref}, whose HLC is later: out of HLC order")
        yield from self._link(link)
        if self.tail is not None and link.orphan:
            self.tail.next_orphan = link
        self.tail = self.window[digest] = link
        if len(self.window) > WINDOW:
            yield from self._settle(self.window.popitem(last=False)[1])

    def _link(self, link: _Link) -> Iterator[Break]:
        if link.prev_hash == self.start:
            if self.genesis_claimed is not None:
                link.rival = self.genesis_claimed
            self.genesis_claimed = self.genesis_claimed or link.ref
            return
        before = self.window.get(link.prev_hash)
        if before is None:
            link.orphan = True
            if len(self.orphans) >= MAX_ORPHANS:
                yield self._gap(link)
                link.orphan = False
            else:
                self.orphans[link.prev_hash] = link
            return
        if self.local and link.ref.seq < before.ref.seq:
            yield event_break(Kind.REORDERED, self.origin, link.ref,
                              f"it follows {before.ref} in its chain but has a lower seq: "
                              "the log's order was changed")
        if before.claimed_by is not None:
            link.rival, before.claimed_by.rival = before.claimed_by.ref, link.ref
        else:
            before.claimed_by = link
        before.linked = True

    def finish(self) -> Iterator[Break]:
        """The breaks left once every event of the origin has been seen."""
        while self.window:
            link = self.window.popitem(last=False)[1]
            if link is not self.tail:
                yield from self._settle(link)
        for link in self.orphans.values():
            yield self._gap(link) if link.linked or link is self.tail else self._stray(link)

    def _settle(self, link: _Link) -> Iterator[Break]:
        """An event leaving the window: no later event can link to it any more."""
        if link.linked or link.orphan or link is self.tail:
            return  # fine, or an orphan (reported by finish)
        if link.next_orphan is not None and link.next_orphan.orphan:
            return  # its successor is missing: reported as that gap
        yield self._stray(link)

    def _stray(self, link: _Link) -> Break:
        if link.rival is not None:
            why = (f"no event links to it, and it claims the same predecessor as "
                   f"{link.rival}")
        elif link.orphan:
            why = "no event links to it, and it links to no stored event"
        else:
            why = "no event links to it: the next event of its origin skips it"
        return event_break(Kind.INSERTED, self.origin, link.ref, why)

    def _gap(self, link: _Link) -> Break:
        return event_break(Kind.REMOVED, self.origin, link.ref,
                           f"it links to hash {link.prev_hash[:16]}…, which no stored event "
                           f"has: the event(s) before it were removed (or edited and re-hashed)")

    def head_differs(self, expected_hash: str, what: str) -> Break | None:
        """A break when the chain does not end where `what` (this node's state, or the
        head this node accepted from peers) says it ends; None when it does. Call it
        before finish()."""
        if self.tail is None or self.tail.digest == expected_hash:
            return None
        return event_break(Kind.INSERTED if expected_hash in self.window else Kind.REMOVED,
                           self.origin, self.tail.ref,
                           f"the chain ends here, but {what} says its last event has hash "
                           f"{expected_hash[:16]}…")

