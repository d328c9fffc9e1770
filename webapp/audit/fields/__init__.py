"""Field types businesses use, beyond the core's text-like params: dates, moments,
exact decimals and web links. Each validates in the core and stores one canonical text
in events (see columns.py)."""

from .dates import Date, DateTime, moment_text
from .decimals import Decimal
from .links import URL

__all__ = ["URL", "Date", "DateTime", "Decimal", "moment_text"]
