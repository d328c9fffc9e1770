"""Current-record reads: one by id, and searchable, filterable keyset pages."""

from __future__ import annotations

import pytest

from tests.integration.core_helpers import new_team
from webapp.audit import CreateRecord, DeleteRecord
from webapp.audit.records import count_matching, count_records, get_record, list_records, titles
from webapp.domain import projects, teams


@pytest.fixture
def sample(session, auditor):
    made = [new_team(auditor, session, slug, description=text) for slug, text in [
        ("red", "Équipe ROUGE"), ("blue", "100% blue_team"), ("green", "grün und groß"),
        ("grey", None), ("black", "ÉCOLE")]]
    session.rollback()
    return {r["slug"]: r for r in made}


def test_get_record_returns_the_row_with_its_version_vector(session, auditor, sample):
    red = get_record(session, teams, sample["red"]["id"])
    assert red == sample["red"] and red["vv"] == {auditor.node_id: 1}
    assert get_record(session, teams, "01ARZ3NDEKTSV4RRFFQ69G5FAV") is None


def test_pages_are_newest_first_and_cover_every_record_once(session, sample):
    seen, after = [], None
    while True:
        page = list_records(session, teams, after=after, limit=2)
        seen += [r["slug"] for r in page.records]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == ["black", "grey", "green", "blue", "red"]


@pytest.mark.parametrize("needle, found", [
    ("rouge", {"red"}), ("ROUGE", {"red"}), ("  Rouge ", {"red"}), ("re", {"red", "green",
                                                                           "grey"}),
    ("100%", {"blue"}), ("%", {"blue"}), ("_", {"blue"}), ("e_t", {"blue"}),
    ("xyz", set()), ("", {"red", "blue", "green", "grey", "black"}),
])
def test_search_matches_any_search_field_ignoring_case_and_wildcards(session, sample, needle,
                                                                      found):
    assert {r["slug"] for r in list_records(session, teams, search=needle).records} == found


@pytest.mark.parametrize("needle, found", [("équipe", {"red"}), ("ÉQUIPE", {"red"}),
                                           ("école", {"black"}), ("GRÜN", {"green"})])
def test_search_ignores_case_beyond_ascii_on_every_database(session, sample, needle, found):
    assert {r["slug"] for r in list_records(session, teams, search=needle).records} == found


def test_filters_apply_only_to_declared_filter_fields(session, auditor, sample):
    for name, status in [("Apollo", "active"), ("Gemini", "done")]:
        auditor.execute(session, CreateRecord("project", {
            "name": name, "team_id": sample["red"]["id"], "status": status}))
    session.rollback()
    active = list_records(session, projects, filters={"status": "active"}).records
    assert [r["name"] for r in active] == ["Apollo"]
    every = list_records(session, projects, filters={"name": "Apollo", "status": ""}).records
    assert len(every) == 2  # "name" is not a filter field and a blank filter is no filter


def test_titles_name_records_by_their_title_field(session, sample):
    ids = [sample["red"]["id"], sample["blue"]["id"], "01ARZ3NDEKTSV4RRFFQ69G5FAV"]
    assert titles(session, teams, ids) == {sample["red"]["id"]: "Red",
                                           sample["blue"]["id"]: "Blue"}
    assert titles(session, teams, []) == {}


def test_count_records_counts_live_records_only(session, auditor, sample):
    assert count_records(session, teams) == 5
    assert count_records(session, projects) == 0
    grey = sample["grey"]
    auditor.execute(session, DeleteRecord("team", grey["id"], grey["version"]))
    assert count_records(session, teams) == 4  # the tombstone is not a record


def test_sorted_pages_cover_every_record_once_with_empty_values_last(session, sample):
    orders = []
    for descending in (False, True):
        seen, after = [], None
        while True:
            page = list_records(session, teams, after=after, limit=2, sort="description",
                                descending=descending)
            seen += [r["slug"] for r in page.records]
            if page.next_after is None:
                break
            after = page.next_after
        assert sorted(seen) == sorted(sample) and len(seen) == len(sample)
        assert seen[-1] == "grey"  # the one without a description, last either way
        orders.append(seen[:-1])
    assert orders[1] == orders[0][::-1]  # the database's collation, both ways
    assert count_matching(session, teams, "rouge") == 1
    assert count_matching(session, teams) == len(sample)
