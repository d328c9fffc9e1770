"""`flask audit export`: the timeline's filters, CSV or JSON Lines, to a file (written
whole or not at all) or stdout, progress on stderr, bad filters refused with a reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from tests.web.timeline_helpers import all_events, store_peer_event
from webapp.audit.commands import CreateRecord, UpdateRecord


@pytest.fixture
def world(app, run, accounts):
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}),
               user_id=accounts["editor"].id).record
    run(UpdateRecord("team", team["id"], 1, {"name": "-Red"}), user_id=accounts["admin"].id)
    store_peer_event(app, datetime(2020, 1, 1, 12, 0))
    return team


@pytest.fixture
def out_dir(tmp_path):
    """An empty directory for exports (the app's database sits in tmp_path)."""
    made = tmp_path / "out"
    made.mkdir()
    return made


def _export(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "export", *args])


def test_csv_to_a_file_with_progress_on_stderr(app, world, out_dir):
    target = out_dir / "events.csv"
    result = _export(app, "--format", "csv", "--entity", "team", "-o", str(target))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["event_id"] for r in rows] == [e.event_id for e in all_events(app, entity="team")]
    assert json.loads(rows[0]["params"]) == {"name": "-Red"}
    assert "exporting 3 events as csv" in result.stderr
    assert "100%" in result.stderr and f"exported 3 events to {target}" in result.stderr
    assert result.stdout == "" and list(out_dir.iterdir()) == [target]


def test_jsonl_to_stdout_with_every_filter_given(app, accounts, world):
    result = _export(app, "--format", "jsonl", "--entity", "team", "--user", "admin-user",
                     "--op", "updated", "--from", "2021-01-01", "--to", "2999-12-31",
                     "--record", world["id"], "--node", all_events(app)[0].origin_node_id,
                     "--quiet")
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["params"] for d in docs] == [{"name": "-Red"}] and result.stderr == ""


def test_node_names_and_time_ranges_select_a_peers_events(app, world):
    result = _export(app, "--format", "jsonl", "--node", "peer-eu", "--to", "2020-01-01")
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["origin_node"] for d in docs] == ["peer-eu"]


@pytest.mark.parametrize("args, reason", [
    (["--entity", "nope"], "unknown entity 'nope'"),
    (["--from", "last week"], "'from' is not a date or time"),
    (["--record", "123"], "a record filter is a record id"),
    (["--op", "moved"], "unknown operation 'moved'")])
def test_bad_filters_fail_with_a_reason_and_write_no_file(app, world, out_dir, args, reason):
    target = out_dir / "out.jsonl"
    result = _export(app, "--format", "jsonl", *args, "-o", str(target))
    assert result.exit_code == 2 and reason in result.stderr
    assert list(out_dir.iterdir()) == []


def test_a_missing_format_or_directory_is_refused(app, world, tmp_path):
    assert _export(app, "--entity", "team").exit_code == 2
    assert _export(app, "--format", "xml").exit_code == 2
    result = _export(app, "--format", "csv", "-o", str(tmp_path / "no" / "such.csv"))
    assert result.exit_code == 2 and "no directory" in result.stderr

