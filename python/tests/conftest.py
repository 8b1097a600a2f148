"""Fixtures of the Python binding's tests (run by ctest: switchyard_python_tests)."""

import copy
import json
import os
import pathlib

import pytest

import switchyard

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = pathlib.Path(os.environ.get("SWITCHYARD_EXAMPLES", ROOT / "examples"))


def support_document():
    """The paper's customer-support workflow (examples/customer-support.json) with its CRM, the
    two payment providers and the two notifications as Python builtins."""
    doc = json.loads((EXAMPLES / "customer-support.json").read_text())
    doc = copy.deepcopy(doc)
    doc["name"] = "customer-support-py"
    tools = doc["tools"]
    tools["CRM"] = {"kind": "builtin", "name": "crm", "idempotent": True}
    tools["Stripe"] = {"kind": "builtin", "name": "refund", "compensate": "StripeVoid",
                       "args": {"provider": "stripe", "order": "{{steps.CRM.output.order}}"}}
    tools["Razorpay"] = {"kind": "builtin", "name": "refund", "compensate": "RazorpayVoid",
                         "args": {"provider": "razorpay", "order": "{{steps.CRM.output.order}}"}}
    tools["Email"] = {"kind": "builtin", "name": "notify"}
    tools["SMS"] = {"kind": "builtin", "name": "notify"}
    return doc


@pytest.fixture
def support_workflow():
    return switchyard.Workflow.from_json(json.dumps(support_document()), "customer-support-py.json")


@pytest.fixture
def cli():
    path = os.environ.get("SWITCHYARD_CLI")
    # Run by ctest, which always sets it: a missing program is a failure, not a skip.
    assert path and os.access(path, os.X_OK), "SWITCHYARD_CLI must name the built switchyard program"
    return path


def priced_workflow(name="priced"):
    """Start -> Dear ($0.50) -> Done, or Start -> Cheap ($0.01) -> Done when Dear fails; both are
    the builtin ``pay``."""
    doc = {
        "format": "switchyard.workflow/v1", "name": name, "start": "Start", "goal": "Done",
        "tools": {
            "Cheap": {"kind": "builtin", "name": "pay", "price_usd": 0.01},
            "Dear": {"kind": "builtin", "name": "pay", "price_usd": 0.50},
            "Done": {"kind": "mock", "idempotent": True},
        },
        "edges": [["Start", "Dear", 0.1], ["Start", "Cheap", 0.9], ["Dear", "Done", 0.1], ["Cheap", "Done", 0.1]],
    }
    return switchyard.Workflow.from_json(json.dumps(doc), f"{name}.json")


def register_support_tools(rt, stripe_down=True):
    calls = []

    @rt.tool("crm")
    def crm(ctx):
        return {"customer": ctx["input"]["customer"], "order": "A-1001", "amount_usd": 42.0}

    @rt.tool("refund")
    def refund(ctx, tool, args):
        calls.append(tool)
        if stripe_down and args["provider"] == "stripe":
            raise ConnectionError("stripe is down")
        return {"refund": f"{args['provider']}-{args['order']}"}

    @rt.tool("notify")
    async def notify(ctx, tool):
        return {"sent": tool.lower(), "to": ctx["steps"]["CRM"]["output"]["customer"]}

    return calls
