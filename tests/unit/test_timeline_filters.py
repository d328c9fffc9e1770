"""Parsing timeline filters from a query string: times, resolution, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webapp.timeline.filters import BadFilterError, Resolvers, parse, parse_time

ENTITIES = ("team", "user")


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("text, end, expected", [
    ("2024-05-01", False, _ms(2024, 5, 1)),
    ("2024-05-01", True, _ms(2024, 5, 2) - 1),
    ("2024-05-01T14:30", True, _ms(2024, 5, 1, 14, 31) - 1),
    ("2024-05-01 14:30:15", False, _ms(2024, 5, 1, 14, 30, 15)),
    ("2024-05-01T14:30:15.250Z", True, _ms(2024, 5, 1, 14, 30, 15) + 250),
    ("2024-05-01T16:30+02:00", False, _ms(2024, 5, 1, 14, 30)),
])
def test_times_are_utc_unless_they_say_otherwise_and_ends_are_inclusive(text, end, expected):
    assert parse_time(text, end) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-5-1", "2024-05-01T25:00", "1969-12-31",
                                  "20240501", "2024-05-01T14"])
def test_other_time_formats_are_refused(text):
    with pytest.raises(ValueError):
        parse_time(text, False)


def test_usernames_and_node_names_resolve_to_ids_and_empty_fields_are_dropped():
    resolve = Resolvers(user_id={"ann": "01J0000000000000000000000U"}.get,
                        node_id={"eu": "01J0000000000000000000000N"}.get,
                        record_entity=lambda rid: "team")
    query = parse({"user": "ann", "node": "eu", "op": "", "record": "01j0000000000000000000000r"},
                  ENTITIES, resolve=resolve)
    f = query.filters
    assert f.user_id == "01J0000000000000000000000U"
    assert f.origin_node_id == "01J0000000000000000000000N"
    assert (f.record_id, f.entity) == ("01J0000000000000000000000R", "team")  # entity found
    assert query.args == {"user": "ann", "node": "eu", "record": "01J0000000000000000000000R"}


def test_a_user_id_that_is_no_username_is_used_as_stored():
    resolve = Resolvers(user_id=lambda name: None, node_id=lambda n: None,
                        record_entity=lambda r: None)
    assert parse({"user": "system"}, ENTITIES, resolve=resolve).filters.user_id == "system"


def test_a_record_with_no_events_matches_nothing_without_a_query():
    resolve = Resolvers(user_id=lambda n: None, node_id=lambda n: None,
                        record_entity=lambda r: None)
    assert parse({"record": "01J0000000000000000000000R"}, ENTITIES, resolve=resolve).nothing


@pytest.mark.parametrize("args", [{"entity": "ghost"}, {"op": "merged"}, {"from": "soon"},
                                  {"from": "2024-02-01", "to": "2024-01-31"},
                                  {"before": "1.2.3"}, {"record": "42"}, {"node": "mars"}])
def test_bad_values_raise_bad_filter(args):
    with pytest.raises(BadFilterError):
        parse(args, ENTITIES)


def test_typed_times_are_read_in_the_readers_zone():
    from zoneinfo import ZoneInfo

    from webapp.timeline.filters import parse_time
    tokyo = ZoneInfo("Asia/Tokyo")
    assert parse_time("2024-05-01T09:00", False, tokyo) == parse_time("2024-05-01T00:00", False)
    assert parse_time("2024-05-01T09:00Z", False, tokyo) == parse_time("2024-05-01T09:00", False)
    # A local day with a DST change still ends at its own 23:59:59.999.
    paris = ZoneInfo("Europe/Paris")
    end = parse_time("2024-03-31", True, paris)
    assert end == parse_time("2024-03-31T21:59:59.999Z", False)
