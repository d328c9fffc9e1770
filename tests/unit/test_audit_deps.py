"""The dependency audit's verdict on a pip-audit report (.ci/audit_deps.py): a known
vulnerability fails; no advisory data at all is said loudly, never passed off as clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}
VULNERABLE = {"name": "jinja2", "version": "2.10", "vulns": [{"id": "PYSEC-2019-217"}]}
UNREACHED = {"name": "orjson", "version": "3.10.0", "skip_reason": "Dependency not found"}


def test_a_known_vulnerability_fails_and_is_named():
    code, lines = audit.verdict({"dependencies": [CLEAN, VULNERABLE]}, required=False)
    assert code == 1 and lines[0] == "jinja2 2.10: PYSEC-2019-217"


def test_no_reachable_advisory_data_is_reported_not_passed_off_as_clean():
    code, lines = audit.verdict({"dependencies": [UNREACHED, UNREACHED]}, required=False)
    assert code == 0 and lines[0].startswith("NOT AUDITED")
    assert audit.verdict({"dependencies": [UNREACHED]}, required=True)[0] == 1


def test_a_partly_audited_lock_fails():
    assert audit.verdict({"dependencies": [CLEAN, UNREACHED]}, required=False)[0] == 1


def test_a_clean_audit_passes():
    assert audit.verdict({"dependencies": [CLEAN]}, required=False) == (
        0, ["1 locked dependencies, no known vulnerability"])
