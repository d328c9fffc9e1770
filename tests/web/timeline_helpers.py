"""Helpers for timeline and record page tests: read events out of pages, and store an
event from another node (a peer's event as replication would have stored it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.audit import store
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import pack
from webapp.audit.ids import new_ulid
from webapp.audit.tables import change_events, nodes
from webapp.domain import registry
from webapp.extensions import db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
_EVENT_ID = re.compile(r'<li class="event [^"]*" id="event-([0-9A-Z]{26})"')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def event_ids(html: str) -> list[str]:
    """Event ids in the order the page lists them."""
    return _EVENT_ID.findall(html)


def next_link(html: str) -> str | None:
    found = _NEXT.search(html)
    return unescape(found.group(1)) if found else None


def follow_pages(client: FlaskClient, url: str) -> list[tuple[str, str]]:
    """(url, html) of every page from `url` on, following the "older events" links."""
    pages: list[tuple[str, str]] = []
    next_url: str | None = url
    while next_url:
        html = client.get(next_url).get_data(as_text=True)
        pages.append((next_url, html))
        next_url = next_link(html)
    return pages


def all_events(app: Flask, **filters: Any) -> list[ChangeEvent]:
    """Every event, newest first, straight from the store (for comparing with pages)."""
    with app.app_context():
        page = store.timeline(db.session, store.TimelineFilter(**filters), limit=10_000)
        return page.events


def store_peer_event(app: Flask, when: datetime, name: str = "Old peer team",
                     node_name: str = "peer-eu", **fields: Any) -> ChangeEvent:
    """An event that happened on another node at `when`, stored as a peer's event is:
    with its own origin node id and HLC, and this node's next seq. By default a team
    `created` there; pass op, params, pre_state and post_state for anything else."""
    node_id, record_id = new_ulid(), new_ulid()
    hlc = pack(int(when.replace(tzinfo=UTC).timestamp() * 1000), 3)
    state = {"id": record_id, "slug": "old-peer", "name": name, "description": None}
    doc: dict[str, Any] = {"op": "created", "record_id": record_id, "params": dict(state),
                           "pre_state": None, "post_state": state, **fields}
    with app.app_context():
        seq = db.session.execute(sa.select(sa.func.max(change_events.c.seq))).scalar() or 0
        event = ChangeEvent(
            event_id=new_ulid(), origin_node_id=node_id, hlc=hlc, entity="team",
            vv_before={}, vv_after={node_id: 1},
            schema_version=registry.get("team").schema_version,
            idempotency_key=f"peer:{new_ulid()}", user_id="peer-admin", seq=seq + 1,
            prev_hash="0" * 64, hash="f" * 64, **doc)
        db.session.execute(nodes.insert().values(node_id=node_id, name=node_name,
                                                 is_self=False, first_seen_hlc=hlc))
        db.session.execute(change_events.insert().values(**event.to_row()))
        db.session.commit()
    return event
