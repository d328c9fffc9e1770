"""Id lists (replication's IN queries) find the same rows however each database gets
them: bound (SQLite), one split text (PostgreSQL) or checked literals (MariaDB)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.core_helpers import new_team
from webapp.audit.idlists import list_style, one_of
from webapp.domain import teams

_BY_IDS = {style: sa.select(teams.table.c.slug).where(one_of(teams.table.c.id, "ids", style))
           for style in ("bind", "array", "inline")}


def _slugs(session, ids):
    rows = session.execute(_BY_IDS[list_style(session)], {"ids": ids}).scalars()
    return sorted(rows)


def test_lists_of_every_length_find_their_rows(session, auditor):
    made = [new_team(auditor, session, f"team-{i}")["id"] for i in range(3)]
    assert _slugs(session, []) == []
    assert _slugs(session, made[:1]) == ["team-0"]
    assert _slugs(session, [*made, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]) == ["team-0", "team-1",
                                                                       "team-2"]


@pytest.mark.parametrize("bad", ["a,b", "x' OR '1'='1", "", "é"])
def test_a_list_item_that_is_not_an_id_never_reaches_the_sql(session, auditor, bad):
    made = new_team(auditor, session, "only")["id"]
    if list_style(session) == "bind":  # bound values are never parsed: it just matches nothing
        assert _slugs(session, [made, bad]) == ["only"]
        return
    with pytest.raises(sa.exc.StatementError, match="id|digest"):
        _slugs(session, [made, bad])
