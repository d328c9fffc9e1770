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


def _doc(event):
    return export.document(registry, event, {event.origin_node_id: "=cmd|' /C calc'!A0"},
                           {"@admin": "admin"})


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"])
def test_a_cell_that_would_start_a_formula_is_prefixed(text):
    assert export.safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "1+2", "", "'quoted", " =x"])
def test_other_cells_are_left_alone(text):
    assert export.safe_cell(text) == text


def test_every_csv_cell_is_safe_and_reads_back(tmp_path):
    rows = list(csv.reader(io.StringIO(export.csv_header() + export.csv_rows([_doc(_event())]))))
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
    doc = _doc(_event())
    assert doc["pre_state"]["password"] == doc["post_state"]["password"] == export.HIDDEN
    assert doc["pre_state"]["full_name"] == "Ann"
    line = export.jsonl([doc])
    assert "scrypt$" not in line and "scrypt$" not in export.csv_rows([doc])


def test_a_json_line_is_one_event_with_both_forms_of_its_hlc():
    event = _event(params={"note": "two\nlines"})
    text = export.jsonl([_doc(event), _doc(event)])
    lines = text.split("\n")
    assert len(lines) == 3 and lines[2] == ""
    doc = json.loads(lines[0])
    assert doc["hlc"] == event.hlc and doc["hlc_text"] == format_hlc(event.hlc)
    assert doc["wall_time"] == "2023-11-14T22:13:20.123Z"
    assert doc["params"] == {"note": "two\nlines"} and doc["user"] == "admin"
    assert doc["context"] == {"request_id": "-r", "client_ip": "+1", "session_id": None,
                              "tenant_id": None, "trace_id": None, "span_id": None}
