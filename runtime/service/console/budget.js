// Budget: spend by workflow, by model tier and by day (GET /v1/budget), refreshed every 5 s.
import {getJson} from './api.js';
import {h, clear, usd, table} from './util.js';

export async function budgetPage(main, params, signal) {
  document.title = 'Budget - Switchyard';
  const out = h('div', {id: 'budget', 'aria-busy': 'true'});
  main.append(h('h1', {}, 'Budget'), out);
  async function refresh() {
    const doc = await getJson('/v1/budget', {signal});
    const max = Math.max(0, ...doc.days.map((d) => d.spent_usd));
    clear(out).append(
      h('p', {class: 'help'}, 'Over the newest ' + doc.runs + ' run(s) of the journal' +
        (doc.skipped ? ' (' + doc.skipped + ' that cannot be read skipped)' : '') + '.'),
      h('h2', {}, 'By workflow'),
      table('Spend by workflow', [
        {label: 'Workflow', value: (w) => w.workflow},
        {label: 'Runs', value: (w) => w.runs},
        {label: 'Spent', value: (w) => usd(w.spent_usd)},
        {label: 'Tokens', value: (w) => w.tokens},
        {label: 'LLM calls', value: (w) => w.llm_calls},
      ], doc.workflows),
      h('h2', {}, 'By model tier'),
      doc.tiers.length === 0 ? h('p', {}, 'No LLM call was settled.') :
        table('Spend by workflow and model tier', [
          {label: 'Workflow', value: (t) => t.workflow},
          {label: 'Tier', value: (t) => t.tier},
          {label: 'Calls', value: (t) => t.calls},
          {label: 'Tokens', value: (t) => t.tokens},
          {label: 'Cost', value: (t) => usd(t.cost_usd)},
        ], doc.tiers),
      h('h2', {}, 'Over time'),
      table('Spend by UTC day and workflow', [
        {label: 'Day', value: (d) => d.day},
        {label: 'Workflow', value: (d) => d.workflow},
        {label: 'Runs', value: (d) => d.runs},
        {label: 'Spent', value: (d) => usd(d.spent_usd)},
        {label: 'Share of the top day', value: (d) => h('meter', {min: 0, max: max || 1,
          value: d.spent_usd, 'aria-label': 'spend of ' + d.day}, usd(d.spent_usd))},
      ], doc.days));
    out.setAttribute('aria-busy', 'false');
  }
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 5000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
