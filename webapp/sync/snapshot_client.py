"""Fetching a peer's latest snapshot (GET /sync/snapshot), page by page: each page is a
signed response like any other, holds whole lines of the snapshot file and says where
the next starts. The lines are written out as they come (bounded memory), and the
snapshot is accepted only whole: one header first, one snapshot id throughout, and an
end line whose SHA-256 and counts match the lines before it."""

from __future__ import annotations

import hashlib
from typing import IO, Any

from ..audit import canonical
from ..audit.ids import is_ulid
from ..audit.snapshot import FORMAT
from .client import PeerClient
from .protocol import SNAPSHOT_LINES, ProtocolError


def fetch(client: PeerClient, out: IO[bytes], expect_node: str | None = None,
          limit: int = SNAPSHOT_LINES) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write the peer's latest snapshot to `out`; its (header, end) lines."""
    reader = _Reader()
    snapshot_id: str | None = None
    after: int | None = 0
    while after is not None:
        page = client.snapshot_page(snapshot_id, after, limit)
        if expect_node is not None and page.get("node_id") != expect_node:
            raise ProtocolError(f"the peer answered as node {str(page.get('node_id'))[:40]!r}, "
                                f"not the pinned {expect_node}")
        found = page.get("snapshot_id")
        if not is_ulid(found) or (snapshot_id is not None and found != snapshot_id):
            raise ProtocolError("the snapshot changed while it was being fetched; fetch again")
        snapshot_id = found
        lines, nxt = page.get("lines"), page.get("next")
        if not isinstance(lines, list) or not (nxt is None or (
                isinstance(nxt, int) and not isinstance(nxt, bool) and nxt > after)):
            raise ProtocolError("a snapshot page without lines or with a bad next offset")
        for doc in lines:
            out.write(reader.take(doc, str(snapshot_id)))
        after = nxt
    return reader.finish()


class _Reader:
    """Checks the lines in order and keeps their running digest."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.header: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.counts = {"record": 0, "tombstone": 0, "base": 0}

    def take(self, doc: Any, snapshot_id: str) -> bytes:
        kind = doc.get("kind") if isinstance(doc, dict) else None
        line = canonical.dumps(doc).encode() + b"\n"
        if self.end is not None:
            raise ProtocolError("the snapshot has lines after its end")
        if self.header is None:
            if kind != "header" or doc.get("format") != FORMAT \
                    or doc.get("snapshot_id") != snapshot_id:
                raise ProtocolError(f"the snapshot does not start with a {FORMAT} header")
            self.header = doc
        elif kind == "end":
            self._check_end(doc)
            self.end = doc
            return line
        elif kind in self.counts:
            self.counts[kind] += 1
        else:
            raise ProtocolError(f"the snapshot holds a line of unknown kind {str(kind)[:20]!r}")
        self.digest.update(line)
        return line

    def _check_end(self, doc: dict[str, Any]) -> None:
        if doc.get("sha256") != self.digest.hexdigest():
            raise ProtocolError("the snapshot's lines do not match its SHA-256")
        if doc.get("records") != self.counts["record"] \
                or doc.get("tombstones") != self.counts["tombstone"] \
                or doc.get("bases", 0) != self.counts["base"]:
            raise ProtocolError("the snapshot's counts do not match its lines")

    def finish(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.header is None or self.end is None:
            raise ProtocolError("the snapshot ended before its end line")
        return self.header, self.end
