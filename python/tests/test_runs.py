"""Runs of workflows with Python tools: rerouting around a raising tool, async tools, args,
budgets, errors as exceptions, replay and verify, health."""

import asyncio
import json

import pytest

import switchyard
from conftest import priced_workflow, register_support_tools


def test_a_python_tool_that_raises_is_a_failed_step_the_run_reroutes_around(support_workflow):
    with switchyard.Runtime(threads=2) as rt:
        calls = register_support_tools(rt)
        result = rt.run(support_workflow, input={"customer": "ada@example.com"})
        assert result.status == "completed"
        assert result.path[:3] == ["Start", "CRM", "Razorpay"]
        assert result.reroutes >= 1
        assert calls[0] == "Stripe" and "Razorpay" in calls
        assert result.outputs["Razorpay"] == {"refund": "razorpay-A-1001"}
        failed = [e for e in rt.events(result.run_id) if e.type == "step_failed"]
        assert failed and failed[0].payload["tool"] == "Stripe"
        assert "ConnectionError: stripe is down" in json.dumps(failed[0].payload)
        assert any(e.type == "reroute" for e in rt.events(result.run_id))


def test_async_tools_get_the_context_tool_id_and_args(support_workflow):
    with switchyard.Runtime(threads=2) as rt:
        register_support_tools(rt, stripe_down=False)
        seen = {}

        @rt.tool("refund")
        async def refund(ctx, *, tool, args):
            await asyncio.sleep(0)
            seen[tool] = (args, ctx["input"])
            return {"refund": args["provider"]}

        result = rt.run(support_workflow, input={"customer": "bob"})
        assert result.status == "completed"
        assert "Razorpay" in seen or "Stripe" in seen
        tool, (args, run_input) = next(iter(seen.items()))
        assert args == {"provider": tool.lower(), "order": "A-1001"}
        assert run_input == {"customer": "bob"}


def test_an_async_tool_that_raises_a_tool_error_fails_with_its_kind(support_workflow):
    with switchyard.Runtime(threads=1) as rt:
        register_support_tools(rt)

        @rt.tool("refund")
        async def refund(ctx, args):
            if args["provider"] == "stripe":
                raise switchyard.ToolError("gateway timed out", code="deadline_exceeded")
            return {"refund": "ok"}

        result = rt.run(support_workflow, input={"customer": "c"})
        assert result.status == "completed" and "Razorpay" in result.path
        failed = next(e for e in rt.events(result.run_id) if e.type == "step_failed")
        assert failed.payload["failure"] == "timeout"
        assert "ToolError: gateway timed out" in failed.payload["reason"]


def test_an_output_that_is_not_json_fails_the_step_naming_the_pointer():
    doc = {
        "format": "switchyard.workflow/v1", "name": "bad-output", "start": "Start", "goal": "Done",
        "tools": {"Make": {"kind": "builtin", "name": "make"}, "Done": {"kind": "mock"}},
        "edges": [["Start", "Make", 1], ["Make", "Done", 1]],
    }
    with switchyard.Runtime(threads=1) as rt:
        rt.add_tool("make", lambda ctx: {"rows": [1, {"when": object()}]})
        result = rt.run(switchyard.Workflow.from_json(json.dumps(doc)))
        assert result.status == "escalated"
        failed = next(e for e in rt.events(result.run_id) if e.type == "step_failed")
        assert failed.payload["failure"] == "bad_output"
        assert "/rows/1/when" in failed.payload["reason"]


