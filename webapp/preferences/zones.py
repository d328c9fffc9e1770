"""The time zone a user reads and filters times in: their stored choice, else the
deployment's (HINDSIGHT_TIMEZONE, UTC by default). Every page shows times in it, DateTime
fields are typed in it, and the timeline's date filters read typed times in it, so the
time shown on an event is the time to type to find it."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_login import current_user
from sqlalchemy.orm import Session

from ..extensions import db
from .tables import user_preferences

DEFAULT = "UTC"


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones offered, UTC first."""
    return (DEFAULT, *sorted(z for z in available_timezones()
                             if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/",
                                                               "right/"))))


@cache
def _offered() -> frozenset[str]:
    return frozenset(zone_names())


def zone(name: str) -> ZoneInfo:
    """ValueError for a name that is not an offered zone."""
    if name not in _offered():
        raise ValueError(f"unknown time zone {name[:64]!r}")
    return ZoneInfo(name)


def deployment_zone_name() -> str:
    """HINDSIGHT_TIMEZONE where it is an offered zone: what users who chose none see."""
    name = current_app.config.get("HINDSIGHT_TIMEZONE", DEFAULT) if has_app_context() \
        else DEFAULT
    return name if name in _offered() else DEFAULT


def stored_zone(session: Session, user_id: str) -> str:
    return chosen_or_default(session.execute(
        sa.select(user_preferences.c.time_zone)
        .where(user_preferences.c.user_id == user_id)).scalar())


def chosen_or_default(found: str | None) -> str:
    """A stored choice (None: none) if it is still an offered zone, else the deployment's."""
    return str(found) if found and found in _offered() else deployment_zone_name()


def remember_choice(found: str | None) -> None:
    """The signed-in user's stored choice, read along with their account (one query per
    request, webapp/auth/reader.py): current_zone_name() then reads no more."""
    g.time_zone = chosen_or_default(found)


def store_zone(session: Session, user_id: str, name: str) -> None:
    zone(name)  # refuse an unknown name before writing
    table = user_preferences
    updated = session.execute(table.update().where(table.c.user_id == user_id)
                              .values(time_zone=name)).rowcount
    if not updated:
        session.execute(table.insert().values(user_id=user_id, time_zone=name))
    session.commit()


def current_zone_name() -> str:
    """The signed-in user's zone (read once per request), else the deployment's."""
    if "time_zone" not in g:
        user_id = getattr(current_user, "id", None)
        g.time_zone = stored_zone(db.session(), user_id) if user_id \
            else deployment_zone_name()
    return str(g.time_zone)


def current_zone() -> ZoneInfo:
    if "time_zone_info" not in g:  # once per request: every time on a page asks
        g.time_zone_info = zone(current_zone_name())
    return g.time_zone_info  # type: ignore[no-any-return]


def in_zone(moment: datetime | None) -> datetime | None:
    """A UTC datetime shown in the reader's zone (a template filter)."""
    return moment.astimezone(current_zone()) if moment is not None else None
