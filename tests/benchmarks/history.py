"""A synthetic but well-formed audit history: creates, updates and deletes of users,
teams, projects and settings from three nodes over the past year, in HLC order.

Rows come out in the column order of `change_events`; the records' final states and the
tombstones of deleted ones come out at the end. Each origin's events form a real hash
chain (so `flask audit verify` has a clean million to check); dataset.py gives each
node a key and signs the head of its chain, as `flask node init` does for a node that
wrote before it had a key. Everything is what the core would have written."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ulid import ULID

from webapp.audit.hlc import pack, wall_ms
from webapp.audit.node import GENESIS_HASH
from webapp.audit.verify.chaincheck import CHAIN_COLUMNS, content_hash

YEAR_MS = 365 * 24 * 3600 * 1000
NODES = {"bench-local": 0.6, "bench-east": 0.25, "bench-west": 0.15}
ADMIN = "bench-admin"
SHARE = {"setting": 0.6, "project": 0.33, "team": 0.065, "user": 0.005}  # of the records
STATUSES = ("planned", "active", "paused", "done")
# The change_events columns each event row fills, in order.
EVENT_COLUMNS = ("seq", "event_id", "origin_node_id", "hlc", "entity", "record_id", "op",
                 "params", "pre_state", "post_state", "vv_before", "vv_after", "schema_version",
                 "idempotency_key", "user_id", "request_id", "client_ip", "session_id",
                 "tenant_id", "trace_id", "span_id", "meta", "prev_hash", "hash")
WORDS = ("alpha", "beta", "gamma", "delta", "north", "south", "core", "edge", "data", "web")


# Canonical JSON as the core writes it; one encoder, built once, is twice as fast.
dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


@dataclass(eq=False)
class Record:
    entity: str
    id: str
    state: dict[str, Any]
    vv: dict[str, int] = field(default_factory=dict)
    hlc: int = 0
    origin: str = ""
    hot: bool = False
    state_json: str | None = None  # the last event's post-state, the next one's pre-state
    vv_json: str = "{}"
    deleted_by: str = ""  # the event that deleted it


class History:
    def __init__(self, events: int, seed: int = 7) -> None:
        self.total = events
        self.rng = random.Random(seed)
        self.node_ids = {name: str(ULID()) for name in NODES}
        self.records_wanted = max(events // 20, 300)
        self.live: list[Record] = []
        self.hot: list[Record] = []  # 1% of records get 20% of the updates
        self.gone: list[Record] = []
        self.users: list[str] = []
        self.counts: dict[str, int] = {}  # events per record id
        self.teams: list[str] = []
        self.heads: dict[str, str] = {}  # origin -> hash of its last event
        self.head_seqs: dict[str, int] = {}  # origin -> seq of its last event
        self.start_ms = wall_ms() - YEAR_MS
        self.step_ms = (YEAR_MS - 120_000) / events

    # -- the fields of each entity ------------------------------------------------------
    def _fields(self, entity: str, n: int) -> dict[str, Any]:
        word = self.rng.choice(WORDS)
        if entity == "user":
            name = ADMIN if n == 0 else f"user-{n}"
            return {"username": name, "email": f"{name}@example.org", "full_name": f"User {n}",
                    "role": "admin" if n == 0 else self.rng.choice(("viewer", "editor")),
                    "active": True, "password": None}
        if entity == "team":
            return {"slug": f"team-{n}", "name": f"Team {word} {n}",
                    "description": f"The {word} team, number {n}."}
        if entity == "project":
            return {"name": f"Project {word} {n}", "team_id": self.rng.choice(self.teams),
                    "status": "planned", "budget": None,
                    "description": f"Delivers the {word} work stream for quarter {n % 4 + 1}."}
        return {"key": f"app.{word}.option_{n}", "value": f"{word}-{n}"}

    def _change(self, record: Record) -> dict[str, Any]:
        n, word = self.rng.randrange(10_000), self.rng.choice(WORDS)
        if record.entity == "user":
            return {"full_name": f"User {word} {n}"}
        if record.entity == "team":
            return {"name": f"Team {word} {n}"}
        if record.entity == "project":
            return self.rng.choice(({"status": self.rng.choice(STATUSES)},
                                    {"budget": f"{n} EUR"}, {"description": f"Now {word} {n}."}))
        return {"value": f"{word}-{n} retries={n % 9}"}

    # -- the event stream ---------------------------------------------------------------
    def events(self) -> Iterator[tuple[Any, ...]]:
        rng, made = self.rng, 0
        origins, weights = tuple(self.node_ids.values()), tuple(NODES.values())
        create_rate = 1.6 * self.records_wanted / self.total  # creates end ~60% into history
        users_needed = max(int(self.records_wanted * SHARE["user"]), 5)
        teams_needed = max(int(self.records_wanted * SHARE["team"]), 5)
        for seq in range(1, self.total + 1):
            ms = int(self.start_ms + seq * self.step_ms)
            origin = rng.choices(origins, weights, k=1)[0]
            if len(self.users) < users_needed:
                yield self._create(seq, ms, origin, "user", len(self.users))
            elif len(self.teams) < teams_needed:
                yield self._create(seq, ms, origin, "team", len(self.teams))
            elif made < self.records_wanted and rng.random() < create_rate:
                entity = "setting" if rng.random() < 0.64 else "project"
                made += 1
                yield self._create(seq, ms, origin, entity, made)
            elif rng.random() < 0.002 and len(self.live) > 1000:
                yield self._delete(seq, ms, origin)
            else:
                pool = self.hot if self.hot and rng.random() < 0.2 else self.live
                yield self._update(seq, ms, origin, rng.choice(pool))

    def _row(self, seq: int, ms: int, origin: str, record: Record, op: str,
             params: dict[str, Any]) -> tuple[Any, ...]:
        hlc, pre, vv_before = pack(ms, 0), record.state_json, record.vv_json
        record.vv[origin] = record.vv.get(origin, 0) + 1
        record.hlc, record.origin, record.vv_json = hlc, origin, dumps(record.vv)
        if op != "deleted":
            record.state_json = dumps({"id": record.id, **record.state})
        post = None if op == "deleted" else record.state_json
        event_id = str(ULID.from_timestamp(ms / 1000))
        rng = self.rng
        user = rng.choice(self.users) if self.users and rng.random() < 0.9 else "system"
        self.counts[record.id] = self.counts.get(record.id, 0) + 1
        if op == "deleted":
            record.deleted_by = event_id
        prev = self.heads.get(origin, GENESIS_HASH)
        row = [seq, event_id, origin, hlc, record.entity, record.id, op, dumps(params), pre,
               post, vv_before, record.vv_json, 1, f"auto:{event_id}", user,
               f"{rng.getrandbits(64):016x}", f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
               f"{rng.getrandbits(64):016x}", None, f"{rng.getrandbits(128):032x}",
               f"{rng.getrandbits(64):016x}", "{}", prev, ""]
        named = dict(zip(EVENT_COLUMNS, row, strict=True))
        row[-1] = self.heads[origin] = content_hash([named[c] for c in CHAIN_COLUMNS])
        self.head_seqs[origin] = seq
        return tuple(row)

    def _create(self, seq: int, ms: int, origin: str, entity: str, n: int) -> tuple[Any, ...]:
        record = Record(entity, str(ULID.from_timestamp(ms / 1000)), self._fields(entity, n))
        {"user": self.users, "team": self.teams}.get(entity, []).append(record.id)
        self.live.append(record)
        if self.rng.random() < 0.01:
            record.hot = True
            self.hot.append(record)
        return self._row(seq, ms, origin, record, "created", dict(record.state))

    def _update(self, seq: int, ms: int, origin: str, record: Record) -> tuple[Any, ...]:
        params = self._change(record)
        record.state.update(params)
        return self._row(seq, ms, origin, record, "updated", params)

    def _delete(self, seq: int, ms: int, origin: str) -> tuple[Any, ...]:
        at = self.rng.randrange(len(self.live))
        record = self.live[at]
        if record.entity != "setting" or record.hot:
            return self._update(seq, ms, origin, record)
        self.live[at] = self.live[-1]
        self.live.pop()
        self.gone.append(record)
        return self._row(seq, ms, origin, record, "deleted", {})

    # -- what the events leave behind ---------------------------------------------------
    def record_rows(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.live:
            out.setdefault(r.entity, []).append({
                "id": r.id, "version": sum(r.vv.values()), "vv": dumps(r.vv), "hlc": r.hlc,
                "origin_node_id": r.origin, **r.state})
        return out

    def tombstone_rows(self) -> list[dict[str, Any]]:
        return [{"entity": r.entity, "record_id": r.id, "vv": dumps(r.vv), "hlc": r.hlc,
                 "origin_node_id": r.origin, "event_id": r.deleted_by,
                 "last_state": dumps({"id": r.id, **r.state}), "schema_version": 1}
                for r in self.gone]
