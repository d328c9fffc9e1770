"""The timeline benchmark's databases: a History bulk-loaded once per backend and kept.

A marker table records the event count and a fingerprint of the schema; a database whose
marker matches is reused as it is, so only the first run pays for the load. The event
table's secondary indexes are dropped for the load and built afterwards (much faster
than keeping them up to date row by row); they are the metadata's own definitions."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from webapp.audit import keys
from webapp.audit.db import make_engine
from webapp.audit.tables import change_events, node_state, nodes, tombstones
from webapp.domain import registry
from webapp.schema import metadata

from .common import DATA_DIR, Progress, bench_url, say
from .history import EVENT_COLUMNS, History

GENERATOR = "history-v4"  # v2: real hash chains, tombstones name events; v3: signed heads;
# v4: the local node's private key is kept (key_path), so benches can write (log in)
MARKER = "hs_bench_marker"
CHUNK = 10_000


@dataclass(frozen=True)
class Facts:
    events: int
    hot: tuple[str, str]  # (entity, record id) of the record with the most events
    typical: tuple[str, str]  # a record with a typical number of events
    hot_events: int
    typical_events: int


def fingerprint(events: int) -> str:
    shape = [GENERATOR, str(events)]
    for table in sorted(metadata.sorted_tables, key=lambda t: t.name):
        shape.append(table.name + ":" + ",".join(f"{c.name} {c.type}" for c in table.columns))
        shape += sorted(f"{i.name}({','.join(c.name for c in i.columns)})" for i in table.indexes)
    return hashlib.sha256("\n".join(shape).encode()).hexdigest()[:32]


def read_marker(engine: sa.Engine, events: int) -> Facts | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(MARKER):
            return None
        row = conn.execute(sa.text(f"SELECT * FROM {MARKER}")).mappings().first()
    if row is None or row["fingerprint"] != fingerprint(events):
        return None
    return Facts(events, (row["hot_entity"], row["hot_id"]),
                 (row["typical_entity"], row["typical_id"]), row["hot_events"],
                 row["typical_events"])


def ensured_urls(backends: list[str], events: int) -> dict[str, str]:
    """The URL of each backend's `events`-event history, loaded first where missing:
    for the sections that run a `flask` command over it in a process of its own."""
    engines = {b: make_engine(bench_url(b, f"timeline_{events}", fresh=False))
               for b in backends}
    ensure(engines, events)
    urls = {b: e.url.render_as_string(hide_password=False) for b, e in engines.items()}
    for engine in engines.values():
        engine.dispose()
    return urls


def ensure(engines: dict[str, sa.Engine], events: int) -> dict[str, Facts]:
    """Facts of each database, loading those whose marker does not match first."""
    facts = {b: f for b, e in engines.items() if (f := read_marker(e, events)) is not None}
    for backend in facts:
        say(f"  {backend}: reusing the {events:,}-event history already loaded")
    todo = {b: e for b, e in engines.items() if b not in facts}
    if todo:
        facts.update(_load(todo, events))
    return facts


def _load(engines: dict[str, sa.Engine], events: int) -> dict[str, Facts]:
    history = History(events)
    event_indexes = [i for i in change_events.indexes if not i.unique]
    for engine in engines.values():
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {MARKER}"))
        metadata.create_all(engine)
        for index in event_indexes:
            index.drop(engine)
    writers = {b: _Writer(b, e) for b, e in engines.items()}
    closers = [w.close for w in writers.values()]
    bar = Progress(f"events into {'+'.join(engines)}", events)
    chunk: list[tuple[Any, ...]] = []
    for row in history.events():
        chunk.append(row)
        if len(chunk) == CHUNK:
            for write in writers.values():
                write(chunk)
            bar.advance(len(chunk))
            chunk = []
    if chunk:
        for write in writers.values():
            write(chunk)
        bar.advance(len(chunk))
    bar.close()
    for close in closers:
        close()
    return {b: _finish(b, e, history, event_indexes) for b, e in engines.items()}


class _Writer:
    """Appends event rows over one raw driver connection: COPY on PostgreSQL,
    executemany elsewhere; one commit per chunk."""

    def __init__(self, backend: str, engine: sa.Engine) -> None:
        missing = set(EVENT_COLUMNS) - set(change_events.c.keys())
        if missing:
            raise RuntimeError(f"change_events lacks columns {sorted(missing)}")
        self.backend, self.raw = backend, engine.raw_connection()
        self.driver: Any = self.raw.driver_connection
        self.names = ", ".join(EVENT_COLUMNS)
        mark = "?" if backend == "sqlite" else "%s"
        self.insert = (f"INSERT INTO change_events ({self.names}) "
                       f"VALUES ({', '.join([mark] * len(EVENT_COLUMNS))})")
        if backend == "sqlite":  # generated data: no fsync per chunk
            self.driver.execute("PRAGMA synchronous=OFF")

    def __call__(self, rows: list[tuple[Any, ...]]) -> None:
        if self.backend == "postgresql":
            with self.driver.cursor() as cur, cur.copy(
                    f"COPY change_events ({self.names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur = self.raw.cursor()
            cur.executemany(self.insert, rows)
            cur.close()
        self.raw.commit()

    def close(self) -> None:
        self.raw.invalidate()  # never hand the unsynchronised connection back to the pool


def _finish(backend: str, engine: sa.Engine, history: History,
            event_indexes: list[sa.Index]) -> Facts:
    for index in event_indexes:
        start = time.perf_counter()
        index.create(engine)
        say(f"  {backend}: built {index.name} in {time.perf_counter() - start:.1f} s")
    local = history.node_ids["bench-local"]
    last = history.total
    with engine.begin() as conn:
        for entity, rows in history.record_rows().items():
            conn.execute(registry.get(entity).table.insert(), rows)
        if history.gone:
            conn.execute(tombstones.insert(), history.tombstone_rows())
        public = _sign_heads(conn, history)
        conn.execute(nodes.insert(), [{"node_id": i, "name": n, "is_self": n == "bench-local",
                                       "first_seen_hlc": 0, "public_key": public[i]}
                                      for n, i in history.node_ids.items()])
        last_hlc = conn.execute(sa.select(change_events.c.hlc).where(
            change_events.c.seq == last)).scalar_one()
        conn.execute(node_state.insert().values(id=1, node_id=local, last_seq=last,
                                                last_hlc=last_hlc,
                                                last_hash=history.heads[local],
                                                public_key=public[local]))
    _analyze(backend, engine)
    counts = history.counts
    hot = max(history.live, key=lambda r: counts[r.id])
    typical = sorted(history.live, key=lambda r: counts[r.id])[len(history.live) // 2]
    facts = Facts(last, (hot.entity, hot.id), (typical.entity, typical.id), counts[hot.id],
                  counts[typical.id])
    _write_marker(engine, facts)
    return facts


def key_path(url: sa.URL) -> Path:
    """Where the bench node's private key is kept (git-ignored instance/bench/, 0600)."""
    return DATA_DIR / f"{Path(str(url.database)).name}.key"


