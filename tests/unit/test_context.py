"""The audit context: carried by contextvars, so it is right per thread and per task."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

from webapp.audit.context import (
    SYSTEM,
    AuditContext,
    audit_context,
    current_context,
    parse_traceparent,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_outside_any_request_the_context_is_the_system_user():
    assert current_context() == SYSTEM
    assert SYSTEM.user_id == "system"


def test_audit_context_sets_and_restores_even_when_the_block_raises():
    alice = AuditContext(user_id="alice")
    with pytest.raises(RuntimeError):
        with audit_context(alice):
            assert current_context() is alice
            with audit_context(AuditContext(user_id="bob")):
                assert current_context().user_id == "bob"
            assert current_context() is alice
            raise RuntimeError
    assert current_context() == SYSTEM


def test_each_thread_sees_only_its_own_context():
    start = threading.Barrier(12)
    seen: dict[int, list[str | None]] = {}

    def work(n: int) -> None:
        with audit_context(AuditContext(user_id=f"user-{n}", request_id=f"req-{n}")):
            start.wait()  # every thread is inside its own context at the same time
            seen[n] = [current_context().user_id for _ in range(200)]
        seen[n].append(current_context().user_id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    with audit_context(AuditContext(user_id="main")):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert current_context().user_id == "main"
    for n, users in seen.items():
        assert users[:-1] == [f"user-{n}"] * 200
        assert users[-1] == "system"  # a new thread starts from the default, not from main


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run in the caller's context, on a thread of its own: a browser test's
    Playwright loop may already be running on this worker's main thread."""
    context, out = contextvars.copy_context(), {}

    def target() -> None:
        try:
            out["value"] = context.run(asyncio.run, coro)
        except BaseException as exc:  # re-raised on the test's own thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_each_asyncio_task_sees_only_its_own_context():
    async def handle(n: int) -> list[str | None]:
        with audit_context(AuditContext(user_id=f"task-{n}")):
            out = []
            for _ in range(20):
                await asyncio.sleep(0)  # let the other tasks run in between
                out.append(current_context().user_id)
            return out

    async def main() -> list[list[str | None]]:
        with audit_context(AuditContext(user_id="outer")):
            results = await asyncio.gather(*(handle(n) for n in range(10)))
            assert current_context().user_id == "outer"
            return results

    for n, users in enumerate(run_async(main())):
        assert users == [f"task-{n}"] * 20
    assert current_context() == SYSTEM


def test_a_task_inherits_the_context_it_was_created_in():
    async def child() -> str | None:
        return current_context().user_id

    async def main() -> str | None:
        with audit_context(AuditContext(user_id="parent")):
            task = asyncio.create_task(child())
        return await task  # created inside: keeps "parent" although the block has ended

    assert run_async(main()) == "parent"


def test_a_valid_traceparent_gives_trace_and_span_ids():
    header = f"00-{TRACE}-{SPAN}-01"
    assert parse_traceparent(header) == (TRACE, SPAN)
    assert parse_traceparent(f"  {header}\r\n") == (TRACE, SPAN)
    ctx = AuditContext(user_id="u").with_traceparent(header)
    assert (ctx.user_id, ctx.trace_id, ctx.span_id) == ("u", TRACE, SPAN)


def test_a_future_version_may_carry_more_fields_after_the_flags():
    assert parse_traceparent(f"01-{TRACE}-{SPAN}-01-extra") == (TRACE, SPAN)
    assert parse_traceparent(f"00-{TRACE}-{SPAN}-01-extra") is None


@pytest.mark.parametrize("header", [
    None, "", "garbage",
    f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
    f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
    f"ff-{TRACE}-{SPAN}-01",  # version ff is forbidden
    f"00-{TRACE[:-1]}-{SPAN}-01", f"00-{TRACE}0-{SPAN}-01",  # trace id 31 / 33 digits
    f"00-{TRACE}-{SPAN[:-1]}-01", f"00-{TRACE}-{SPAN}-1", f"0-{TRACE}-{SPAN}-01",
    f"00-{TRACE.upper()}-{SPAN}-01", f"00-{TRACE}-{SPAN.upper()}-01",  # W3C: lowercase hex
    f"0A-{TRACE}-{SPAN}-01", f"00-{TRACE}-{SPAN}-0A",
    f"00-{TRACE[:-1]}g-{SPAN}-01", f"00_{TRACE}_{SPAN}_01", f"00-{TRACE}-{SPAN}-01\x00",
    f"00-{TRACE}-{SPAN}-01" + "0" * 10_000,
])
def test_an_invalid_traceparent_is_ignored(header):
    assert parse_traceparent(header) is None
    ctx = AuditContext(user_id="u", trace_id=None).with_traceparent(header)
    assert ctx.trace_id is None and ctx.span_id is None


def test_context_values_are_cut_to_what_the_event_columns_hold():
    ctx = AuditContext(user_id="u" * 500, request_id="r\x00\n" + "x" * 100,
                       client_ip="1" * 100, session_id="s" * 65, tenant_id="t" * 64)
    assert ctx.user_id == "u" * 64
    assert ctx.request_id == "r" + "x" * 63  # control characters dropped, then cut
    assert ctx.client_ip == "1" * 45
    assert ctx.session_id == "s" * 64 and ctx.tenant_id == "t" * 64
    assert AuditContext(user_id="").user_id is None
