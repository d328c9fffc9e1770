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
    # By name, whatever the case, the same on every database.
    assert found is not None and list(found.values()) == ["a" * 100, "Berlin", "zürich — 東京"]


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


def _read(text: str | None, count: int, chars: int) -> dict[str, str] | None:
    return node_names_among({"node_names_text": text, "node_names_count": count,
                             "node_names_chars": chars})


def test_a_text_cut_short_is_not_misread() -> None:
    one, two = "01J00000000000000000000001", "01J00000000000000000000002"
    whole = f"{one}Berlin\x1d\x1e{two}Paris\x1d"
    chars = 52 + len("BerlinParis")
    assert _read(whole, 2, chars) == {one: "Berlin", two: "Paris"}
    for cut in (whole[:-1], whole[:-3], whole[:40]):  # as a length limit would cut it
        assert _read(cut, 2, chars) is None
    assert _read(None, 2, chars) is None
    # Cut right after a name that holds the separators and an id: as many parts as
    # nodes, each opening with an id, yet refused, for the characters are not all there.
    three = "01J00000000000000000000003"
    odd = f"A\x1d\x1e{three}Evil"
    text = f"{one}{odd}\x1d\x1e{two}Real\x1d\x1e{three}Third\x1d"
    cut = text[:text.index("Third") - len(three) - 1]
    assert cut.endswith("\x1d") and len(cut[:-1].split("\x1d\x1e")) == 3
    assert _read(cut, 3, 78 + len(odd) + len("RealThird")) is None
