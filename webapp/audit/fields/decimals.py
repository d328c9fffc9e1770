"""Decimal: an exact amount with a declared precision (digits in all) and scale (digits
after the point). Never a float: it is read from text or a whole number, and kept as
its canonical text ("12.50") in params, states, events and exports."""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from ..params import Invalid, Param
from .columns import ExactDecimal

MAX_PRECISION = 30  # NUMERIC(30, s) is exact on PostgreSQL and MariaDB (up to 65)
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# sign, whole digits, fraction digits: the canonical text is made from these, without
# decimal arithmetic (a value is cleaned on every command and every replicated event).
_PARTS = re.compile(r"([-+]?)0*([0-9]*)(?:\.([0-9]*))?")


@dataclass(frozen=True)
class Decimal(Param):
    precision: int = 12
    scale: int = 2
    min_value: str | None = None  # as text, e.g. "0" for no negative amounts
    max_value: str | None = None
    kind: ClassVar[str] = "decimal"

    def check(self) -> None:
        super().check()
        if not (type(self.precision) is int and type(self.scale) is int
                and 0 <= self.scale <= self.precision <= MAX_PRECISION and self.precision):
            raise ValueError(f"precision and scale must satisfy 0 <= scale <= precision <= "
                             f"{MAX_PRECISION}, 1 <= precision "
                             f"(got {self.precision}, {self.scale})")
        for bound in (self.min_value, self.max_value):
            if bound is not None and not (isinstance(bound, str) and _NUMBER.fullmatch(bound)):
                raise ValueError(f"bound {bound!r} must be a number written as text")
        if (self.min_value is not None and self.max_value is not None
                and decimal.Decimal(self.min_value) > decimal.Decimal(self.max_value)):
            raise ValueError(f"min_value {self.min_value} is above max_value {self.max_value}")

    def clean(self, value: Any) -> str:
        if isinstance(value, bool) or isinstance(value, float):
            raise Invalid("must be written as text (e.g. \"12.50\"), never a floating-point number")
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str | decimal.Decimal):
            raise Invalid("must be a number such as 12.50")
        text = value.strip() if isinstance(value, str) else format(value, "f")
        if len(text) > 80 or not _NUMBER.fullmatch(text):
            raise Invalid("must be a number such as 12.50 (digits, one point, no exponent)")
        canonical = self._canonical(text)
        if self.min_value is not None or self.max_value is not None:
            exact = decimal.Decimal(canonical)
            if self.min_value is not None and exact < decimal.Decimal(self.min_value):
                raise Invalid(f"must be at least {self.min_value}")
            if self.max_value is not None and exact > decimal.Decimal(self.max_value):
                raise Invalid(f"must be at most {self.max_value}")
        return canonical

    def _canonical(self, text: str) -> str:
        """"-012.5" -> "-12.50" at scale 2: whole digits without leading zeros (one "0" at
        least), exactly `scale` fraction digits, no sign on zero."""
        found = _PARTS.fullmatch(text)
        assert found is not None  # _NUMBER matched
        sign, whole, fraction = found.group(1), found.group(2) or "0", found.group(3) or ""
        if len(fraction) > self.scale:
            if fraction[self.scale:].strip("0"):
                raise Invalid(f"must have at most {self.scale} decimal places")
            fraction = fraction[:self.scale]
        if len(whole) > self.precision - self.scale and whole != "0":
            raise Invalid(f"must have at most {self.precision - self.scale} digits before "
                          "the point")
        fraction = fraction.ljust(self.scale, "0")
        digits = whole + ("." + fraction if self.scale else "")
        negative = sign == "-" and (whole != "0" or fraction.strip("0"))
        return "-" + digits if negative else digits

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return ExactDecimal(self.precision, self.scale)
