"""Tenant budgets from Python (docs/budgets.md#tenant-budgets): run/start/run_async(tenant=...),
set_tenant_budget and tenant_budgets; bad keys and caps refused before anything runs."""

import asyncio

import pytest

import switchyard
from conftest import priced_workflow


def test_runs_of_one_tenant_share_its_cap_and_a_refused_step_is_routed_around(tmp_path):
    w = priced_workflow("tenant-py")
    with switchyard.Runtime(journal=str(tmp_path / "runs.db"), threads=1) as rt:
        paid = []
        rt.add_tool("pay", lambda ctx, tool: paid.append(tool) or {"paid": tool})
        rt.set_tenant_budget("acme", 0.60)
        first = rt.run(w, tenant="acme")
        assert first.path == ["Start", "Dear", "Done"]
        # $0.10 left: Dear ($0.50) is refused, not called; the run routes to Cheap.
        second = rt.start(w, tenant="acme").result()
        assert second.status == "completed" and second.path == ["Start", "Cheap", "Done"]
        refused = next(e for e in rt.events(second.run_id) if e.type == "step_failed")
        assert refused.payload["failure"] == "budget_exhausted"
        assert refused.payload["reason"].startswith("tenant budget 'acme': $0.10 left of its $0.60 cap")
        third = asyncio.run(rt.run_async(w, tenant="acme"))
        assert third.path == ["Start", "Cheap", "Done"]
        assert rt.run(w).path == ["Start", "Dear", "Done"], "a run without a tenant is not held back"
        assert paid == ["Dear", "Cheap", "Cheap", "Dear"]
        started = rt.events(first.run_id)[0]
        assert started.type == "run_started" and started.payload["tenant"] == "acme"
        [acme] = rt.tenant_budgets()
        assert acme.key == "acme" and acme.cap_usd == pytest.approx(0.60)
        assert acme.spent_usd == pytest.approx(0.52) and acme.reserved_usd == 0
        assert acme.left_usd == pytest.approx(0.08)


def test_a_bad_tenant_key_or_cap_is_refused_before_anything_runs(tmp_path):
    w = priced_workflow("tenant-py")
    with switchyard.Runtime(journal=str(tmp_path / "runs.db"), threads=1) as rt:
        rt.add_tool("pay", lambda ctx: {"paid": True})
        with pytest.raises(switchyard.InvalidArgumentError, match="tenant key must not hold control"):
            rt.run(w, tenant="a\nb")
        with pytest.raises(switchyard.InvalidArgumentError, match="at most 200 bytes"):
            rt.start(w, tenant="k" * 201)
        with pytest.raises(switchyard.InvalidArgumentError, match="tenant"):
            asyncio.run(rt.run_async(w, tenant="\x7f"))
        with pytest.raises(TypeError, match="tenant: expected a str"):
            rt.run(w, tenant=7)
        with pytest.raises(switchyard.InvalidArgumentError, match="must not be empty"):
            rt.set_tenant_budget("", 1.0)
        with pytest.raises(switchyard.InvalidArgumentError, match="cap must be a number of USD >= 0"):
            rt.set_tenant_budget("acme", -0.01)
        with pytest.raises(TypeError, match="usd"):
            rt.set_tenant_budget("acme", "lots")
        assert rt.runs() == [] and rt.tenant_budgets() == []
        free = rt.run(w, tenant="free")  # a tenant without a cap: granted and counted
        assert free.path == ["Start", "Dear", "Done"]
        assert [(t.key, t.cap_usd, t.left_usd) for t in rt.tenant_budgets()] == [("free", None, None)]
        assert rt.tenant_budgets()[0].spent_usd == pytest.approx(0.50)
