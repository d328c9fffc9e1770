"""The README's "Your own records" walk-through, as written: a package this repository
has never seen (the README's own code block, copied to a temp folder), its migrations
made and run by the documented commands, an admin, and the served dashboard showing its
entities, on SQLite and PostgreSQL, without any change to `webapp/`."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import database_url

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

LOGGED_IN = """
import re, sys
from wsgi import app
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
done = client.post("/login", data={"username": "admin", "password": sys.argv[1],
                                   "csrf_token": token})
assert done.status_code == 302, done.status_code
home = client.get("/").get_data(as_text=True)
form = client.get("/e/invoice/new").get_data(as_text=True)
print("Customers" in home, "Invoices" in home, "Teams" in home, 'type="date"' in form,
      client.get("/e/customer/").status_code)
"""


def readme_domain() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- domain-example -->\s*```python\n(.*?)```", text, re.S)
    assert found, "the README's domain example is missing"
    return "\n".join(line[3:] for line in found.group(1).splitlines())  # its list indent


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_readme_walk_through_serves_a_new_domain(backend: str, tmp_path: Path) -> None:
    package = tmp_path / "myrecords"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "domain.py").write_text(readme_domain())
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
           "HINDSIGHT_DOMAIN": "myrecords.domain",
           "HINDSIGHT_DATABASE_URL": database_url(backend, "readme", tmp_path),
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(16),
           "HINDSIGHT_NODE_KEY_FILE": str(tmp_path / "node_key.pem")}

    def flask(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
        return done.stdout

    folder = str(package / "migrations")
    flask("db", "upgrade")
    flask("domain", "init-migrations")
    flask("db", "migrate", "-d", folder, "-m", "first tables")
    flask("db", "upgrade", "-d", folder)
    flask("db", "check", "-d", folder)
    flask("node", "init", "--name", "local")
    password = flask("create-user", "admin", "--role", "admin").rsplit(":", 1)[1].strip()
    done = subprocess.run([sys.executable, "-c", LOGGED_IN, password], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "True", "False", "True", "200"], done.stderr[-3000:]
    assert len(list((package / "migrations" / "versions").glob("*.py"))) == 1
