"""Reads a page makes on every view, made along with the statement that every signed-in
request runs anyway (the reader's account, session and chrome: webapp/auth/reader.py),
so that they cost the page no round trip of their own: each round trip costs the app
more CPU than a small read's rows (SQLAlchemy's and the driver's work per statement).

A page names its reads by endpoint (`on`); the reader's statement for that endpoint
carries their columns; the view asks for each (`value`). As with the chrome, only a GET
or HEAD uses what was read along: it changes nothing before the view reads. A read that
did not ride along (any other request, a page without a signed-in reader) or that did
not read back for sure (`Along.among` says None) is read apart, when the view asks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import g, request
from sqlalchemy.orm import Session

from .extensions import db

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Along(Generic[T]):
    """A read that can ride along: scalar columns (labelled apart from every other
    column of the reader's statement), how to take its value from a row holding them
    (None: not for sure), and how to read it apart."""
    columns: tuple[sa.Label[Any], ...]
    among: Callable[[Mapping[str, Any]], T | None]
    apart: Callable[[Session], T]


_ON: dict[str, tuple[Along[Any], ...]] = {}


def on(endpoint: str, *reads: Along[Any]) -> None:
    """Have every view of `endpoint` read `reads` along."""
    _ON[endpoint] = reads


def asked() -> tuple[Along[Any], ...]:
    """The reads this request's statement should carry."""
    if request.method not in ("GET", "HEAD"):
        return ()
    return _ON.get(request.endpoint or "", ())


def remember(reads: tuple[Along[Any], ...], row: Mapping[str, Any]) -> None:
    """The reader's row, which holds the columns of `reads`."""
    g.along = (reads, row)


def value(read: Along[T]) -> T:
    """What `read` reads, for this request: as read along, else read now."""
    reads, row = g.get("along", ((), None))
    if read in reads:
        found = read.among(row)
        if found is not None:
            return found
    return read.apart(db.session())
