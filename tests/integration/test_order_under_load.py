"""SPEC 4 under load: with several OS processes writing to one node, a reader that keeps
asking for "events after the last seq I saw" never finds a gap filled in behind it, and
the node's HLCs rise with its seq."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from webapp.audit.hlc import HybridClock
from webapp.audit.node import init_node
from webapp.audit.store import events_after

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 2.0  # of writing at least; longer (up to MAX_SECONDS) until they interleave,
MAX_SECONDS = 60.0  # which a busy machine's lock waits can delay
SKEWS_MS = (0, -5_000, 5_000)  # the workers' wall clocks disagree by up to ten seconds


def start_writers(url: str) -> list[subprocess.Popen[str]]:
    """Start the writer processes and, once every one is ready, let them all go."""
    writers = [subprocess.Popen(
        [sys.executable, "-m", "tests.integration.load_writer", url, str(n), str(MAX_SECONDS),
         str(skew)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for n, skew in enumerate(SKEWS_MS)]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready", (
            w.communicate(timeout=30)[1][-2000:])
    for w in writers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    return writers


def writer_of(event) -> str:
    state = event.post_state or event.pre_state
    return str(state["key"]).split(".")[1]  # load.w<n>.k<i>


def read_new(engine, last_seq: int) -> list:
    with Session(engine) as session:  # a fresh transaction, so a fresh snapshot, per read
        return events_after(session, last_seq, limit=100_000)


@pytest.mark.slow
def test_a_reader_following_the_log_never_sees_a_gap_filled_in_behind_it(engine, session):
    node_id = init_node(session, "load", HybridClock())
    writers = start_writers(engine.url.render_as_string(hide_password=False))
    seen: list[int] = []
    writers_in_order: list[str] = []
    last_seq, last_hlc, reads, reads_with_news = 0, 0, 0, 0
    began, stopped = time.monotonic(), False
    try:
        while True:
            if not stopped and time.monotonic() - began >= SECONDS and _interleaved(
                    writers_in_order) and reads_with_news >= 3:
                for w in writers:  # enough seen: let them finish
                    assert w.stdin is not None
                    w.stdin.write("stop\n")
                    w.stdin.flush()
                stopped = True
            running = any(w.poll() is None for w in writers)
            new = read_new(engine, last_seq)
            reads += 1
            if new:
                seqs = [e.seq for e in new]
                # Contiguous from just after what we saw: had a lower seq committed after a
                # higher one, some read would have shown the higher one with a hole below.
                assert seqs == list(range(last_seq + 1, last_seq + 1 + len(new))), (
                    f"read after seq {last_seq} returned {seqs[:5]}...")
                hlcs = [e.hlc for e in new]
                assert all(a < b for a, b in zip([last_hlc, *hlcs], hlcs, strict=False)), (
                    "HLC order differs from seq order")
                assert all(e.origin_node_id == node_id for e in new)
                seen.extend(seqs)
                writers_in_order.extend(writer_of(e) for e in new)
                last_seq, last_hlc = seqs[-1], hlcs[-1]
                reads_with_news += running
            if not running:
                break
            time.sleep(0.002)
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
    outputs = [w.communicate(timeout=30) for w in writers]
    for w, (_, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err[-2000:]
    written = sum(int(out.strip()) for out, _ in outputs)
    # Not vacuous: the processes' transactions interleaved, and the reader read while
    # they wrote (throughput itself is not asserted: this machine may be busy).
    assert _interleaved(writers_in_order), writers_in_order
    assert reads_with_news >= 3, "the reader never overlapped the writers"
    assert read_new(engine, last_seq) == []
    assert seen == list(range(1, written + 1))  # every committed event, each seen once


def _interleaved(writers_in_order: list[str]) -> bool:
    """Every writer's events were seen, and the log switched writers at least 3 times."""
    switches = sum(a != b for a, b in zip(writers_in_order, writers_in_order[1:], strict=False))
    return len(set(writers_in_order)) == len(SKEWS_MS) and switches >= 3
