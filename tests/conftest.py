"""Fixtures shared by every test layer. `backend` runs a test once per database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import webapp.schema  # noqa: F401  (every table on the metadata, in every test run)
from tests.support.databases import BACKENDS, empty_tables, fresh_engine
from webapp.audit.hlc import HybridClock
from webapp.audit.node import init_node
from webapp.audit.service import Auditor
from webapp.domain import registry


@pytest.fixture(scope="session")
def _engines() -> Iterator[dict[str, sa.Engine]]:
    engines: dict[str, sa.Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, _engines: dict[str, sa.Engine],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A migrated database of the current backend, emptied before each test."""
    if backend not in _engines:
        tmp: Path = tmp_path_factory.mktemp("db")
        _engines[backend] = fresh_engine(backend, "core", tmp)
    empty_tables(_engines[backend])
    yield _engines[backend]


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@pytest.fixture
def auditor(session: Session) -> Auditor:
    clock = HybridClock()
    return Auditor(registry, clock, init_node(session, "test", clock))
