"""Known-vulnerability audit of the locked dependencies (`make audit`, run by .ci/run).

Runs pip-audit on requirements.lock (hashes required, nothing installed) against PyPI's
advisory data. Exit 1 on any known vulnerability. A dependency pip-audit could not look
up is NOT a pass: if none could be looked up (no advisory service reachable, as on the
build machines, which reach package indexes only), say so loudly and exit 0, or 1 when
HINDSIGHT_REQUIRE_AUDIT=1 (set it wherever an advisory service is reachable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TOOLS = Path(sys.executable).parent


def main(lock: str) -> int:
    done = subprocess.run(
        [str(TOOLS / "pip-audit"), "--disable-pip", "--require-hashes", "-r", lock,
         "--vulnerability-service", "pypi", "--progress-spinner", "off", "--format", "json",
         "--desc", "off"], capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(done.stderr[-2000:], file=sys.stderr)
        print("audit: pip-audit gave no report", file=sys.stderr)
        return 1
    code, lines = verdict(report, os.environ.get("HINDSIGHT_REQUIRE_AUDIT") == "1")
    for line in lines:
        print(f"audit: {line}", file=sys.stderr if code or "NOT" in line else sys.stdout)
    return code


def verdict(report: dict, required: bool) -> tuple[int, list[str]]:
    """(exit code, lines to print) for a pip-audit JSON report."""
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    unchecked = [d["name"] for d in deps if "skip_reason" in d]
    lines = [f"{d['name']} {d.get('version')}: {', '.join(v['id'] for v in d['vulns'])}"
             for d in vulnerable]
    if vulnerable:
        return 1, lines + [f"{len(vulnerable)} locked dependencies have known "
                           "vulnerabilities; upgrade them (pyproject.toml, then `make lock`)"]
    if len(unchecked) == len(deps):
        return (1 if required else 0), [
            f"NOT AUDITED: no advisory data reachable for any of the {len(deps)} locked "
            "dependencies (PyPI's JSON API and OSV are out of reach here)"]
    if unchecked:
        return 1, [f"could not look up {', '.join(unchecked)}"]
    return 0, [f"{len(deps)} locked dependencies, no known vulnerability"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock"))
