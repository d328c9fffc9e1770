"""`flask audit snapshot`: a whole snapshot file in HINDSIGHT_SNAPSHOT_DIR, progress on
stderr, a summary on stdout; a database without a node gets a clear error, no file."""

from __future__ import annotations

import json

from tests.web.helpers import sqlite_app
from webapp.audit.commands import CreateRecord


def test_a_snapshot_is_written_with_progress_and_a_summary(app, run, tmp_path):
    app.config["HINDSIGHT_SNAPSHOT_DIR"] = str(tmp_path / "snaps")
    for n in range(3):
        run(CreateRecord("team", {"slug": f"t{n}", "name": f"T{n}"}))
    result = app.test_cli_runner().invoke(args=["audit", "snapshot"])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "snaps").iterdir()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [d["kind"] for d in lines] == ["header", "record", "record", "record", "end"]
    assert f"snapshot {path.stem}: 3 records and 0 tombstones as of seq 3" in result.stdout
    assert "writing records and tombstones: 3 of 3 (100%)" in result.stderr


def test_a_database_without_a_node_gets_an_error_and_no_file(tmp_path):
    with sqlite_app(tmp_path / "empty.sqlite3",
                    HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "snaps")) as app:
        result = app.test_cli_runner().invoke(args=["audit", "snapshot"])
    assert result.exit_code == 1 and "has no node yet" in result.output
    assert list((tmp_path / "snaps").iterdir()) == []
