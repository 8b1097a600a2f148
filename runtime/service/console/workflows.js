// Workflows: the registered workflows; one with its graph, its cheapest route under the tools'
// health now, and a form to start a run with a JSON input.
import {getJson, postJson} from './api.js';
import {h, clear, time, table, svgNode} from './util.js';

export async function workflowsPage(main, params, signal) {
  document.title = 'Workflows - Switchyard';
  const doc = await getJson('/v1/workflows', {signal});
  main.append(h('h1', {}, 'Workflows'),
    doc.workflows.length === 0 ? h('p', {}, 'No workflow is registered (POST /v1/workflows).') :
      table(doc.workflows.length + ' registered workflow(s)', [
        {label: 'Name', value: (w) => h('a', {href: '#/workflows/' + encodeURIComponent(w.name)}, w.name)},
        {label: 'SHA-256', value: (w) => h('code', {}, w.hash.slice(0, 12))},
        {label: 'Registered', value: (w) => time(w.registered_ms)},
      ], doc.workflows));
}

export async function workflowPage(main, [name], signal) {
  document.title = 'Workflow ' + name + ' - Switchyard';
  const path = '/v1/workflows/' + encodeURIComponent(name);
  const [info, graph] = await Promise.all([getJson(path, {signal}), getJson(path + '/graph', {signal})]);
  const route = graph.cheapest_route;
  const input = h('textarea', {id: 'run-input', name: 'input', rows: 6, cols: 60,
    spellcheck: 'false', 'aria-describedby': 'input-help'}, '{}');
  const budgetUsd = h('input', {id: 'run-budget', name: 'budget', type: 'number', min: '0',
    step: 'any', inputmode: 'decimal'});
  const error = h('p', {id: 'start-error', class: 'error', role: 'alert'});
  const form = h('form', {id: 'start-run', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    let value;
    try {
      value = JSON.parse(input.value || '{}');
    } catch (err) {
      error.textContent = 'The input is not JSON: ' + err.message;
      input.focus();
      return;
    }
    const body = {workflow: name, input: value};
    if (budgetUsd.value !== '') body.budget = {usd: Number(budgetUsd.value)};
    try {
      const started = await postJson('/v1/runs', body);
      location.hash = '#/runs/' + encodeURIComponent(started.run_id);
    } catch (err) {
      error.textContent = 'Not started: ' + err.message;
    }
  }},
  h('h2', {}, 'Start a run'),
  h('label', {for: 'run-input'}, 'Input (a JSON object)'), input,
  h('p', {id: 'input-help', class: 'help'}, 'What the run\u2019s templates read as {{input...}}.'),
  h('label', {for: 'run-budget'}, 'Budget in USD (optional)'), budgetUsd,
  h('button', {type: 'submit'}, 'Start run'), error);
  main.append(h('p', {class: 'crumbs'}, h('a', {href: '#/workflows'}, '\u2190 Workflows')),
    h('h1', {}, 'Workflow ', h('code', {}, name)),
    info.workflow.description ? h('p', {}, info.workflow.description) : null,
    h('p', {id: 'cheapest-route'}, route.nodes.length === 0 ?
      'No route reaches the goal under the tools\u2019 health now.' :
      ['Cheapest route now: ', h('strong', {}, route.nodes.join(' \u2192 ')),
        ' (cost ' + Number(route.cost.toFixed(4)) + ')']),
    h('figure', {class: 'graph', id: 'workflow-graph'},
      svgNode(graph.svg, 'Graph of workflow ' + name + ' with its cheapest route'),
      h('figcaption', {}, 'The graph; the cheapest route under the tools\u2019 health now is drawn as a plan.')),
    form);
}