def private_key_hex(url: sa.URL) -> str | None:
    path = key_path(url)
    return path.read_text().strip() if path.exists() else None


def _sign_heads(conn: sa.Connection, history: History) -> dict[str, str]:
    """A key per node, and a signature on the head of its chain, which covers every
    event of it (as `flask node init` seals a chain written before the node had a key).
    Returns {node id: public key}; the local node's private key is kept (key_path)."""
    public = {}
    for name, node_id in history.node_ids.items():
        private = keys.new_private_key()
        if name == "bench-local":
            _keep(conn.engine.url, private)
        head = history.heads[node_id]
        conn.execute(change_events.update().where(
            change_events.c.seq == history.head_seqs[node_id]).values(
                signature=keys.sign(private, node_id, head)))
        public[node_id] = keys.public_key_hex(private)
    return public


def _keep(url: sa.URL, private: Any) -> None:
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    path = key_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(raw)


def _analyze(backend: str, engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE"))


def _write_marker(engine: sa.Engine, facts: Facts) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TABLE {MARKER} (fingerprint VARCHAR(64), hot_entity VARCHAR(40), "
            "hot_id VARCHAR(26), typical_entity VARCHAR(40), typical_id VARCHAR(26), "
            "hot_events INTEGER, typical_events INTEGER)"))
        conn.execute(sa.text(f"INSERT INTO {MARKER} VALUES (:f, :he, :hi, :te, :ti, :hn, :tn)"),
                     {"f": fingerprint(facts.events), "he": facts.hot[0], "hi": facts.hot[1],
                      "te": facts.typical[0], "ti": facts.typical[1], "hn": facts.hot_events,
                      "tn": facts.typical_events})
