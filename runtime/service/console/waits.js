// Waits: runs held at an approval, a signal or a timer (docs/waits.md). GET /v1/waits lists the
// open ones ({"waits": [{"run_id", "wait_id", "kind", "name", "tool", "node", "branch",
// "started_ms", "due_ms"}]}); an approval is decided with POST /v1/runs/{id}/waits/{wait}
// ({"decision": "approve" | "reject", "reason"?}).
//
// A server without waits shows nothing: the Runs page lists waits only when /metrics says some
// are open (switchyard_waits_open > 0), and a 404 from GET /v1/waits hides the panel for good.
import {ApiError, getJson, getText, postJson} from './api.js';
import {h, clear, time, table, announce} from './util.js';

let supported = true;  // false once GET /v1/waits answered 404

// The open waits (of run `runId` only, if given), or null when the server has no waits endpoint.
async function openWaits(signal, runId) {
  if (!supported) return null;
  try {
    const q = runId ? '?run_id=' + encodeURIComponent(runId) : '';
    const doc = await getJson('/v1/waits' + q, {signal});
    const waits = Array.isArray(doc.waits) ? doc.waits : [];
    return runId ? waits.filter((w) => w.run_id === runId) : waits;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      supported = false;
      return null;
    }
    throw e;
  }
}

// How many waits /metrics says are open; null when it does not say (a server without waits).
async function openWaitCount(signal) {
  const text = await getText('/metrics', {signal});
  const m = text.match(/^switchyard_waits_open (\d+)/m);
  return m ? Number(m[1]) : null;
}

// Whether the wait is in a fan-out's branch (the server says -1, or null, when it is not).
function inBranch(w) {
  return (typeof w.branch === 'number' && w.branch >= 0) ||
    (typeof w.branch === 'string' && w.branch !== '');
}

function waitName(w) {
  if (w.kind === 'timer') return 'timer';
  return w.kind + ' \u201c' + (w.name || '') + '\u201d';
}

// The table of `waits` with Approve / Reject (and a reason) for each approval; `onDone` after a
// decision was accepted.
function waitsTable(caption, waits, message, onDone, withRun) {
  const columns = [];
  if (withRun) {
    columns.push({label: 'Run', value: (w) => h('a', {href: '#/runs/' + encodeURIComponent(w.run_id)}, w.run_id)});
  }
  columns.push(
    {label: 'Wait', value: (w) => waitName(w)},
    {label: 'Step', value: (w) => w.node + (inBranch(w) ? ' (branch ' + w.branch + ')' : '')},
    {label: 'Since', value: (w) => time(w.started_ms)},
    {label: 'Due', value: (w) => (w.due_ms ? time(w.due_ms) : '')},
    {label: 'Decision', value: (w) => decisionCell(w, message, onDone)});
  return table(caption, columns, waits,
    (w) => ({'data-run': w.run_id, 'data-wait': w.wait_id, 'data-kind': w.kind}));
}

function decisionCell(w, message, onDone) {
  if (w.kind !== 'approval') {
    return w.kind === 'signal' ? 'waits for signal \u201c' + (w.name || '') + '\u201d' : 'fires by itself';
  }
  const id = 'reason-' + w.run_id + '-' + w.wait_id;
  const reason = h('input', {id, type: 'text', name: 'reason', autocomplete: 'off',
    placeholder: 'why (for a rejection)'});
  const decide = async (decision, button) => {
    button.disabled = true;
    const body = {decision};
    if (decision === 'reject' && reason.value.trim()) body.reason = reason.value.trim();
    try {
      await postJson('/v1/runs/' + encodeURIComponent(w.run_id) + '/waits/' +
        encodeURIComponent(w.wait_id), body);
      const said = (decision === 'approve' ? 'Approved ' : 'Rejected ') + waitName(w) + ' of run ' + w.run_id;
      message.textContent = said;
      announce(said);
      onDone();
    } catch (e) {
      message.textContent = 'Cannot ' + decision + ': ' + e.message;
      button.disabled = false;
    }
  };
  const approve = h('button', {type: 'button', class: 'approve'}, 'Approve');
  const reject = h('button', {type: 'button', class: 'reject'}, 'Reject');
  approve.addEventListener('click', () => decide('approve', approve));
  reject.addEventListener('click', () => decide('reject', reject));
  return h('div', {class: 'decide'},
    h('label', {for: id, class: 'visually-hidden'}, 'Reason for rejecting ' + waitName(w)),
    reason, approve, reject);
}

// The Runs page's panel: every open wait of the server, refreshed every 2 s; hidden while there
// is none, or for good when the server has no waits.
export function waitsPanel(signal) {
  const body = h('div', {id: 'waits-list'});
  const message = h('p', {id: 'waits-message', role: 'status'});
  const panel = h('section', {id: 'waits-panel', class: 'waits', hidden: true,
    'aria-labelledby': 'h-waits'},
  h('h2', {id: 'h-waits'}, 'Open waits'), message, body);
  let busy = false;
  async function refresh() {
    if (busy || !supported) return;
    busy = true;
    try {
      const count = await openWaitCount(signal);
      const waits = count ? await openWaits(signal) : [];
      panel.hidden = !waits || waits.length === 0;
      if (!waits || waits.length === 0) {
        body.dataset.key = '';
        return;
      }
      // Keep a row whose reason is being typed: redraw only when the waits changed.
      const key = waits.map((w) => w.run_id + '/' + w.wait_id).join(',');
      if (body.dataset.key === key) return;
      body.dataset.key = key;
      clear(body).append(waitsTable(waits.length + ' open wait(s): approvals wait for a person',
        waits, message, () => refresh().catch(() => {}), true));
    } finally {
      busy = false;
    }
  }
  refresh().catch(() => {});
  const timer = setInterval(() => refresh().catch(() => {}), 2000);
  signal.addEventListener('abort', () => clearInterval(timer));
  return panel;
}

// A run's page: its open waits (when its events say it is held at one), with the same buttons.
// `section` is shown while the run waits; `isWaiting()` tells whether its events have a
// wait_started without its wait_resolved.
export function runWaits(runId, signal) {
  const body = h('div', {id: 'run-waits-list'});
  const message = h('p', {id: 'run-waits-message', role: 'status'});
  const section = h('section', {id: 'run-waits', class: 'waits', hidden: true,
    'aria-labelledby': 'h-run-waits'},
  h('h2', {id: 'h-run-waits'}, 'Waiting for'), message, body);
  const open = new Set();  // wait ids started and not resolved, from the run's events
  let shown = '';
  async function refresh() {
    if (open.size === 0) {
      section.hidden = true;
      return;
    }
    const waits = await openWaits(signal, runId);
    if (!waits) {
      section.hidden = true;
      return;
    }
    section.hidden = waits.length === 0;
    const key = waits.map((w) => w.wait_id).join(',');
    if (key === shown) return;
    shown = key;
    clear(body).append(waitsTable('The run is held at ' + waits.length + ' wait(s)', waits, message,
      () => refresh().catch(() => {}), false));
  }
  return {
    section,
    // Told each of the run's events (in order): keeps the set of open waits, then refreshes.
    event(e) {
      const p = e.payload || {};
      if (e.type === 'wait_started') open.add(p.wait);
      else if (e.type === 'wait_resolved') open.delete(p.wait);
      else if (e.type === 'run_finished') open.clear();
      else return;
      refresh().catch(() => {});
    },
  };
}
