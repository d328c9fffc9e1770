"""Export formats: CSV cells that a spreadsheet would run as formulas are defused
(OWASP), secrets stay hidden, and each JSON line is one whole event."""

from __future__ import annotations

import csv
import io
import json

import pytest

from webapp.audit import export
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import format_hlc, pack
from webapp.audit.tables import change_events
from webapp.domain import registry


def _event(**overrides):
    doc = dict(event_id="01J0000000000000000000000A",
               origin_node_id="01J0000000000000000000000B", hlc=pack(1_700_000_000_123, 5),
               entity="user", record_id="01J0000000000000000000000C",
               op="updated", params={"full_name": "=1+2"},
               pre_state={"username": "ann", "password": "scrypt$old", "full_name": "Ann"},
               post_state={"username": "ann", "password": "scrypt$new", "full_name": "=1+2"},
               vv_before={"n": 1}, vv_after={"n": 2}, schema_version=1, idempotency_key="k",
               user_id="@admin", request_id="-r", client_ip="+1", session_id=None)
    return ChangeEvent(**{**doc, **overrides})


def _item(event):
    """As exported from its stored row (change_events' columns, in order)."""
    row = event.to_row()
    return export.export_row(registry, [row[c] for c in change_events.c.keys()],
                             {event.origin_node_id: "=cmd|' /C calc'!A0"}, {"@admin": "admin"})


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"])
def test_a_cell_that_would_start_a_formula_is_prefixed(text):
    assert export.safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "1+2", "", "'quoted", " =x"])
def test_other_cells_are_left_alone(text):
    assert export.safe_cell(text) == text


def test_every_csv_cell_is_safe_and_reads_back(tmp_path):
    text = export.csv_header() + export.csv_rows([_item(_event())])
    rows = list(csv.reader(io.StringIO(text)))
    header, row = rows
    cells = dict(zip(header, row, strict=True))
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)
    assert cells["origin_node"] == "'=cmd|' /C calc'!A0"
    assert cells["user_id"] == "'@admin" and cells["request_id"] == "'-r"
    assert cells["client_ip"] == "'+1" and cells["session_id"] == ""
    assert json.loads(cells["params"]) == {"full_name": "=1+2"}  # a JSON cell starts with {
    assert cells["hlc"] == str(pack(1_700_000_000_123, 5))
    assert cells["hlc_text"] == "2023-11-14T22:13:20.123Z+0005"


def test_secret_fields_are_hidden_in_every_document():
    item = _item(_event(params={"password": "scrypt$new"}))
    doc = export.as_dict(item)
    assert doc["pre_state"]["password"] == doc["post_state"]["password"] == export.HIDDEN
    assert doc["params"] == {"password": export.HIDDEN} and doc["pre_state"]["full_name"] == "Ann"
    assert b"scrypt$" not in export.jsonl([item]) and "scrypt$" not in export.csv_rows([item])


def test_documents_without_secrets_pass_through_as_stored():
    event = _event(entity="team", params={"name": "x", "n": 10**30},
                   pre_state=None, post_state={"name": "x"})
    item = _item(event)
    params, pre_state = item.documents[:2]
    assert params == '{"n":1000000000000000000000000000000,"name":"x"}' and pre_state == "null"
    assert json.loads(export.to_json(item))["params"]["n"] == 10**30


def test_a_json_line_is_one_event_with_both_forms_of_its_hlc():
    event = _event(params={"note": "two\nlines"})
    text = export.jsonl([_item(event), _item(event)]).decode()
    lines = text.split("\n")
    assert len(lines) == 3 and lines[2] == ""
    doc = json.loads(lines[0])
    assert doc["hlc"] == event.hlc and doc["hlc_text"] == format_hlc(event.hlc)
    assert doc["wall_time"] == "2023-11-14T22:13:20.123Z"
    assert doc["params"] == {"note": "two\nlines"} and doc["user"] == "admin"
    assert doc["context"] == {"request_id": "-r", "client_ip": "+1", "session_id": None,
                              "tenant_id": None, "trace_id": None, "span_id": None}
    assert list(doc) == list(export.KEYS)


def test_text_orjson_refuses_still_makes_a_valid_line():
    item = _item(_event(entity="team", request_id="\ud800"))
    assert json.loads(export.to_json(item))["context"]["request_id"] == "\ud800"


@pytest.mark.parametrize("params", [{"a": 'say "hi", then\r\nleave'}, {}, {"n": None}])
def test_csv_lines_are_what_the_csv_module_writes(params):
    item = _item(_event(entity="team", params=params, user_id="a,b", request_id='"q"'))
    cells = export._cells(item)
    assert len(cells) == len(export.CSV_COLUMNS)
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerow(
        ["" if c is None else export.safe_cell(str(c)) for c in cells])
    assert export.csv_rows([item]) == expected.getvalue()