def test_a_budget_cap_refuses_the_step_that_does_not_fit():
    w = priced_workflow()
    with switchyard.Runtime(threads=1) as rt:
        paid = []
        rt.add_tool("pay", lambda ctx, tool: paid.append(tool) or {"paid": tool})
        unbounded = rt.run(w)
        assert unbounded.path == ["Start", "Dear", "Done"] and unbounded.spent_usd == pytest.approx(0.5)
        paid.clear()
        capped = rt.run(w, budget=switchyard.Budget(usd=0.10))
        assert capped.status == "completed"
        assert capped.path == ["Start", "Cheap", "Done"]
        assert paid == ["Cheap"]  # Dear was never called
        assert capped.spent_usd <= 0.10
        refused = next(e for e in rt.events(capped.run_id) if e.type == "step_failed")
        assert refused.payload["tool"] == "Dear" and refused.payload["failure"] == "budget_exhausted"
        nothing = rt.run(w, budget={"usd": 0.001})
        assert nothing.status == "escalated" and paid == ["Cheap"]


def test_replay_and_verify_from_python(support_workflow, tmp_path):
    db = str(tmp_path / "runs.db")
    with switchyard.Runtime(journal=db, threads=2) as rt:
        register_support_tools(rt)
        result = rt.run(support_workflow, input={"customer": "ada"}, seed=7)
        report = rt.verify(result.run_id)
        assert report.ok and report.chain_error is None and report.verified > 0
        assert report.events == len(rt.events(result.run_id))
        doc = rt.replay(result.run_id, format="json")
        assert doc["run"]["run_id"] == result.run_id
        assert [e["type"] for e in doc["events"]][0] == "run_started"
        assert doc["events"][-1]["type"] == "run_finished"
        text = rt.replay(result.run_id)
        assert "reroute" in text and "run_finished" in text
        assert rt.replay(result.run_id, format="dot").startswith("digraph")
        assert "<html" in rt.replay(result.run_id, format="html")
        with pytest.raises(ValueError):
            rt.replay(result.run_id, format="pdf")
        runs = rt.runs(workflow="customer-support-py")
        assert [r.run_id for r in runs] == [result.run_id] and runs[0].status == "completed"


def test_errors_are_exceptions_carrying_the_status_code_and_the_json_pointer(tmp_path):
    with pytest.raises(switchyard.LoadError) as load:
        switchyard.Workflow.from_json('{"format": "switchyard.workflow/v1", "name": 3}', "bad.json")
    assert load.value.code == "invalid_argument"
    assert load.value.pointer == "/name" and load.value.file == "bad.json"
    assert any(d["pointer"] == "/start" for d in load.value.diagnostics)
    with pytest.raises(switchyard.LoadError) as missing:
        switchyard.Workflow.from_file(str(tmp_path / "nope.json"))
    assert missing.value.pointer == ""
    with switchyard.Runtime() as rt:
        with pytest.raises(switchyard.NotFoundError) as nf:
            rt.verify("r-unknown")
        assert nf.value.code == "not_found" and isinstance(nf.value, LookupError)
        with pytest.raises(switchyard.NotFoundError):
            rt.cancel("r-unknown")
        doc = {"format": "switchyard.workflow/v1", "name": "x", "start": "Start", "goal": "T",
               "tools": {"T": {"kind": "builtin", "name": "unregistered"}}, "edges": [["Start", "T", 1]]}
        with pytest.raises(switchyard.InvalidArgumentError) as ia:
            rt.run(switchyard.Workflow.from_json(json.dumps(doc)))
        assert "unregistered" in ia.value.message
    with pytest.raises(switchyard.JournalError) as io:
        switchyard.Runtime(journal=str(tmp_path / "no" / "such" / "dir" / "j.db"))
    assert io.value.code == "io"
    rt = switchyard.Runtime()
    rt.close()
    with pytest.raises(switchyard.FailedPreconditionError):
        rt.runs()


def test_health_reports_the_tool_that_failed(support_workflow):
    with switchyard.Runtime(threads=1) as rt:
        register_support_tools(rt)
        rt.run(support_workflow, input={"customer": "ada"})
        health = {h["tool"]: h for h in rt.health()}
        assert health["Stripe"]["consecutive_failures"] >= 1
        assert health["Razorpay"]["consecutive_failures"] == 0
