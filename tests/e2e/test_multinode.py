"""Three nodes over real HTTP, each its own `flask run` process and database: alpha on
SQLite, beta on PostgreSQL, gamma on SQLite. alpha and gamma only know beta (a star), so
what gamma learns from alpha is relayed by beta with its origin intact.

An admin account made on alpha replicates everywhere. Alpha and beta first edit
different fields of one project (lww) and one team (manual) in the browser: after
`flask sync` every node holds both changes of each and no conflict. Then both rename the
team; every node's conflicts page shows the same open conflict, listing only the name.
It is resolved on alpha in the browser; after another sync round it is closed on every
node. The browser is the session's headless Chromium (tests/e2e/conftest.py:
fails, not skips, when it cannot start and HINDSIGHT_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
CREATE_TEAM = """
from wsgi import app
from webapp.audit.commands import CreateRecord
from webapp.extensions import db
from webapp.runtime import auditor
with app.app_context():
    team = CreateRecord("team", {"slug": "ops", "name": "Operations"})
    team_id = auditor().execute(db.session(), team).record["id"]
    project = CreateRecord("project", {"name": "Apollo", "team_id": team_id,
                                       "status": "planned"})
    print(team_id, auditor().execute(db.session(), project).record["id"])
"""


@dataclass
class Proc:
    name: str
    env: dict[str, str]
    url: str
    process: subprocess.Popen[bytes] | None = None

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*FLASK, *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"{self.name}: flask {' '.join(args)} failed:\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise AssertionError(f"{url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, Proc]]:
    backends = {"alpha": "sqlite", "beta": "postgresql", "gamma": "sqlite"}
    procs: dict[str, Proc] = {}
    for name, backend in backends.items():
        port = _free_port()
        url = database_url(backend, f"e2e_{name}", tmp_path)
        env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
               "HINDSIGHT_SECRET_KEY": os.urandom(16).hex(), "HINDSIGHT_NODE_NAME": name,
               "FLASK_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
        procs[name] = Proc(name, env, f"http://127.0.0.1:{port}")
        procs[name].flask("db", "upgrade")
        procs[name].flask("node", "init", "--name", name)
    # One secret per link, passed through files (never on a command line).
    for left, right in (("alpha", "beta"), ("gamma", "beta")):
        secret = procs[left].flask("peers", "secret").stdout.strip()
        path = tmp_path / f"{left}-{right}.secret"
        path.write_text(secret)
        path.chmod(0o600)
        procs[left].flask("peers", "add", right, procs[right].url, "--secret-file", str(path))
        procs[right].flask("peers", "add", left, procs[left].url, "--secret-file", str(path))
    with serving(procs):
        yield procs


@contextmanager
def serving(procs: dict[str, Proc]) -> Iterator[None]:
    """Each node's `flask run` process, up before the block and stopped after it."""
    try:
        for proc in procs.values():
            port = proc.url.rsplit(":", 1)[1]
            proc.process = subprocess.Popen(
                [*FLASK, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"],
                env=proc.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for proc in procs.values():
            assert proc.process is not None
            _wait_up(proc.url, proc.process)
        yield
    finally:
        for proc in procs.values():
            if proc.process is not None:
                proc.process.terminate()
                proc.process.wait(10)


def sync_round(procs: dict[str, Proc]) -> None:
    """alpha and gamma pull beta, beta pulls both, then alpha and gamma again."""
    for name in ("alpha", "gamma", "beta", "alpha", "gamma"):
        done = procs[name].flask("sync")
        assert "refused" not in done.stdout + done.stderr, done.stderr


def _login(page: Any, proc: Proc, password: str) -> Any:
    """`page` (a fresh browser context: its own cookie jar) logged in to `proc`."""
    page.goto(proc.url + "/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", password)
    with page.expect_navigation():  # a failed login re-renders /login
        page.click("form button[type=submit]")
    assert "/login" not in page.url, f"{proc.name}: login failed"
    return page


def _rename_team(page: object, proc: Proc, team_id: str, name: str) -> None:
    page.goto(f"{proc.url}/e/team/{team_id}/edit")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("form.entity-form button[type=submit]")  # type: ignore[attr-defined]


def _open_conflicts(page: object, proc: Proc) -> list[str]:
    page.goto(proc.url + "/conflicts")  # type: ignore[attr-defined]
    table = page.locator("[data-testid=open-conflicts]")  # type: ignore[attr-defined]
    if table.count() == 0:
        return []
    return [c.strip() for c in table.locator("code").all_inner_texts()]


def test_a_collision_shows_on_every_node_and_one_resolution_closes_it(
        nodes: dict[str, Proc], new_page: Callable[[], Any]) -> None:
    alpha = nodes["alpha"]
    made = alpha.flask("create-user", "root", "--role", "admin").stdout
    password = made.rsplit(":", 1)[1].strip()
    team_id, project_id = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", CREATE_TEAM], env=alpha.env, cwd=ROOT,
        capture_output=True, text=True, check=True).stdout.split()
    sync_round(nodes)

    pages = {name: _login(new_page(), proc, password) for name, proc in nodes.items()}
    _merge_different_fields(nodes, pages, team_id, project_id)
    _collide_and_resolve(nodes, pages, team_id)


def _edit(page: Any, url: str, values: dict[str, str]) -> None:
    page.goto(url)
    for name, value in values.items():
        field = page.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        page.click("form.entity-form button[type=submit]")


def _shown(page: Any, proc: Proc, entity: str, record_id: str) -> str:
    page.goto(f"{proc.url}/e/{entity}/{record_id}")
    return str(page.inner_text(".record-current"))


def _merge_different_fields(nodes: dict[str, Proc], pages: dict[str, Any], team_id: str,
                            project_id: str) -> None:
    """alpha (SQLite) and beta (PostgreSQL) edit different fields of the same records,
    an lww project and a manual team: after syncing, every node has both changes of
    each, and no conflict is open anywhere."""
    alpha, beta = nodes["alpha"], nodes["beta"]
    _edit(pages["alpha"], f"{alpha.url}/e/project/{project_id}/edit", {"status": "active"})
    _edit(pages["beta"], f"{beta.url}/e/project/{project_id}/edit", {"budget": "large"})
    _edit(pages["alpha"], f"{alpha.url}/e/team/{team_id}/edit", {"description": "On call"})
    _edit(pages["beta"], f"{beta.url}/e/team/{team_id}/edit", {"name": "Ops"})
    sync_round(nodes)
    for name, proc in nodes.items():
        assert _open_conflicts(pages[name], proc) == [], name
        project = _shown(pages[name], proc, "project", project_id)
        assert "active" in project and "large" in project, (name, project)
        team = _shown(pages[name], proc, "team", team_id)
        assert "On call" in team and "Ops" in team, (name, team)
    assert _shown(pages["alpha"], alpha, "team", team_id) == \
        _shown(pages["beta"], beta, "team", team_id)


def _collide_and_resolve(nodes: dict[str, Proc], pages: dict[str, Any], team_id: str) -> None:
    alpha, beta = nodes["alpha"], nodes["beta"]
    _rename_team(pages["alpha"], alpha, team_id, "Ops from alpha")
    _rename_team(pages["beta"], beta, team_id, "Ops from beta")
    sync_round(nodes)

    seen = {name: _open_conflicts(pages[name], proc) for name, proc in nodes.items()}
    assert len(seen["alpha"]) == 1, seen
    assert seen["alpha"] == seen["beta"] == seen["gamma"], seen
    conflict_id = seen["alpha"][0]
    for name, proc in nodes.items():
        pages[name].goto(f"{proc.url}/conflicts/{conflict_id}")
        body = pages[name].inner_text("[data-testid=compare]")
        assert "Ops from alpha" in body and "Ops from beta" in body and "Ops" in body
        # Only the name is disputed: the description merged earlier is no choice.
        assert pages[name].locator("[data-testid=disputed]").count() == 1, name
        assert pages[name].locator("input[name=pick-name]").count() == 2, name
        assert pages[name].locator("input[name=pick-description]").count() == 0, name

    page = pages["alpha"]
    page.goto(f"{alpha.url}/conflicts/{conflict_id}")
    with page.expect_navigation():
        page.locator("button", has_text="(beta)").click()
    assert "Resolved" in page.inner_text("[data-testid=conflict-status]")
    sync_round(nodes)

    for name, proc in nodes.items():
        assert _open_conflicts(pages[name], proc) == [], name
        resolved = pages[name].inner_text("[data-testid=resolved-conflicts]")
        assert conflict_id in resolved and "root" in resolved, (name, resolved)
        pages[name].goto(f"{proc.url}/e/team/")
        assert "Ops from beta" in pages[name].inner_text("main"), name
        assert "On call" in _shown(pages[name], proc, "team", team_id), name
    states = {_shown(pages[name], proc, "team", team_id) for name, proc in nodes.items()}
    assert len(states) == 1, states  # every node ends equal
    # gamma only knows beta: its nodes page shows beta caught up, with no error.
    pages["gamma"].goto(nodes["gamma"].url + "/nodes")
    row = pages["gamma"].inner_text("#peer-beta")
    assert "never" not in row and "Error" not in row, row
