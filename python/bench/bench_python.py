#!/usr/bin/env python3
"""The Python binding's benchmark (docs/benchmarks.md#python-tools).

1. Per-step cost of the crossing: the same 10-step chain of builtin tools run with C++ no-op
   builtins and with Python no-op functions (sync, then `async def`), in the same Runtime, rounds
   alternating; the difference per step is what calling Python adds (GIL, the context as a dict,
   the answer back to JSON).
2. A 10-step chain of Python no-op tools against the same graph in LangGraph.js
   (tests/bench/peer/langgraph.mjs, chain10, MemorySaver), one run after another and 1,000 at once,
   when node and the peer's node_modules (scripts/bench-peer installs them) are there.

    PYTHONPATH=build/python python3 python/bench/bench_python.py [ROUNDS] [--langgraph DIR]

The journal is in memory and forgets each run as it ends (memory_keep_runs=0), one engine thread.
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

import switchyard

STEPS = 10


def chain(name, builtin):
    tools = {f"T{i}": {"kind": "builtin", "name": builtin} for i in range(STEPS)}
    edges = [["Start", "T0", 1]] + [[f"T{i}", f"T{i + 1}", 1] for i in range(STEPS - 1)]
    doc = {"format": "switchyard.workflow/v1", "name": name, "start": "Start", "goal": f"T{STEPS - 1}",
           "tools": tools, "edges": edges}
    return switchyard.Workflow.from_json(json.dumps(doc))


def per_run_us(rt, w, runs):
    """Wall time and CPU time (every thread of the process) per run, in us."""
    for _ in range(50):
        rt.run(w)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        rt.run(w)
    return (time.perf_counter() - start) / runs * 1e6, (time.process_time() - cpu) / runs * 1e6


def burst_per_s(rt, w, runs):
    async def main():
        return await asyncio.gather(*[rt.run_async(w) for _ in range(runs)])

    asyncio.run(main())  # warm-up
    start = time.perf_counter()
    results = asyncio.run(main())
    assert all(r.status == "completed" for r in results)
    return runs / (time.perf_counter() - start)


def main():
    args = sys.argv[1:]
    langgraph = None
    if "--langgraph" in args:
        i = args.index("--langgraph")
        langgraph = args[i + 1]
        del args[i:i + 2]
    rounds = int(args[0]) if args else 5
    runs = 2000
    with switchyard.Runtime(threads=1, memory_keep_runs=0) as rt:
        rt._native.add_native_noop_tool("cpp")
        rt.add_tool("py", lambda ctx: {"ok": True})

        async def py_async(ctx):
            return {"ok": True}

        rt.add_tool("pyasync", py_async)
        flows = {"cpp": chain("cpp", "cpp"), "py": chain("py", "py"), "pyasync": chain("pyasync", "pyasync")}
        times = {k: [] for k in flows}
        cpus = {k: [] for k in flows}
        for _ in range(rounds):
            for k, w in flows.items():
                wall, cpu = per_run_us(rt, w, runs)
                times[k].append(wall)
                cpus[k].append(cpu)
        med = {k: statistics.median(v) for k, v in times.items()}
        cpu = {k: statistics.median(v) for k, v in cpus.items()}
        print(f"10-step chain, {runs} runs x {rounds} rounds, median us per run (wall / CPU): "
              + ", ".join(f"{k} {med[k]:.1f} / {cpu[k]:.1f}" for k in flows))
        print(f"Python sync tool adds {(med['py'] - med['cpp']) / STEPS:.2f} us per step "
              f"({(cpu['py'] - cpu['cpp']) / STEPS:.2f} us of CPU); "
              f"async def adds {(med['pyasync'] - med['cpp']) / STEPS:.2f} us "
              f"({(cpu['pyasync'] - cpu['cpp']) / STEPS:.2f} us of CPU)")
        burst = {k: statistics.median(burst_per_s(rt, flows[k], 1000) for _ in range(rounds)) for k in ("cpp", "py")}
        print("1,000 concurrent 10-step chains (asyncio run_async), runs per second: "
              + ", ".join(f"{k} {v:.0f}" for k, v in burst.items()))
    if langgraph:
        script = os.path.join(langgraph, "langgraph.mjs")
        seq, bur = [], []
        for _ in range(rounds):
            seq.append(json.loads(subprocess.run(["node", "--no-warnings", script, "chain10", "memory", "seq", "300"],
                                                 check=True, capture_output=True, text=True).stdout)["us_per_run"])
            bur.append(json.loads(subprocess.run(["node", "--no-warnings", script, "chain10", "memory", "burst", "1000"],
                                                 check=True, capture_output=True, text=True).stdout)["runs_per_s"])
        print(f"LangGraph.js chain10 MemorySaver: {statistics.median(seq):.1f} us per run "
              f"({statistics.median(seq) / med['py']:.1f}x the Python-tool Switchyard run), "
              f"1,000 at once: {statistics.median(bur):.0f} runs per second")


if __name__ == "__main__":
    main()
