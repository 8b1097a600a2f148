// Runs: the journal's runs, newest first, refreshed every 2 s; filters and search by id.
import {getJson} from './api.js';
import {h, clear, time, usd, badge, table} from './util.js';

const STATUSES = ['', 'running', 'completed', 'demoted', 'escalated', 'failed'];

export async function runsPage(main, params, signal) {
  document.title = 'Runs - Switchyard';
  const status = h('select', {id: 'f-status', name: 'status'},
    STATUSES.map((s) => h('option', {value: s}, s || 'any')));
  const workflow = h('select', {id: 'f-workflow', name: 'workflow'}, h('option', {value: ''}, 'any'));
  const since = h('input', {id: 'f-since', name: 'since', type: 'date'});
  const until = h('input', {id: 'f-until', name: 'until', type: 'date'});
  const search = h('input', {id: 'f-search', name: 'search', type: 'search',
    placeholder: 'run id', autocomplete: 'off'});
  const list = h('div', {id: 'runs-list', 'aria-busy': 'true'});
  const form = h('form', {class: 'filters', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    refresh();
  }},
  h('div', {}, h('label', {for: 'f-status'}, 'Status'), status),
  h('div', {}, h('label', {for: 'f-workflow'}, 'Workflow'), workflow),
  h('div', {}, h('label', {for: 'f-since'}, 'Started since (UTC day)'), since),
  h('div', {}, h('label', {for: 'f-until'}, 'Started before (UTC day)'), until),
  h('div', {}, h('label', {for: 'f-search'}, 'Run id'), search));
  for (const el of [status, workflow, since, until]) el.addEventListener('change', () => refresh());
  search.addEventListener('input', () => refresh());
  main.append(h('h1', {}, 'Runs'), form, list);

  getJson('/v1/workflows', {signal}).then((doc) => {
    for (const w of doc.workflows) workflow.append(h('option', {value: w.name}, w.name));
  }).catch(() => {});

  let seq = 0;
  async function refresh() {
    const mine = ++seq;
    const q = new URLSearchParams({limit: '200'});
    if (status.value) q.set('status', status.value);
    if (workflow.value) q.set('workflow', workflow.value);
    if (since.value) q.set('since', since.value);
    if (until.value) q.set('until', until.value);
    const doc = await getJson('/v1/runs?' + q, {signal});
    let runs = doc.runs;
    const needle = search.value.trim();
    if (needle) {
      runs = runs.filter((r) => r.run_id.includes(needle));
      if (runs.length === 0) {
        // Not among the newest: ask for that id exactly.
        try {
          runs = [await getJson('/v1/runs/' + encodeURIComponent(needle), {signal})];
        } catch (e) {
          if (e.name === 'AbortError') throw e;
        }
      }
    }
    if (mine !== seq) return;
    clear(list).append(runs.length === 0 ? h('p', {}, 'No run matches.') :
      table(runs.length + ' run(s), newest first', [
        {label: 'Run', value: (r) => h('a', {href: '#/runs/' + encodeURIComponent(r.run_id)}, r.run_id)},
        {label: 'Workflow', value: (r) => r.workflow || ''},
        {label: 'Status', value: (r) => badge(r.status)},
        {label: 'Started', value: (r) => time(r.started_ms)},
        {label: 'Finished', value: (r) => time(r.finished_ms)},
        {label: 'Reroutes', value: (r) => (r.result && r.result.reroutes !== undefined ? r.result.reroutes : '')},
        {label: 'Spent', value: (r) => (r.result ? usd(r.result.spent_usd) : '')},
      ], runs, (r) => ({'data-run': r.run_id, 'data-status': r.status})));
    list.setAttribute('aria-busy', 'false');
  }
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 2000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
