"""Snapshots on every backend: every record's state, version and vector, every
tombstone, each origin's chain head and the HLC frontier, all as of one point of the
log (a write during the snapshot is not in it), with an end line that proves the file
whole."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit import (
    CreateRecord,
    DeleteRecord,
    UpdateRecord,
    canonical,
    snapshot,
    snapshots,
    store,
)
from webapp.audit.tables import change_events, node_state, tombstones
from webapp.audit.transaction import record_from_row, state_of
from webapp.domain import registry

pytestmark = pytest.mark.backends


@pytest.fixture
def log(session, auditor):
    for n in range(3):
        team = auditor.execute(session, CreateRecord("team", {"slug": f"t{n}",
                                                              "name": f"T{n}"})).record
        auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": f"U{n}"}))
    gone = auditor.execute(session, CreateRecord("setting", {"key": "a.b", "value": "x"}))
    auditor.execute(session, DeleteRecord("setting", gone.record["id"], 1))
    auditor.execute(session, CreateRecord("setting", {"key": "c.d", "value": "=y"}))


def _read(path):
    lines = path.read_bytes().splitlines(keepends=True)
    return lines, [json.loads(line) for line in lines]


def test_a_snapshot_holds_every_record_tombstone_and_head(session, auditor, log, tmp_path):
    path, summary = snapshots.create(session, registry, tmp_path)
    raw, (header, *items, end) = _read(path)
    assert path.name == f"{summary.snapshot_id}.jsonl" and header["format"] == snapshot.FORMAT
    records = {(d["entity"], d["id"]): d for d in items if d["kind"] == "record"}
    expected = {}
    for entity in registry:
        for row in session.execute(sa.select(entity.table)):
            record = record_from_row(row)
            expected[(entity.name, record["id"])] = (state_of(entity, record), record["vv"],
                                                     record["version"])
    assert {k: (d["state"], d["vv"], d["version"]) for k, d in records.items()} == expected
    stones = [d for d in items if d["kind"] == "tombstone"]
    stored = session.execute(sa.select(tombstones)).one()._mapping
    assert len(stones) == 1 and stones[0]["record_id"] == stored["record_id"]
    assert stones[0]["vv"] == canonical.loads(stored["vv"])
    assert stones[0]["last_state"]["key"] == "a.b"
    state = session.execute(sa.select(node_state)).one()
    assert header["last_seq"] == state.last_seq == store.last_seq(session)
    assert header["hlc_frontier"] == state.last_hlc and header["node_id"] == auditor.node_id
    last = session.execute(sa.select(change_events).order_by(change_events.c.seq.desc())
                           .limit(1)).one()
    assert header["heads"][auditor.node_id] == {
        "event_id": last.event_id, "seq": last.seq, "hlc": last.hlc, "hash": last.hash,
        "signature": last.signature}
    assert header["compacted_through"] == 0 and header["starts"] == {}  # never compacted
    assert end == {"kind": "end", "records": len(expected), "tombstones": 1, "bases": 0,
                   "sha256": hashlib.sha256(b"".join(raw[:-1])).hexdigest()}
    assert snapshots.latest(tmp_path) == path


def test_writes_during_a_snapshot_are_not_in_it(engine, session, auditor, log, tmp_path,
                                                monkeypatch):
    monkeypatch.setattr(snapshot, "PAGE", 2)  # progress after every second line
    before = store.last_seq(session)
    written = []

    def write_meanwhile(done, total):
        if not written:  # records already being read: this write comes after the point
            with Session(engine) as other:
                written.append(auditor.execute(other, CreateRecord(
                    "team", {"slug": "late", "name": "Late"})).record["id"])

    path, summary = snapshots.create(session, registry, tmp_path, write_meanwhile)
    _, (header, *items, end) = _read(path)
    assert written and store.last_seq(session) == before + 1
    assert header["last_seq"] == summary.last_seq == before
    assert written[0] not in {d.get("id") for d in items}
    assert end["records"] == summary.records == 4  # three teams and a setting


def test_an_empty_directory_has_no_latest_snapshot(tmp_path):
    with pytest.raises(snapshots.SnapshotNotFoundError):
        snapshots.latest(tmp_path / "none")


def test_pages_hold_whole_lines_and_say_where_the_next_starts(session, auditor, log, tmp_path):
    path, _ = snapshots.create(session, registry, tmp_path)
    raw, _ = _read(path)
    got, offset = [], 0
    while offset is not None:
        lines, offset = snapshots.read_page(path, offset, max_lines=3, max_bytes=10_000)
        assert 1 <= len(lines) <= 3
        got += lines
    assert got == [line.rstrip(b"\n") for line in raw]
    with pytest.raises(ValueError, match="not the start of a line"):
        snapshots.read_page(path, 5, 3, 10_000)
    with pytest.raises(ValueError, match="outside the snapshot"):
        snapshots.read_page(path, len(b"".join(raw)) + 1, 3, 10_000)
