"""Issue 13: the login form's POST, end to end on the server (Flask test client: CSRF off,
no network), with argon2id at the chosen parameters: throttle bookkeeping, the account
lookup, one argon2id verify, the server-side session row, the redirect. Target: median
under 250 ms. The hash alone is timed beside it."""

from __future__ import annotations

import secrets
import time

from webapp.audit import passwords
from webapp.audit.commands import CreateRecord
from webapp.audit.context import AuditContext, audit_context

from .common import Progress, Report, Result, Settings, bench_url, ms_stats, say

TARGET_MS = 250


def run(settings: Settings, report: Report) -> None:
    runs = 15 if settings.quick else 50
    say(f"\n== login: POST /login, argon2id m={passwords.MEMORY_KIB} KiB, "
        f"t={passwords.TIME_COST}, p={passwords.LANES}; {runs} logins per backend ==")
    stored = passwords.hash_password("bench-password-1")
    hash_times = []
    for _ in range(runs):
        started = time.perf_counter()
        passwords.verify_password(stored, "bench-password-1")
        hash_times.append(time.perf_counter() - started)
    median, _ = ms_stats(hash_times)
    report.add(Result("login", "argon2id verify alone (median)", "-", median, "ms"))
    for backend in settings.backends:
        samples = _logins(backend, runs)
        median, p95 = ms_stats(samples)
        say(f"  {backend}: median {median:.1f} ms, p95 {p95:.1f} ms")
        report.add(Result("login", "POST /login, right password (median)", backend, median,
                          "ms", f"< {TARGET_MS}", median < TARGET_MS))
        report.add(Result("login", "POST /login, right password (p95)", backend, p95, "ms"))


def _logins(backend: str, runs: int) -> list[float]:
    from webapp import create_app
    from webapp.extensions import db
    from webapp.runtime import auditor
    from webapp.schema import metadata

    app = create_app({"SQLALCHEMY_DATABASE_URI": bench_url(backend, "login", fresh=True),
                      "SECRET_KEY": secrets.token_hex(16), "WTF_CSRF_ENABLED": False,
                      "HINDSIGHT_LOGIN_FAILURES": 1_000_000})
    password = secrets.token_urlsafe(16)
    with app.app_context():
        metadata.create_all(db.engine)
        with audit_context(AuditContext(user_id="bench")):
            auditor().execute(db.session(), CreateRecord("user", {
                "username": "bench-login", "email": "bench-login@example.org",
                "role": "viewer", "active": True, "password": password}))
    samples, progress = [], Progress(f"logins on {backend}", runs + 2)
    for n in range(runs + 2):  # the first two warm up (templates, connections)
        client = app.test_client()
        started = time.perf_counter()
        response = client.post("/login", data={"username": "bench-login",
                                               "password": password})
        elapsed = time.perf_counter() - started
        if response.status_code != 302:
            raise RuntimeError(f"bench login failed with {response.status_code}")
        if n >= 2:
            samples.append(elapsed)
        progress.advance()
    progress.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return samples
