"""The example inventory domain (examples/inventory), served as a team outside Hindsight
would serve theirs: HINDSIGHT_DOMAIN=inventory.domain, its own migrations, two nodes
(alpha on SQLite, beta on PostgreSQL) each its own `flask run` process. In Chromium:
records of every field type made through the forms, a hostile value refused beside
its field, the list and the timeline, then alpha and beta edit different fields of one
product and after a sync both hold both changes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_multinode import ROOT, Proc, _free_port, _login, _shown, serving
from tests.support.databases import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MIGRATIONS = str(ROOT / "examples" / "inventory" / "migrations")


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, Proc]]:
    procs: dict[str, Proc] = {}
    for name, backend in {"alpha": "sqlite", "beta": "postgresql"}.items():
        env = {**os.environ, "HINDSIGHT_DATABASE_URL": database_url(backend, f"inv_{name}",
                                                                     tmp_path),
               "HINDSIGHT_SECRET_KEY": os.urandom(16).hex(), "HINDSIGHT_NODE_NAME": name,
               "HINDSIGHT_NODE_KEY_FILE": str(tmp_path / f"{name}.pem"),
               "HINDSIGHT_DOMAIN": "inventory.domain", "HINDSIGHT_TIMEZONE": "Europe/Paris",
               "PYTHONPATH": f"{ROOT / 'examples'}{os.pathsep}{ROOT}",
               "FLASK_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
        procs[name] = proc = Proc(name, env, f"http://127.0.0.1:{_free_port()}")
        proc.flask("db", "upgrade")  # Hindsight's tables
        proc.flask("db", "upgrade", "-d", MIGRATIONS)  # the domain's own
        proc.flask("node", "init", "--name", name)
    secret = tmp_path / "pair.secret"
    secret.write_text(procs["alpha"].flask("peers", "secret").stdout.strip())
    secret.chmod(0o600)
    procs["alpha"].flask("peers", "add", "beta", procs["beta"].url, "--secret-file", str(secret))
    procs["beta"].flask("peers", "add", "alpha", procs["alpha"].url, "--secret-file", str(secret))
    with serving(procs):
        yield procs


def sync(nodes: dict[str, Proc]) -> None:
    for name in ("beta", "alpha", "beta"):
        done = nodes[name].flask("sync")
        assert "refused" not in done.stdout + done.stderr, done.stderr


def submit(page: Any, url: str, values: dict[str, str], labels: dict[str, str] | None = None,
           ok: bool = True) -> str:
    """Fill a form (selects by value, or by label through `labels`) and send it; the id
    of the record the page then shows."""
    page.goto(url)
    for name, value in values.items():
        field = page.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.set_checked(value == "y")
        else:
            field.fill(value)
    for name, label in (labels or {}).items():
        page.locator(f"[name={name}]").select_option(label=label)
    with page.expect_navigation():
        page.click("form.entity-form button[type=submit]")
    if ok:
        assert "/e/" in page.url and "/new" not in page.url and "/edit" not in page.url, \
            page.inner_text("main")[:2000]
    return str(page.url.rstrip("/").rsplit("/", 1)[-1])


def test_the_inventory_is_served_edited_and_merged(nodes: dict[str, Proc],
                                                  new_page: Callable[[], Any]) -> None:
    alpha, beta = nodes["alpha"], nodes["beta"]
    password = alpha.flask("create-user", "root", "--role", "admin").stdout.rsplit(":", 1)[1]
    page = _login(new_page(), alpha, password.strip())
    home = page.inner_text("nav")
    assert all(label in home for label in ("Suppliers", "Products", "Stock movements"))
    assert "Teams" not in home  # the demo entities are the default domain's only

    supplier = submit(page, f"{alpha.url}/e/supplier/new", {
        "name": "Acme Fasteners", "rating": "a", "website": "https://acme.example/",
        "since": "2024-03-01"})
    warehouse = submit(page, f"{alpha.url}/e/warehouse/new", {
        "code": "north", "name": "North hall", "capacity": "5000"})
    product = submit(page, f"{alpha.url}/e/product/new", {
        "sku": "bolt-m8", "name": "Bolt M8", "unit_price": "0.35", "weight_kg": "0.012",
        "datasheet": "https://acme.example/bolt.pdf"}, {"supplier_id": "Acme Fasteners"})
    submit(page, f"{alpha.url}/e/movement/new", {
        "reference": "DN-1", "kind": "in", "quantity": "1200", "moved_at": "2026-12-07T09:30",
        "unit_cost": "0.2100"}, {"product_id": "Bolt M8", "warehouse_id": "North hall"})

    # A hostile value is refused beside its field, and nothing is written.
    submit(page, f"{alpha.url}/e/product/{product}/edit",
           {"unit_price": "NaN", "datasheet": "javascript:alert(1)"}, ok=False)
    errors = page.inner_text("form.entity-form")
    assert "must be a number such as 12.50" in errors
    assert "must start with http:// or https://" in errors

    page.goto(f"{alpha.url}/e/movement/")
    listing = page.inner_text("main")
    assert "Received" in listing and "Bolt M8" in listing and "North hall" in listing
    assert "2026-12-07 09:30:00 CET" in listing  # typed and shown in the admins' zone
    page.locator("a", has_text="DN-1").first.click()
    assert "2026-12-07 09:30:00 CET" in page.inner_text(".record-current")
    page.goto(f"{alpha.url}/e/product/")
    assert "0.35" in page.inner_text("main")
    shown = _shown(page, alpha, "supplier", supplier)
    assert "Preferred" in shown and "2024-03-01" in shown
    link = page.locator("a[href='https://acme.example/']")
    assert link.count() >= 1 and "noopener" in (link.first.get_attribute("rel") or "")
    page.goto(f"{alpha.url}/timeline")
    timeline = page.inner_text("main")
    assert all(word in timeline for word in ("Bolt M8", "Acme Fasteners", "DN-1"))

    sync(nodes)
    beta_page = _login(new_page(), beta, password.strip())
    submit(beta_page, f"{beta.url}/e/product/{product}/edit", {"unit_price": "0.40"})
    submit(page, f"{alpha.url}/e/product/{product}/edit", {"name": "Bolt M8 zinc"})
    sync(nodes)
    for proc, on in ((alpha, page), (beta, beta_page)):
        merged = _shown(on, proc, "product", product)
        assert "0.40" in merged and "Bolt M8 zinc" in merged, (proc.name, merged)
    assert _shown(page, alpha, "warehouse", warehouse) == \
        _shown(beta_page, beta, "warehouse", warehouse)

    # Suppliers are `manual`: both nodes re-rating one is a conflict, the same on both,
    # offering the two ratings by their labels.
    submit(page, f"{alpha.url}/e/supplier/{supplier}/edit", {"rating": "b"})
    submit(beta_page, f"{beta.url}/e/supplier/{supplier}/edit", {"rating": "c"})
    sync(nodes)
    seen = []
    for proc, on in ((alpha, page), (beta, beta_page)):
        on.goto(proc.url + "/conflicts")
        ids = on.locator("[data-testid=open-conflicts] code").all_inner_texts()
        assert len(ids) == 1, (proc.name, ids)
        seen.append(ids[0])
        on.goto(f"{proc.url}/conflicts/{ids[0]}")
        compare = on.inner_text("[data-testid=compare]")
        assert "Approved" in compare and "On probation" in compare, (proc.name, compare)
    assert seen[0] == seen[1]
