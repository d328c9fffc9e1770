"""A file that appears whole or not at all: written under a temporary name in its own
directory, then renamed over `path` (atomic on one file system). On any error, the
partial file is removed and `path` is left as it was."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def whole_file(path: Path, durable: bool = False) -> Iterator[IO[bytes]]:
    """`durable`: flushed to disk before the rename, so a crash cannot leave the name
    on a file the disk never got whole (what a node serves needs it; a download not)."""
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
