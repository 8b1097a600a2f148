"""Many runs at once with Python tools (asyncio and threads), live events, cancellation and
Ctrl-C."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

import switchyard
from conftest import register_support_tools


def test_a_thousand_concurrent_runs_with_python_tools_under_asyncio(support_workflow):
    async def main(rt):
        return await asyncio.gather(
            *[rt.run_async(support_workflow, input={"customer": f"c{i}"}) for i in range(1000)]
        )

    with switchyard.Runtime(threads=2, memory_keep_runs=0) as rt:
        calls = register_support_tools(rt)
        results = asyncio.run(main(rt))
        assert len(results) == 1000
        assert {r.status for r in results} == {"completed"}
        assert len({r.run_id for r in results}) == 1000
        assert sorted(r.outputs["CRM"]["customer"] for r in results) == sorted(f"c{i}" for i in range(1000))
        assert calls.count("Stripe") >= 1 and calls.count("Razorpay") == 1000
        assert rt.in_flight() == 0


def test_runs_from_many_python_threads_at_once(support_workflow):
    with switchyard.Runtime(threads=2) as rt:
        register_support_tools(rt)

        def some_runs(k):
            return [rt.run(support_workflow, input={"customer": f"t{k}-{i}"}).status for i in range(25)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = [s for batch in pool.map(some_runs, range(8)) for s in batch]
        assert statuses == ["completed"] * 200


def test_run_async_does_not_block_the_event_loop(support_workflow):
    release = threading.Event()

    async def main(rt):
        task = asyncio.ensure_future(rt.run_async(support_workflow, input={"customer": "ada"}))
        ticks = 0
        while not task.done():  # the loop keeps turning while the run waits on its tool
            ticks += 1
            if ticks == 3:
                release.set()
            await asyncio.sleep(0)
        return ticks, task.result()

    with switchyard.Runtime(threads=1) as rt:
        register_support_tools(rt)

        @rt.tool("crm")
        def crm(ctx):
            release.wait()
            return {"customer": "ada", "order": "A-1"}

        ticks, result = asyncio.run(main(rt))
        assert ticks >= 3 and result.status == "completed"


def test_watch_iterates_a_runs_events_as_they_happen(support_workflow, tmp_path):
    release = threading.Event()
    # A journal file: its writer makes each event durable (and delivers it) as it is written.
    with switchyard.Runtime(journal=str(tmp_path / "runs.db"), threads=2) as rt:
        register_support_tools(rt)

        @rt.tool("notify")
        async def notify(ctx, tool):  # async: a sync tool would hold up its engine thread
            await asyncio.get_running_loop().run_in_executor(None, release.wait)
            return {"sent": tool}

        handle = rt.start(support_workflow, input={"customer": "ada"})
        seen = []
        for event in rt.watch(handle.run_id, timeout=30):
            seen.append(event)
            if event.type == "step_started" and event.payload["tool"] in ("Email", "SMS"):
                assert not handle.done()  # live: the run is still waiting on the notification
                release.set()
        assert seen[0].type == "run_started" and seen[-1].type == "run_finished"
        assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
        assert handle.result().status == "completed"
        again = list(rt.watch(handle.run_id))  # a finished run: its journal
        assert [e.seq for e in again] == [e.seq for e in seen]


def test_watch_async_follows_runs_from_an_event_loop(support_workflow, tmp_path):
    async def main(rt):
        handle = rt.start(support_workflow, input={"customer": "ada"})
        seen = [e async for e in rt.watch_async(handle.run_id, timeout=30)]
        return handle, seen

    with switchyard.Runtime(journal=str(tmp_path / "runs.db"), threads=2) as rt:
        register_support_tools(rt)
        handle, seen = asyncio.run(main(rt))
        assert seen[0].type == "run_started" and seen[-1].type == "run_finished"
        assert [e.seq for e in seen] == [e.seq for e in rt.events(handle.run_id)]
        assert handle.result().status == "completed"


def test_cancel_aborts_an_async_python_tool(support_workflow):
    started = threading.Event()
    cancelled = threading.Event()
    with switchyard.Runtime(threads=1) as rt:
        register_support_tools(rt)

        @rt.tool("crm")
        async def crm(ctx):
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        handle = rt.start(support_workflow, input={"customer": "ada"})
        assert started.wait(30)
        handle.cancel()
        result = handle.result(timeout=30)
        assert result.status == "failed" and result.message == "cancelled: request"
        assert cancelled.wait(30)
        assert any(e.type == "cancelled" for e in rt.events(handle.run_id))


def test_cancelling_the_awaiting_task_cancels_the_run(support_workflow):
    started = threading.Event()
    with switchyard.Runtime(threads=1) as rt:
        register_support_tools(rt)

        @rt.tool("crm")
        async def crm(ctx):
            started.set()
            await asyncio.sleep(3600)

        async def main():
            task = asyncio.ensure_future(rt.run_async(support_workflow, input={"customer": "ada"}, run_id="r-py-task"))
            assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        rt.wait_idle()
        info = rt.get_run("r-py-task")
        assert info.status == "failed" and info.result["escalation"]["message"] == "cancelled: asyncio task cancelled"


def test_ctrl_c_during_run_cancels_the_run_cleanly(tmp_path):
    db = tmp_path / "runs.db"
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import switchyard
        from conftest import support_document
        with switchyard.Runtime(journal={str(db)!r}, threads=1) as rt:
            @rt.tool("crm")
            async def crm(ctx):
                print("ready", flush=True)
                await asyncio.sleep(3600)
            rt.add_tool("refund", lambda ctx: {{}})
            rt.add_tool("notify", lambda ctx: {{}})
            w = switchyard.Workflow.from_json(json.dumps(support_document()))
            try:
                rt.run(w, input={{"customer": "ada"}}, run_id="r-py-interrupted")
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(130)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline().strip() == "interrupted"
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
        proc.wait()
    with switchyard.Runtime(journal=str(db)) as rt:
        info = rt.get_run("r-py-interrupted")
        assert info.status == "failed" and info.result["escalation"]["message"] == "cancelled: interrupted"
        assert rt.verify("r-py-interrupted").ok


def test_an_async_tool_may_await_another_run_of_the_same_runtime(support_workflow):
    inner = switchyard.Workflow.from_json(
        '{"format": "switchyard.workflow/v1", "name": "inner", "start": "Start", "goal": "T",'
        ' "tools": {"T": {"kind": "builtin", "name": "leaf"}}, "edges": [["Start", "T", 1]]}')
    with switchyard.Runtime(threads=1) as rt:
        register_support_tools(rt)
        rt.add_tool("leaf", lambda ctx: {"leaf": ctx["input"]["order"]})

        @rt.tool("crm")
        async def crm(ctx):
            sub = await rt.run_async(inner, input={"order": "A-7"})
            return {"customer": "ada", "order": sub.output["leaf"]}

        result = rt.run(support_workflow, input={"customer": "ada"})
        assert result.status == "completed"
        assert result.outputs["CRM"]["order"] == "A-7"
        assert result.outputs["Razorpay"] == {"refund": "razorpay-A-7"}
