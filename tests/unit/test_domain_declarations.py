"""A domain declared outside Hindsight (HINDSIGHT_DOMAIN=package.module): it is loaded
with the accounts, and a declaration that cannot work is refused when the app starts,
with a message naming the entity and the field."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webapp.audit import (
    URL,
    Boolean,
    Choice,
    Date,
    DateTime,
    Decimal,
    Entity,
    Integer,
    Password,
    Ref,
    Text,
)
from webapp.audit.tables import metadata
from webapp.domain import ROLES, registry, teams, users
from webapp.domains import DomainError, load

ROOT = Path(__file__).resolve().parents[2]


def refusal(**kwargs: Any) -> str:
    """The message a declaration is refused with (nothing is left on the metadata)."""
    kwargs.setdefault("name", "probe")
    kwargs.setdefault("table_name", "probe_refused")
    try:
        entity = Entity(**kwargs)
    except ValueError as exc:
        assert "probe_refused" not in metadata.tables
        return str(exc)
    metadata.remove(entity.table)
    raise AssertionError("the declaration was accepted")


@pytest.mark.parametrize("fields, message", [
    ({"Price": Text()}, "field 'Price': a field name must be lowercase"),
    ({"hlc": Text()}, "field 'hlc': is a system column"),
    ({"price": float}, "field 'price': type is not a field type (Text, Date, Decimal, ...)"),
    ({"price": Decimal(precision=4, scale=6)}, "field 'price': precision and scale"),
    ({"price": Decimal(min_value="ten")}, "field 'price': bound 'ten' must be a number"),
    ({"price": Decimal(min_value="5", max_value="1")}, "field 'price': min_value 5 is above"),
    ({"count": Integer(min_value=5, max_value=1)}, "field 'count': min_value 5 is above"),
    ({"count": Integer(max_value=2**64)}, "field 'count': min_value and max_value must be"),
    ({"kind": Choice(choices=())}, "field 'kind': a Choice needs at least one choice"),
    ({"kind": Choice(choices=("a", "a"))}, "field 'kind': choice values must be distinct"),
    ({"kind": Choice(choices=(("a", "A", "x"),))}, "field 'kind': choice ('a', 'A', 'x')"),
    ({"kind": Choice(choices=(" a",))}, "field 'kind': choice value ' a' must be trimmed"),
    ({"day": Date(earliest="0999-12-31")}, "field 'day': earliest and latest must lie"),
    ({"day": DateTime(latest="2026-02-30")}, "field 'day': earliest/latest: 2026-02-30 is not"),
    ({"link": URL(max_length=5)}, "field 'link': max_length must be from 12 to 2000"),
    ({"team_id": Ref()}, "field 'team_id': a Ref names the entity"),
    ({"note": Text(max_length=0)}, "field 'note': lengths must satisfy"),
])
def test_a_field_that_cannot_work_is_refused_by_entity_and_field(fields, message):
    assert refusal(fields=fields).startswith(f"entity 'probe', {message}")


@pytest.mark.parametrize("settings, message", [
    ({"title_field": "nope"}, "field 'nope': title_field names no declared field"),
    ({"search_fields": ("price",)}, "field 'price': search_fields takes only fields of kind"),
    ({"search_fields": "name"}, "search_fields must be a tuple of field names"),
    ({"filter_fields": ("name",)}, "field 'name': filter_fields takes only fields of kind "
                                   "boolean, choice, ref, not text"),
    ({"list_columns": ("name", "gone")}, "field 'gone': list_columns names no declared field"),
    ({"list_columns": ("secret",)}, "field 'secret': a secret field cannot be in list_columns"),
    ({"policy": "newest"}, "policy must be 'lww' or 'manual'"),
    ({"schema_version": 0}, "schema_version must be a whole number from 1"),
    ({"schema_version": 2}, r"no upcaster from schema version(s) [1]"),
    ({"table_name": "Bad Name"}, "table_name 'Bad Name' must be lowercase"),
    ({"table_name": "teams"}, "its table 'teams' is taken"),
    ({"name": "Stock Item"}, "the name must be lowercase letters"),
])
def test_settings_that_name_what_is_not_there_are_refused(settings, message):
    fields = {"name": Text(), "price": Decimal(), "secret": Password(required=False),
              "ok": Boolean()}
    assert message in refusal(fields=fields, **settings)


@pytest.fixture
def domain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for domain modules; their tables leave the metadata after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(metadata.tables)
    yield tmp_path
    for name in set(metadata.tables) - before:
        metadata.remove(metadata.tables[name])
    for name in [m for m in sys.modules if m.startswith("dom_")]:
        del sys.modules[name]


def module(folder: Path, name: str, body: str) -> str:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def test_a_domain_module_serves_its_entities_with_the_accounts(domain_dir):
    name = module(domain_dir, "dom_shop", """
        from webapp.audit import Entity, Ref, Text, Decimal

        def register(registry):
            registry.register(Entity(name="shop", table_name="dom_shops",
                                     fields={"name": Text()}))
            registry.register(Entity(name="item", table_name="dom_items", fields={
                "name": Text(), "price": Decimal(), "shop_id": Ref(entity="shop",
                                                                   required=False)}))
        """)
    served = load(name, users, (teams,), ROLES)
    assert [e.name for e in served] == ["user", "shop", "item"]  # no demo entities
    assert "team" not in served and served.get("item").refs == {"shop_id": "shop"}


@pytest.mark.parametrize("body, message", [
    ("x = 1\n", "the module defines no register(registry) function"),
    ("def register(registry):\n    registry.register(object())\n",
     "only an Entity(...) can be registered"),
    ("from webapp.audit import Entity, Ref, Text\n"
     "def register(registry):\n"
     "    registry.register(Entity(name='item', table_name='dom_items2', fields={\n"
     "        'name': Text(), 'shop_id': Ref(entity='shop')}))\n",
     "entity 'item', field 'shop_id': refers to entity 'shop', which is not declared"),
    ("from webapp.audit import Entity, Text\n"
     "def register(registry):\n"
     "    registry.register(Entity(name='user', table_name='dom_users', fields={\n"
     "        'name': Text()}))\n",
     "entity 'user': is registered twice"),
    ("from webapp.audit import Entity, Text\n"
     "def register(registry):\n"
     "    registry.register(Entity(name='memo', table_name='dom_memos', edit_role='boss',\n"
     "                             fields={'name': Text()}))\n",
     "entity 'memo': edit_role must be one of viewer, editor, admin, not 'boss'"),
    ("from webapp.audit import Entity, Text\n"
     "def register(registry):\n"
     "    registry.register(Entity(name='memo', table_name='dom_memos3',\n"
     "                             fields={'title': Text(max_length=-1)}))\n",
     "entity 'memo', field 'title': lengths must satisfy"),
])
def test_a_wrong_domain_module_is_refused_with_where_and_why(domain_dir, body, message):
    name = module(domain_dir, f"dom_bad{abs(hash(body)) % 10_000}", body)
    with pytest.raises((DomainError, ValueError)) as refused:
        load(name, users, (teams,), ROLES)
    assert message in str(refused.value)


def test_a_module_that_is_not_there_or_not_a_name_is_refused(domain_dir):
    with pytest.raises(DomainError, match="dom_nowhere: cannot import it .*PYTHONPATH"):
        load("dom_nowhere", users, (), ROLES)
    with pytest.raises(DomainError, match="is not a dotted module name"):
        load("dom-shop; rm", users, (), ROLES)


def test_the_default_domain_is_the_demo_with_accounts():
    assert [e.name for e in registry] == ["user", "team", "project", "setting"]
    assert registry.get("user").edit_role == "admin"
    assert registry.get("project").edit_role == "editor"


def test_the_app_does_not_start_on_a_wrong_domain(tmp_path):
    (tmp_path / "dom_broken.py").write_text(
        "from webapp.audit import Entity, Text\n"
        "def register(registry):\n"
        "    registry.register(Entity(name='gadget', fields={'name': Text()},\n"
        "                             title_field='label'))\n")
    env = {**os.environ, "HINDSIGHT_DOMAIN": "dom_broken",
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
           "HINDSIGHT_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    done = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert ("HINDSIGHT_DOMAIN=dom_broken: entity 'gadget', field 'label': title_field names "
            "no declared field") in done.stderr


def test_domain_migrations_need_a_declared_domain(tmp_path):
    from tests.web.helpers import sqlite_app

    with sqlite_app(tmp_path / "x.sqlite3") as app:
        done = app.test_cli_runner().invoke(args=["domain", "init-migrations",
                                                  str(tmp_path / "m")])
    assert done.exit_code == 1 and "set HINDSIGHT_DOMAIN to your domain module" in done.output
    assert not (tmp_path / "m").exists()
