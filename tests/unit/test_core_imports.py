"""The audit core stays free of the web framework: it must run under a CLI, a job or a
test with nothing but a SQLAlchemy session."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "webapp" / "audit"
FORBIDDEN = ("flask", "werkzeug")


def imported_modules(path: Path, source: str | None = None) -> list[str]:
    """Every module `path` imports, relative imports resolved to absolute names."""
    if source is None:
        source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):  # walks into functions too: a lazy import counts
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the module's package
                package = path.relative_to(CORE.parents[1]).with_suffix("").parts[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + (base,)).strip(".")
            # x.y: its leading parts name package x, and y may be a module of its own.
            names.extend(f"{base}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and getattr(node.func, "id", getattr(node.func, "attr", None))
              in ("__import__", "import_module")):
            names.append(str(node.args[0].value))
    return names


def forbidden(module: str) -> bool:
    parts = module.split(".")
    if parts[0] in FORBIDDEN or parts[0].startswith("flask_"):
        return True
    return parts[0] == "webapp" and parts[:2] != ["webapp", "audit"]  # the web layer


def test_the_core_has_python_files_to_scan():
    assert len(list(CORE.rglob("*.py"))) >= 10


def test_no_core_module_imports_flask_werkzeug_or_the_web_layer():
    offenders = {
        f"{path.relative_to(CORE)}: {module}"
        for path in sorted(CORE.rglob("*.py"))
        for module in imported_modules(path)
        if forbidden(module)
    }
    assert not offenders, f"the audit core must not import the web layer: {sorted(offenders)}"


def test_the_scanner_catches_every_import_form():
    code = ("import flask\nfrom flask_login import current_user\nimport werkzeug.exceptions\n"
            "def f():\n    from .. import runtime\n    return __import__('flask_wtf')\n"
            "importlib.import_module('werkzeug')\n")
    names = imported_modules(CORE / "probe.py", code)
    assert sorted(names) == ["flask", "flask_login.current_user", "flask_wtf", "webapp.runtime",
                             "werkzeug", "werkzeug.exceptions"]
    assert all(forbidden(n) for n in names)
    core = imported_modules(CORE / "probe.py", "from . import hlc\nfrom .ids import new_ulid\n")
    assert core == ["webapp.audit.hlc", "webapp.audit.ids.new_ulid"]
    assert not any(forbidden(n) for n in core + ["sqlalchemy.orm", "flasky_but_not_flask"])
