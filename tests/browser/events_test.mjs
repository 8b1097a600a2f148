// The run page's reading of events, without a browser (runtime/service/console/events.js): the
// timeline's line for tool_progress and tool_hint events, and the latest progress of each MCP
// tool call. Run by ctest as browser.RunEventsAreSummarized: node tests/browser/events_test.mjs
import assert from 'node:assert/strict';
import {progressText, summary, toolProgress} from '../../runtime/service/console/events.js';

const progress = (seq, tool, call, payload) =>
  ({seq, type: 'tool_progress', payload: {tool, call, ...payload}});

assert.equal(summary(progress(1, 'Index', 1, {progress: 40, total: 100, message: '40 files'})),
  'Index call 1: 40 of 100 (40%) \u2014 40 files');
assert.equal(summary(progress(2, 'Index', 1, {progress: 3})), 'Index call 1: 3');
assert.equal(summary({seq: 3, type: 'tool_hint',
  payload: {tool: 'Search', idempotent: true, from: 'mcp_annotations'}}),
'Search: idempotent (from the MCP server\u2019s annotations)');
assert.equal(progressText({progress: 1, total: 0}), '1');

const events = [
  {seq: 1, type: 'step_started', payload: {node: 'Index', tool: 'Index', attempt: 1}},
  progress(2, 'Index', 1, {progress: 1, total: 3, message: 'step 1'}),
  progress(3, 'Fetch', 1, {progress: 5}),
  progress(4, 'Index', 1, {progress: 3, total: 3, message: 'step 3'}),
];
assert.deepEqual(toolProgress(events), [
  {tool: 'Index', call: 1, progress: 3, total: 3, message: 'step 3', seq: 4},
  {tool: 'Fetch', call: 1, progress: 5, total: undefined, message: undefined, seq: 3},
]);
assert.deepEqual(toolProgress([]), []);
console.log('events_test: ok');
