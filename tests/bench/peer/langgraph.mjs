// The LangGraph.js side of scripts/bench-peer: the same shapes as Switchyard's driver
// (tests/bench/peer/switchyard_driver.cc), each node doing the same trivial work as Switchyard's
// builtin tools (answer {"ok": true}; here: append that step's record to the state).
//   node langgraph.mjs SHAPE STORE MODE RUNS
//   SHAPE  chain3 | chain10   a linear graph of that many nodes
//          reroute            chain10 whose T4 fails in every run; a conditional edge sends the run
//                             to T4b, which takes over (T3 -> T4 -x-> T4b -> T5)
//          fanout5 | fanout8  that many parallel nodes from START, joined by one node (Done)
//   STORE  memory             MemorySaver
//          sqlite             SqliteSaver as shipped (a file; WAL, better-sqlite3's
//                             synchronous=NORMAL), invoke's default durability ("async")
//          durable            the same file with PRAGMA synchronous=FULL and durability "sync"
//                             (each step's checkpoint is saved before the next step starts)
//   MODE   seq                RUNS invokes one after another: us per run
//          burst              RUNS invokes started at once (Promise.all), distinct thread_ids:
//                             runs per second
// Prints one JSON line: {"engine", "shape", "store", "mode", "runs", "us_per_run", "runs_per_s"}.
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [shape, store, mode] = process.argv.slice(2, 5);
const runs = Number(process.argv[5] ?? 1000);
const WARMUP = 200;

const State = Annotation.Root({
  steps: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
  failed: Annotation({ reducer: (_, b) => b, default: () => null }),
});

// A node doing what a Switchyard builtin does here: answer {"ok": true}, recorded in the state.
const tool = (id) => async () => ({ steps: [{ tool: id, output: { ok: true } }] });

// The graph, and how many step records a run leaves (checked after every run).
function build() {
  const g = new StateGraph(State);
  let steps;
  const chain = /^chain(\d+)$/.exec(shape);
  const fan = /^fanout(\d+)$/.exec(shape);
  if (chain || shape === "reroute") {
    const n = chain ? Number(chain[1]) : 10;
    steps = n;  // reroute: T4 leaves no record, T4b does
    let prev = START;
    for (let i = 0; i < n; i++) {
      const id = `T${i}`;
      if (shape === "reroute" && i === 4) {
        // T4's work fails; the node records the failure and the conditional edge below routes
        // the run to T4b instead of T5.
        g.addNode(id, async () => {
          try {
            throw new Error("T4 is down");
          } catch (e) {
            return { failed: { tool: id, reason: e.message } };
          }
        });
      } else {
        g.addNode(id, tool(id));
      }
      if (!(shape === "reroute" && i === 5)) g.addEdge(prev, id);
      prev = id;
    }
    g.addEdge(prev, END);
    if (shape === "reroute") {
      g.addNode("T4b", tool("T4b"));
      g.addConditionalEdges("T4", (s) => (s.failed ? "T4b" : "T5"), ["T4b", "T5"]);
      g.addEdge("T4b", "T5");
    }
  } else if (fan) {
    const ids = [];
    steps = Number(fan[1]) + 1;
    for (let i = 0; i < Number(fan[1]); i++) {
      const id = `B${i}`;
      g.addNode(id, tool(id));
      g.addEdge(START, id);
      ids.push(id);
    }
    g.addNode("Done", tool("Done"));
    g.addEdge(ids, "Done");  // the join: Done runs once every branch has
    g.addEdge("Done", END);
  } else {
    throw new Error(`unknown shape ${shape}`);
  }
  return { graph: g, steps };
}

let file = null;
let checkpointer;
if (store === "memory") {
  checkpointer = new MemorySaver();
} else if (store === "sqlite" || store === "durable") {
  file = join(tmpdir(), `switchyard-peer-langgraph-${process.pid}.db`);
  checkpointer = SqliteSaver.fromConnString(file);
  if (store === "durable") checkpointer.db.pragma("synchronous = FULL");
} else {
  throw new Error(`unknown store ${store}`);
}
const { graph, steps } = build();
const app = graph.compile({ checkpointer });
const options = store === "durable" ? { durability: "sync" } : {};

async function once(n) {
  const out = await app.invoke({ steps: [] }, { ...options, configurable: { thread_id: `run-${n}` } });
  if (out.steps.length !== steps) throw new Error(`run ${n}: ${out.steps.length} steps`);
}

for (let i = 0; i < Math.min(WARMUP, runs); i++) await once(-i - 1);
const t0 = process.hrtime.bigint();
if (mode === "seq") {
  for (let i = 0; i < runs; i++) await once(i);
} else if (mode === "burst") {
  await Promise.all(Array.from({ length: runs }, (_, i) => once(i)));
} else {
  throw new Error(`unknown mode ${mode}`);
}
const elapsed_us = Number(process.hrtime.bigint() - t0) / 1000;
if (file) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
console.log(JSON.stringify({
  engine: "langgraph.js",
  shape, store, mode, runs,
  us_per_run: elapsed_us / runs,
  runs_per_s: runs / (elapsed_us / 1e6),
}));
