"""Column types for the business field types. Events, params and states hold each value
as one canonical text ("2026-12-07", "2026-12-07T10:30:00Z", "12.50"): canonical JSON
and hashes are then the same on every database. These types turn that text into the
database's own type and back, so a row read from any database gives the same text."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import sqlalchemy as sa

UTC = dt.UTC


def decimal_text(value: decimal.Decimal, scale: int) -> str:
    """The one text of a decimal at `scale` places: "12.50", never "12.5" or "-0.00"."""
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        fixed = value.quantize(decimal.Decimal(1).scaleb(-scale))
    text = format(fixed, "f")
    return text[1:] if fixed.is_zero() and text.startswith("-") else text


def datetime_text(value: dt.datetime) -> str:
    """UTC to the second: "2026-12-07T10:30:00Z". A naive value is already UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


class IsoDate(sa.types.TypeDecorator[str]):
    impl = sa.Date
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return value.isoformat()  # type: ignore[no-any-return]


class UtcDateTime(sa.types.TypeDecorator[str]):
    """A naive DATETIME/TIMESTAMP holding UTC (MariaDB's DATETIME has no zone)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return datetime_text(value)


class ExactDecimal(sa.types.TypeDecorator[str]):
    """NUMERIC(precision, scale) on PostgreSQL and MariaDB. SQLite has no exact decimal
    (its NUMERIC keeps 15 digits as a float), so there the canonical text is stored."""

    impl = sa.Numeric
    cache_ok = True
    name = None  # no named constraint (Alembic's batch rename asks; Numeric has no name)

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(self.precision + 2))
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        """The params' value is already the canonical text (Decimal.clean made it)."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return value if isinstance(value, str) else decimal_text(value, self.scale)
        return decimal.Decimal(value) if isinstance(value, str | int) else value

    def result_processor(self, dialect: sa.Dialect, coltype: Any) -> Any:
        """Not the impl's: the drivers give a Decimal (PostgreSQL, MariaDB) or the text
        (SQLite) already, and a prepared statement (prepared.py) knows no column type."""
        scale = self.scale

        def process(value: Any) -> str | None:
            if value is None or isinstance(value, str):  # SQLite: the stored canonical text
                return value
            if isinstance(value, float):  # never expected: a value written around this type
                value = repr(value)
            return decimal_text(decimal.Decimal(value), scale)
        return process
