"""Reads a page makes on every view, made along with the statement that every signed-in
request runs anyway (the reader's account, session and chrome: webapp/auth/reader.py),
so that they cost the page no round trip of their own: each round trip costs the app
more CPU than a small read's rows (SQLAlchemy's and the driver's work per statement).

A page names its reads by endpoint (`on`); the reader's statement for that endpoint
carries their columns; the view asks for each (`value`). As with the chrome, only a GET
or HEAD uses what was read along, and its view asks before it writes anything (the home
page's roll-up counts new events after). A read that did not ride along (any other
request, a page without a signed-in reader) or that did not read back for sure
(`Along.among` says None) is read apart, when the view asks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import g, request
from sqlalchemy.orm import Session

from .extensions import db
from .readends import READS

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Along(Generic[T]):
    """A read that can ride along: its columns (labelled apart from every other column
    of the reader's statement: scalar subqueries, or columns of `joins`, tables LEFT
    JOINed on a condition of their own), how to take its value from a row holding them
    (None: not for sure), and how to read it apart (None: the view says, see value)."""
    columns: tuple[sa.Label[Any], ...]
    among: Callable[[Mapping[str, Any]], T | None]
    apart: Callable[[Session], T] | None = None
    joins: tuple[tuple[sa.FromClause, sa.ColumnElement[bool]], ...] = ()


# What a view reads along that depends on its request: (reads, their parameters), given
# the URL's arguments (e.g. the record a record page shows).
Given = Callable[[Mapping[str, Any]], tuple[tuple[Along[Any], ...], Mapping[str, Any]]]
_ON: dict[str, tuple[tuple[Along[Any], ...], Given | None]] = {}


def on(endpoint: str, *reads: Along[Any], given: Given | None = None) -> None:
    """Have every view of `endpoint` read `reads` along, and what `given` says."""
    _ON[endpoint] = (reads, given)


def asked() -> tuple[tuple[Along[Any], ...], Mapping[str, Any]]:
    """The reads this request's statement should carry, and their parameters."""
    if request.method not in READS:
        return (), {}
    reads, given = _ON.get(request.endpoint or "", ((), None))
    if given is None:
        return reads, {}
    more, params = given(request.view_args or {})
    return (*reads, *more), params


def remember(reads: tuple[Along[Any], ...], row: Mapping[str, Any]) -> None:
    """The reader's row, which holds the columns of `reads`."""
    g.along = (reads, row)


def value(read: Along[T], apart: Callable[[Session], T] | None = None) -> T:
    """What `read` reads, for this request: as read along, else read now (by `apart`,
    or the read's own)."""
    reads, row = g.get("along", ((), None))
    if read in reads:
        found = read.among(row)
        if found is not None:
            return found
    reader = apart or read.apart
    if reader is None:
        raise TypeError("this read says no way to read it apart: the view must")
    return reader(db.session())
