"""Query plans of the timeline reads, so a reader sees which index answers each page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from .common import say

INDEX = re.compile(r"\b(ix_events_\w+|uq_change_events_\w+|pk_change_events)\b")


def captured(engine: sa.Engine, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements (with parameters) `call` sends that read change_events."""
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: Any) -> None:
        if "FROM change_events" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def explain(engine: sa.Engine, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    if engine.dialect.name == "sqlite":
        return [str(r[-1]) for r in rows]
    return [str(r[0]) for r in rows]


def show(engine: sa.Engine, calls: dict[str, Callable[[], Any]]) -> None:
    say("    query plans:")
    for name, call in calls.items():
        for statement, parameters in captured(engine, call):
            lines = explain(engine, statement, parameters)
            used = sorted({m for line in lines for m in INDEX.findall(line)})
            sort = any("TEMP B-TREE" in line or line.strip().startswith("Sort") for line in lines)
            say(f"      {name}: index {', '.join(used) or 'NONE'}"
                f"{' + sort step' if sort else ''}")
            for line in lines[:8]:
                say(f"          {line.rstrip()}")
