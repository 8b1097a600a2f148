// Health: every tool's circuit breaker and Eq. 1 factors (GET /v1/health), refreshed every 1.5 s.
import {getJson} from './api.js';
import {h, clear, time, table, badge} from './util.js';

function num(x, digits = 3) {
  if (x === 'inf') return '\u221e';
  return typeof x === 'number' ? Number(x.toFixed(digits)).toString() : '';
}

export async function healthPage(main, params, signal) {
  document.title = 'Health - Switchyard';
  const list = h('div', {id: 'health-list', 'aria-busy': 'true'});
  const stamp = h('p', {class: 'help', id: 'health-time'});
  main.append(h('h1', {}, 'Tool health'),
    h('p', {class: 'help'}, 'The weight factor of each tool is Eq. 1: latency \u00d7 reliability \u00d7 ' +
      'rate-limit factors (1 = the healthy baseline, \u221e = excluded: breaker open or held down). ' +
      'Every run of this server shares this table.'),
    stamp, list);
  async function refresh() {
    const doc = await getJson('/v1/health', {signal});
    stamp.textContent = 'As of ' + time(doc.now_ms) + ', refreshed every 1.5 s.';
    clear(list).append(doc.tools.length === 0 ? h('p', {}, 'No tool has been called yet.') :
      table(doc.tools.length + ' tool(s)', [
        {label: 'Tool', value: (t) => t.tool},
        {label: 'Breaker', value: (t) => badge(t.breaker)},
        {label: 'Factor', value: (t) => num(t.factor)},
        {label: 'Latency f.', value: (t) => num(t.factors.latency)},
        {label: 'Reliability f.', value: (t) => num(t.factors.reliability)},
        {label: 'Rate-limit f.', value: (t) => num(t.factors.rate_limit)},
        {label: 'Latency', value: (t) => num(t.latency_ms, 1) + ' ms'},
        {label: 'Reliability', value: (t) => num(t.reliability)},
        {label: 'Samples', value: (t) => t.samples},
        {label: 'In a row', value: (t) => t.consecutive_failures},
        {label: 'Failures by kind', value: (t) => Object.entries(t.failures || {})
          .map(([kind, n]) => kind + ': ' + n).join(', ')},
        {label: 'Last failure', value: (t) => t.last_failure || ''},
        {label: 'Held down', value: (t) => (t.held_down ? 'yes: ' + (t.held_reason || '') : 'no')},
      ], doc.tools, (t) => ({'data-tool': t.tool, 'data-breaker': t.breaker})));
    list.setAttribute('aria-busy', 'false');
  }
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 1500);
  signal.addEventListener('abort', () => clearInterval(timer));
}
