#!/usr/bin/env python3
"""examples/python: Python functions as the tools of a Switchyard workflow.

The customer-support refund (support.json): a CRM lookup, a refund through Stripe or Razorpay, a
notification. Stripe is down (our Python function raises), so the run reroutes to Razorpay, and
the notification is an `async def`. Then 20 runs at once under asyncio, and the run verified from
its journal, which the `switchyard` program reads too (switchyard runs --journal support.db).

    python3 examples/python/support.py [JOURNAL]        (default: support.db)
"""

import asyncio
import pathlib
import sys

import switchyard

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    journal = sys.argv[1] if len(sys.argv) > 1 else "support.db"
    workflow = switchyard.Workflow.from_file(str(HERE / "support.json"))

    with switchyard.Runtime(journal=journal, threads=2) as rt:

        @rt.tool("crm")
        def crm(ctx):
            return {"customer": ctx["input"]["customer"], "order": "A-1001", "amount_usd": 42.0}

        @rt.tool("refund")
        def refund(ctx, args):
            if args["provider"] == "stripe":
                raise ConnectionError("Stripe is down")  # a failed step: the run reroutes
            return {"refund": f"rfnd-{args['order']}"}

        @rt.tool("notify")
        async def notify(ctx, tool):
            await asyncio.sleep(0.01)  # an await on a real client in a real program
            return {"sent": tool.lower(), "to": ctx["steps"]["CRM"]["output"]["customer"]}

        result = rt.run(workflow, input={"customer": "ada@example.com"})
        print(f"status: {result.status}")
        print(f"route: {' -> '.join(result.path)}")
        print(f"reroutes: {result.reroutes}, spent: ${result.spent_usd:.2f}")
        print(f"refund: {result.outputs['Razorpay']['refund']}")
        for event in rt.events(result.run_id):
            if event.type == "step_failed":
                print(f"failed: {event.payload['tool']}: {event.payload['reason']}")
        report = rt.verify(result.run_id)
        print(f"verified: {report.ok} ({report.verified} decisions re-driven)")

        async def many():
            runs = [rt.run_async(workflow, input={"customer": f"c{i}@example.com"}) for i in range(20)]
            return await asyncio.gather(*runs)

        statuses = [r.status for r in asyncio.run(many())]
        print(f"20 runs at once: {statuses.count('completed')} completed")
        return 0 if result.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
