"""Date and DateTime fields: a calendar day, and a moment stored in UTC to the second.

The range is what every supported database stores (MariaDB's DATE and DATETIME start
at the year 1000); a declaration may narrow it with `earliest` / `latest`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from ..params import Invalid, Param
from .columns import UTC, IsoDate, UtcDateTime, datetime_text

FIRST_DAY, LAST_DAY = "1000-01-01", "9999-12-31"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A day, then a time to the minute or second, then an optional zone (Z or +hh:mm).
_MOMENT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2})?)"
                     r"(Z|[+-][0-9]{2}:[0-9]{2})?")


def _day(text: str) -> dt.date:
    if not _DAY.fullmatch(text):
        raise Invalid("must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text} is not a day of the calendar") from None


def moment_text(utc_text: str, zone: dt.tzinfo | None = None) -> str:
    """A stored moment for people: "2026-12-07 10:30:00 UTC", or in `zone`
    ("2026-12-07 11:30:00 CET")."""
    if zone is None:
        return utc_text.replace("T", " ").replace("Z", " UTC")
    moment = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + (moment.tzname() or "")


def _check_range(earliest: str, latest: str) -> None:
    try:
        first, last = _day(earliest), _day(latest)
    except Invalid as exc:
        raise ValueError(f"earliest/latest: {exc}") from None
    if not (_day(FIRST_DAY) <= first <= last <= _day(LAST_DAY)):
        raise ValueError(f"earliest and latest must lie in order within {FIRST_DAY} .. {LAST_DAY}")


@dataclass(frozen=True)
class _Ranged(Param):
    """A field of days between `earliest` and `latest` (inclusive, YYYY-MM-DD)."""

    earliest: str = FIRST_DAY
    latest: str = LAST_DAY

    def check(self) -> None:
        super().check()
        _check_range(self.earliest, self.latest)


@dataclass(frozen=True)
class Date(_Ranged):
    kind: ClassVar[str] = "date"

    def clean(self, value: Any) -> str:
        if isinstance(value, dt.datetime) or not isinstance(value, str | dt.date):
            raise Invalid("must be a date written YYYY-MM-DD")
        day = value if isinstance(value, dt.date) else _day(value.strip())
        if not self.earliest <= day.isoformat() <= self.latest:
            raise Invalid(f"must be between {self.earliest} and {self.latest}")
        return day.isoformat()

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return IsoDate()


@dataclass(frozen=True)
class DateTime(_Ranged):
    """A moment, kept in UTC. Text without a zone is read as UTC (forms convert from the
    admin's zone before the core sees it); fractions of a second are refused."""

    kind: ClassVar[str] = "datetime"

    def clean(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        elif isinstance(value, str) and (found := _MOMENT.fullmatch(value.strip())):
            day, time, zone = found.groups()
            _day(day)
            try:
                moment = dt.datetime.fromisoformat(f"{day}T{time}{zone or '+00:00'}"
                                                   .replace("Z", "+00:00"))
            except (ValueError, OverflowError):
                raise Invalid(f"{value.strip()[:40]} is not a moment of the calendar") from None
        else:
            raise Invalid("must be a date and time written YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]")
        if moment.microsecond:
            raise Invalid("must be to the second (no fractions)")
        try:
            utc = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise Invalid(f"must be between {self.earliest} and {self.latest} (UTC)") from None
        if not self.earliest <= utc.date().isoformat() <= self.latest:
            raise Invalid(f"must be between {self.earliest} and {self.latest} (UTC)")
        return datetime_text(utc)

    def display(self, value: Any) -> str:
        return moment_text(str(value))

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return UtcDateTime()
