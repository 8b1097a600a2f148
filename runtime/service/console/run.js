// A run: its graph (the replay SVG, redrawn as events come), its timeline, input, outputs,
// spend and LLM calls, verification, cancel, the self-contained HTML report, and the waits it is
// held at (waits.js).
import {followEvents, getBlob, getJson, getText, postJson} from './api.js';
import {h, clear, time, usd, json, badge, table, svgNode, announce, duration} from './util.js';
import {runWaits} from './waits.js';
import {progressText, summary, toolProgress} from './events.js';

// Whether a run of this status is still going: `waiting` is a run in flight held at a wait.
function inFlight(status) {
  return status === 'running' || status === 'waiting';
}

export async function runPage(main, [id], signal) {
  document.title = 'Run ' + id + ' - Switchyard';
  const base = '/v1/runs/' + encodeURIComponent(id);
  const heading = h('h1', {}, 'Run ', h('code', {}, id));
  const statusLine = h('p', {id: 'run-status', class: 'status-line'});
  const actions = h('div', {class: 'actions'});
  const cancel = h('button', {type: 'button', id: 'cancel', hidden: true}, 'Cancel run');
  const verify = h('button', {type: 'button', id: 'verify'}, 'Verify');
  const download = h('button', {type: 'button', id: 'download'}, 'Download HTML report');
  const message = h('p', {id: 'run-message', role: 'status'});
  actions.append(cancel, verify, download);
  const graph = h('figure', {id: 'graph', class: 'graph'});
  const verifyOut = h('div', {id: 'verify-result'});
  const facts = h('div', {id: 'facts', class: 'facts'});
  const llm = h('div', {id: 'llm-calls'});
  const progress = h('div', {id: 'tool-progress'});
  const timelineBody = h('tbody', {});
  const timeline = h('table', {id: 'timeline'},
    h('caption', {}, 'Timeline: every journaled event and decision'),
    h('thead', {}, h('tr', {}, ['Seq', '+Time', 'Event', 'What'].map((t) => h('th', {scope: 'col'}, t)))),
    timelineBody);
  const waits = runWaits(id, signal);
  main.append(h('p', {class: 'crumbs'}, h('a', {href: '#/runs'}, '\u2190 Runs')), heading,
    statusLine, actions, message, waits.section, graph,
    h('section', {'aria-labelledby': 'h-verify'}, h('h2', {id: 'h-verify'}, 'Verification'), verifyOut),
    h('section', {'aria-labelledby': 'h-facts'}, h('h2', {id: 'h-facts'}, 'Input, outputs and spend'), facts),
    h('section', {'aria-labelledby': 'h-llm'}, h('h2', {id: 'h-llm'}, 'LLM calls'), llm),
    h('section', {'aria-labelledby': 'h-progress'}, h('h2', {id: 'h-progress'}, 'Tool progress'),
      progress),
    h('section', {'aria-labelledby': 'h-timeline'}, h('h2', {id: 'h-timeline'}, 'Timeline'), timeline));

  let run = null;
  let lastSeq = 0;
  let startMs = 0;
  const events = [];

  function showRun() {
    clear(statusLine).append(badge(run.status), ' ', run.workflow || '',
      run.started_ms ? ', started ' + time(run.started_ms) : '',
      run.finished_ms ? ', finished ' + time(run.finished_ms) : '');
    statusLine.setAttribute('data-status', run.status);
    cancel.hidden = !inFlight(run.status);
    const r = run.result || {};
    clear(facts).append(
      h('dl', {},
        h('dt', {}, 'Spent'), h('dd', {id: 'spent'}, run.result ? usd(r.spent_usd) : '(running)'),
        h('dt', {}, 'Tokens'), h('dd', {}, r.tokens ?? ''),
        h('dt', {}, 'LLM calls'), h('dd', {}, r.llm_calls ?? ''),
        h('dt', {}, 'Reroutes'), h('dd', {id: 'reroutes'}, r.reroutes ?? ''),
        h('dt', {}, 'Backtracks'), h('dd', {}, r.backtracks ?? ''),
        h('dt', {}, 'Path'), h('dd', {}, (r.path || []).join(' \u2192 '))),
      h('h3', {}, 'Input'), h('pre', {id: 'input'}, json(run.input ?? null)),
      h('h3', {}, 'Output'), h('pre', {id: 'output'}, json(r.output ?? null)),
      h('h3', {}, 'Outputs by step'), h('pre', {id: 'outputs'}, json(r.outputs ?? null)),
      r.escalation ? [h('h3', {}, 'Escalation'), h('pre', {}, json(r.escalation))] : []);
  }

  function showLlm() {
    const calls = events.filter((e) => e.type === 'llm_settled');
    clear(llm).append(calls.length === 0 ? h('p', {}, 'No LLM call.') :
      table(calls.length + ' call(s)', [
        {label: 'Seq', value: (e) => e.seq},
        {label: 'Step', value: (e) => e.payload.node},
        {label: 'Tool', value: (e) => e.payload.tool},
        {label: 'Tier', value: (e) => e.payload.tier},
        {label: 'Tokens', value: (e) => e.payload.tokens},
        {label: 'Cost', value: (e) => usd(e.payload.cost_usd)},
        {label: 'OK', value: (e) => (e.payload.ok ? 'yes' : 'no: ' + (e.payload.failure || ''))},
      ], calls));
  }

  // The latest progress each MCP tool call reported (tool_progress events, docs/mcp.md#progress).
  function showProgress() {
    const rows = toolProgress(events);
    clear(progress).append(rows.length === 0 ? h('p', {}, 'No tool reported progress.') :
      table(rows.length + ' call(s) reported progress', [
        {label: 'Tool', value: (r) => r.tool},
        {label: 'Call', value: (r) => r.call},
        {label: 'Progress', value: (r) => [
          typeof r.total === 'number' && r.total > 0 ?
            h('progress', {value: String(Math.min(r.progress, r.total)), max: String(r.total)}) : null,
          ' ', progressText(r)]},
        {label: 'Message', value: (r) => r.message ?? ''},
      ], rows, (r) => ({'data-tool': r.tool, 'data-call': String(r.call)})));
  }

  function addEvent(e) {
    if (e.seq <= lastSeq) return;
    lastSeq = e.seq;
    if (!startMs) startMs = e.time_ms;
    events.push(e);
    waits.event(e);
    timelineBody.append(h('tr', {class: 'ev-' + e.type, 'data-type': e.type},
      h('td', {}, e.seq), h('td', {}, '+' + duration(e.time_ms - startMs)),
      h('td', {}, e.type), h('td', {}, summary(e))));
    if (e.type === 'tool_progress') showProgress();
  }

  let drawing = null;
  let again = false;
  async function drawGraph() {
    if (drawing) {
      again = true;
      return drawing;
    }
    drawing = (async () => {
      do {
        again = false;
        const svg = await getText(base + '/replay?format=svg', {signal});
        clear(graph).append(svgNode(svg, 'Graph of run ' + id + ' (' + run.status + ')'),
          h('figcaption', {}, 'The workflow\u2019s graph with what the run did: the path taken in ' +
            'bold, failed steps and reroutes marked (legend in the picture).'));
        graph.setAttribute('data-seq', String(lastSeq));
      } while (again);
    })().finally(() => {
      drawing = null;
    });
    return drawing;
  }

  async function reload() {
    const doc = await getJson(base + '/replay?format=json', {signal});
    run = doc.run;
    for (const e of doc.events) addEvent(e);
    showRun();
    showLlm();
    showProgress();
  }

  run = await getJson(base, {signal});
  if (run.workflow !== undefined) {
    await reload();
  } else {
    // Accepted, its row not yet committed: the events stream waits for it.
    showRun();
  }
  if (run.workflow !== undefined) await drawGraph().catch(() => {});

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await postJson(base + '/cancel');
      message.textContent = 'Cancelling\u2026';
    } catch (e) {
      message.textContent = 'Cannot cancel: ' + e.message;
    }
    cancel.disabled = false;
  });
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    try {
      const doc = await getJson(base + '/replay?verify=true', {signal});
      const v = doc.verify;
      clear(verifyOut).append(
        h('p', {id: 'verify-verdict', class: v.ok ? 'ok' : 'error'},
          v.ok ? 'Verified: the hash chain is intact and every decision re-drives the same.' :
            'Verification FAILED.'),
        h('pre', {}, json(v)));
    } catch (e) {
      clear(verifyOut).append(h('p', {class: 'error'}, 'Cannot verify: ' + e.message));
    }
    verify.disabled = false;
  });
  download.addEventListener('click', async () => {
    const blob = await getBlob(base + '/replay?format=html');
    const url = URL.createObjectURL(blob);
    const a = h('a', {href: url, download: 'run-' + id + '.html'});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });

  if (!inFlight(run.status)) return;
  // Live: each event as it is committed; the graph redrawn after each.
  await followEvents(id, lastSeq, (e) => {
    addEvent(e);
    if (e.type === 'reroute') announce('Rerouted: ' + summary(e));
    drawGraph().catch(() => {});
  }, signal);
  // The row is written right after run_finished: read until it says so.
  for (let i = 0; i < 50; ++i) {
    await reload();
    if (!inFlight(run.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await drawGraph();
  announce('Run ' + id + ' ' + run.status);
}
