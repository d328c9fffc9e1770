"""A writer process for the order-under-load test: writes through the audit core as a
separate web worker would, with its own clock (optionally skewed) and its own pool.

    python -m tests.integration.load_writer URL WRITER_NO SECONDS SKEW_MS

Prints "ready" once imported and connected, waits for a line on stdin, writes until a
second line comes (or for SECONDS at most), then prints the number of events it
committed."""

from __future__ import annotations

import select
import sys
import time

from sqlalchemy.orm import Session

from webapp.audit import CreateRecord, UpdateRecord
from webapp.audit.db import make_engine
from webapp.audit.hlc import HybridClock, wall_ms
from webapp.audit.node import load_node
from webapp.audit.service import Auditor
from webapp.domain import registry


def main(url: str, writer: int, seconds: float, skew_ms: int) -> int:
    engine = make_engine(url)
    written = 0
    with Session(engine) as session:
        stored = load_node(session)
        assert stored is not None, "the test initialises the node first"
        session.rollback()
        auditor = Auditor(registry, HybridClock(wall=lambda: wall_ms() + skew_ms), stored[0])
        print("ready", flush=True)
        sys.stdin.readline()  # start together with the other writers
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline and not _told_to_stop():
            # Vary the transaction size: one create, or a create and an update together.
            create = CreateRecord("setting", {"key": f"load.w{writer}.k{n}", "value": "v"})
            if n % 3:
                auditor.execute(session, create)
                written += 1
            else:
                auditor.execute_all(session, [create, UpdateRecord(
                    "setting", create.record_id, 1, {"value": "changed"})])
                written += 2
            n += 1
    engine.dispose()
    return written


def _told_to_stop() -> bool:
    return bool(select.select([sys.stdin], [], [], 0)[0])


if __name__ == "__main__":
    url, writer, seconds, skew = sys.argv[1:5]
    print(main(url, int(writer), float(seconds), int(skew)))
