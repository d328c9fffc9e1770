"""Where snapshots are kept: one file per snapshot, `<snapshot id>.jsonl` in a directory
(instance/snapshots by default). A file appears only once complete (whole_file), so
every `<ULID>.jsonl` there is whole; the newest id is the latest.
Pages of a file are read by byte offset, in bounded memory, for the sync protocol."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from . import snapshot
from .entity import Registry
from .ids import is_ulid, new_ulid
from .whole_file import whole_file

SUFFIX = ".jsonl"


class SnapshotNotFoundError(LookupError):
    """No such snapshot here (none taken yet, or a newer one replaced it)."""


def create(session: Session, registry: Registry, directory: Path,
           progress: snapshot.Progress | None = None) -> tuple[Path, snapshot.Summary]:
    """Take a snapshot into `directory` (made if missing); its path and summary."""
    directory.mkdir(parents=True, exist_ok=True)
    snapshot_id = new_ulid()
    path = directory / f"{snapshot_id}{SUFFIX}"
    with whole_file(path, durable=True) as out:
        summary = snapshot.write(session, registry, out, snapshot_id,
                                 time.time_ns() // 1_000_000, progress)
    return path, summary


def latest(directory: Path) -> Path:
    found = sorted(p for p in directory.glob(f"*{SUFFIX}") if is_ulid(p.stem)) \
        if directory.is_dir() else []
    if not found:
        raise SnapshotNotFoundError("this node has no snapshot yet (`flask audit snapshot`)")
    return found[-1]


def find(directory: Path, snapshot_id: str | None) -> Path:
    """The snapshot with this id, or the latest when None."""
    if snapshot_id is None:
        return latest(directory)
    path = directory / f"{snapshot_id}{SUFFIX}"
    if not is_ulid(snapshot_id) or not path.is_file():
        raise SnapshotNotFoundError(f"no snapshot {snapshot_id[:40]!r} here (a newer one may "
                                    "have replaced it: start again from the latest)")
    return path


def read_page(path: Path, offset: int, max_lines: int,
              max_bytes: int) -> tuple[list[bytes], int | None]:
    """Whole lines from byte `offset` (a line start): at most `max_lines` and `max_bytes`
    (a single longer line is refused). The offset of the next page, or None after the
    last line. ValueError for an offset that is not a line start."""
    with path.open("rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        if offset < 0 or offset > size:
            raise ValueError(f"offset {offset} is outside the snapshot (0 to {size})")
        if offset > 0:
            stream.seek(offset - 1)
            if stream.read(1) != b"\n":
                raise ValueError(f"offset {offset} is not the start of a line")
        stream.seek(offset)
        lines: list[bytes] = []
        taken = 0
        while len(lines) < max_lines:
            start = stream.tell()
            line = stream.readline(max_bytes + 1)
            if not line:
                return lines, None
            if lines and taken + len(line) > max_bytes:
                return lines, start
            if not line.endswith(b"\n"):
                raise ValueError(f"the snapshot line at offset {start} is too long or cut")
            lines.append(line[:-1])
            taken += len(line)
        return lines, (stream.tell() if stream.tell() < size else None)


def lines(path: Path) -> Iterator[Any]:
    """Each line of a snapshot file, decoded, one at a time. The standard library, not
    orjson: canonical.loads's check that orjson read no float would cost more than it
    saves on these nested lines."""
    with path.open("rb") as stream:
        for line in stream:
            yield json.loads(line)
