"""Node names read along another statement (audit.lookups.NODE_NAMES_COLUMNS, which
every page's reader statement carries) read back as node_names reads them, on every
database; a text that cannot be read back for sure is refused, never misread."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit.lookups import NODE_NAMES_COLUMNS, node_names, node_names_among
from webapp.audit.tables import nodes

pytestmark = pytest.mark.backends
ALONG = sa.select(*NODE_NAMES_COLUMNS)


def _add(session: Session, node_id: str, name: str) -> None:
    session.execute(sa.insert(nodes).values(node_id=node_id, name=name, is_self=False,
                                            first_seen_hlc=1))


def _along(session: Session) -> dict[str, str] | None:
    return node_names_among(session.execute(ALONG).one()._mapping)


def test_names_read_along_are_the_names_in_their_order(session: Session) -> None:
    assert _along(session) == node_names(session) == {}
    _add(session, "01J00000000000000000000002", "zürich — 東京")
    _add(session, "01J00000000000000000000001", "Berlin")
    _add(session, "01J00000000000000000000003", "a" * 100)
    found = _along(session)
    assert found == node_names(session) == {
        "01J00000000000000000000001": "Berlin", "01J00000000000000000000003": "a" * 100,
        "01J00000000000000000000002": "zürich — 東京"}
    assert found is not None and list(found.values()) == ["Berlin", "a" * 100, "zürich — 東京"]


@pytest.mark.parametrize("name", ["evil\x1d\x1e01J00000000000000000000009x", "\x1d\x1e",
                                  "ends\x1d", "\x1e", "x\x1dy"])
def test_a_name_holding_the_separators_is_not_misread(session: Session, name: str) -> None:
    # A peer's hello may name a node with control characters (names a node gives
    # itself cannot hold them): the text is read right or refused (None: the caller
    # reads node_names apart), never read as other names.
    _add(session, "01J00000000000000000000001", "Berlin")
    _add(session, "01J00000000000000000000002", name)
    assert node_names(session)["01J00000000000000000000002"] == name
    assert _along(session) in (None, node_names(session))
    if "\x1d\x1e" in name:  # it would split into one node too many
        assert _along(session) is None


def test_a_text_cut_short_is_not_misread() -> None:
    whole = "01J00000000000000000000001Berlin\x1d\x1e01J00000000000000000000002Paris\x1d"
    assert node_names_among({"node_names_text": whole, "node_names_count": 2}) == {
        "01J00000000000000000000001": "Berlin", "01J00000000000000000000002": "Paris"}
    for cut in (whole[:-1], whole[:-3], whole[:40]):  # as a length limit would cut it
        assert node_names_among({"node_names_text": cut, "node_names_count": 2}) is None
    assert node_names_among({"node_names_text": None, "node_names_count": 2}) is None
