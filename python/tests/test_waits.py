"""Waits through the binding (docs/waits.md, docs/python.md#waits): the open waits of the runs in
flight, approved, rejected and signalled with data, a name and an idempotency key; a run held at a
wait is listed "waiting"; the errors are the C++ API's, raised as the package's exceptions."""

import json
import time

import pytest

import switchyard

# A refund that asks for approval and reroutes to Apologize when it is rejected.
REFUND = {
    "format": "switchyard.workflow/v1", "name": "py-refund", "start": "Start", "goal": "Done",
    "tools": {
        "Approve": {"kind": "wait", "approval": "refund over $100"},
        "Refund": {"kind": "mock"},
        "Apologize": {"kind": "mock", "idempotent": True},
        "Done": {"kind": "mock", "idempotent": True},
    },
    "edges": [["Start", "Approve", 1], ["Approve", "Refund", 1], ["Refund", "Done", 1],
              ["Start", "Apologize", 9], ["Apologize", "Done", 1]],
}

# An approval, a signal with a timeout, another approval: each resolved while the run is held at
# the next one, so that a resolution sent again finds the run still in flight.
STEPS = {
    "format": "switchyard.workflow/v1", "name": "py-steps", "start": "Start", "goal": "Done",
    "tools": {
        "First": {"kind": "wait", "approval": "first"},
        "Second": {"kind": "wait", "approval": "second"},
        "Confirm": {"kind": "wait", "signal": "confirmed", "timeout_ms": 86400000},
        "Done": {"kind": "mock", "idempotent": True},
    },
    "edges": [["Start", "First", 1], ["First", "Confirm", 1], ["Confirm", "Second", 1],
              ["Second", "Done", 1]],
}

DEADLINE_S = 10


def workflow(doc):
    return switchyard.Workflow.from_json(json.dumps(doc), doc["name"] + ".json")


def await_wait(rt, run_id, wait_id):
    """rt.waits() polled until it lists `wait_id` of `run_id` (at most DEADLINE_S): that wait."""
    until = time.monotonic() + DEADLINE_S
    while time.monotonic() < until:
        for w in rt.waits():
            if w.run_id == run_id and w.wait_id == wait_id:
                return w
        time.sleep(0.005)
    raise AssertionError(f"{run_id} never waited at {wait_id}: {rt.waits()}")


def test_an_approval_is_listed_waiting_then_approved_with_its_data():
    with switchyard.Runtime(threads=1) as rt:
        handle = rt.start(workflow(REFUND), run_id="py-approve")
        w = await_wait(rt, "py-approve", "Approve#1")
        assert isinstance(w, switchyard.Wait)
        assert (w.kind, w.name, w.tool, w.branch, w.due_ms) == (
            "approval", "refund over $100", "Approve", -1, None)
        assert w.started_ms > 0
        # Listed "waiting" once its wait_started is in the journal, and found by that status.
        until = time.monotonic() + DEADLINE_S
        while rt.get_run("py-approve").status != "waiting" and time.monotonic() < until:
            time.sleep(0.005)
        assert rt.get_run("py-approve").status == "waiting"
        assert [r.run_id for r in rt.runs(status="waiting")] == ["py-approve"]
        assert rt.runs(status="running") == []

        rt.approve("py-approve", "Approve#1", data={"note": "VIP"}, by="ana", key="ticket-7")
        result = handle.result(timeout=DEADLINE_S)
        assert result.status == "completed"
        assert result.path == ["Start", "Approve", "Refund", "Done"]
        assert result.outputs["Approve"] == {"approved": True, "data": {"note": "VIP"}, "by": "ana"}
        resolved = [e.payload for e in rt.events("py-approve") if e.type == "wait_resolved"]
        assert resolved == [{"wait": "Approve#1", "decision": "approved", "by": "ana",
                             "key": "ticket-7"}]
        assert rt.get_run("py-approve").status == "completed"
        assert rt.waits() == []
        # The run has ended: the wait is no longer open.
        with pytest.raises(switchyard.NotFoundError):
            rt.approve("py-approve", "Approve#1")


def test_a_rejection_with_its_reason_reroutes_the_run():
    with switchyard.Runtime(threads=1) as rt:
        handle = rt.start(workflow(REFUND), run_id="py-reject")
        await_wait(rt, "py-reject", "Approve#1")
        rt.reject("py-reject", "Approve#1", reason="looks like fraud", by="bo")
        result = handle.result(timeout=DEADLINE_S)
        assert result.path == ["Start", "Apologize", "Done"]
        failed = next(e.payload for e in rt.events("py-reject") if e.type == "step_failed")
        assert failed["failure"] == "rejected"
        assert "rejected by bo: looks like fraud" in failed["reason"]


def test_resolutions_sent_again_under_their_key_are_applied_once_and_errors_are_the_cpp_apis():
    with switchyard.Runtime(threads=1) as rt:
        handle = rt.start(workflow(STEPS), run_id="py-steps")
        await_wait(rt, "py-steps", "First#1")
        with pytest.raises(switchyard.NotFoundError, match="First#9"):
            rt.approve("py-steps", "First#9")
        with pytest.raises(switchyard.NotFoundError):
            rt.signal("py-steps", "confirmed", data={})  # not waiting for it yet
        rt.approve("py-steps", "First#1", key="k-1")
        confirm = await_wait(rt, "py-steps", "Confirm#1")
        assert (confirm.kind, confirm.name) == ("signal", "confirmed")
        assert confirm.due_ms == confirm.started_ms + 86400000
        # Resolved already: again under its key changes nothing, under another is refused.
        rt.approve("py-steps", "First#1", key="k-1")
        with pytest.raises(switchyard.FailedPreconditionError, match="already resolved"):
            rt.approve("py-steps", "First#1", key="k-2")
        with pytest.raises(switchyard.InvalidArgumentError):
            rt.approve("py-steps", "Confirm#1")  # a signal wait takes a signal
        with pytest.raises(switchyard.InvalidArgumentError, match="data"):
            rt.signal("py-steps", "confirmed", data={"when": object()})
        rt.signal("py-steps", "confirmed", data={"seat": "12A"}, by="sms", key="msg-1")
        await_wait(rt, "py-steps", "Second#1")
        rt.signal("py-steps", "confirmed", data={"seat": "12A"}, by="sms", key="msg-1")
        rt.approve("py-steps", "Second#1")
        result = handle.result(timeout=DEADLINE_S)
        assert result.status == "completed"
        assert result.outputs["Confirm"] == {"seat": "12A"}
        signalled = [e.payload for e in rt.events("py-steps")
                     if e.type == "wait_resolved" and e.payload["wait"] == "Confirm#1"]
        assert signalled == [{"wait": "Confirm#1", "decision": "signalled", "by": "sms",
                              "key": "msg-1"}]
