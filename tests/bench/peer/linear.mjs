// The peer side of scripts/bench-peer: LangGraph.js running the same workload as Switchyard's
// run_loop_bench: a 10-step linear graph of no-op tools, one whole run per iteration, with its
// in-memory checkpointer (LangGraph's counterpart of Switchyard's in-memory journal).
// Prints one JSON line: {"peer": "langgraph.js", "runs": N, "us_per_run": X, "us_per_step": Y}.
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";

const STEPS = 10;
const runs = Number(process.argv[2] ?? 2000);
const checkpointed = (process.argv[3] ?? "memory") === "memory";

const State = Annotation.Root({
  steps: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const graph = new StateGraph(State);
let prev = START;
for (let i = 0; i < STEPS; i++) {
  const id = `T${i}`;
  graph.addNode(id, async () => ({ steps: [{ tool: id, output: { i } }] }));
  graph.addEdge(prev, id);
  prev = id;
}
graph.addEdge(prev, END);
const app = graph.compile(checkpointed ? { checkpointer: new MemorySaver() } : {});

async function once(n) {
  await app.invoke({ steps: [] }, { configurable: { thread_id: `run-${n}` } });
}

for (let i = 0; i < Math.min(200, runs); i++) await once(-i - 1);  // warm-up
const t0 = process.hrtime.bigint();
for (let i = 0; i < runs; i++) await once(i);
const elapsed_us = Number(process.hrtime.bigint() - t0) / 1000;
console.log(JSON.stringify({
  peer: "langgraph.js",
  checkpointer: checkpointed ? "memory" : "none",
  runs,
  us_per_run: elapsed_us / runs,
  us_per_step: elapsed_us / runs / STEPS,
}));
