// What the run page says of a run's events, without the DOM (tests/browser/events_test.mjs
// checks it in Node): one line per event for the timeline, and the latest progress of each tool
// call that reported some (`tool_progress`, docs/mcp.md#progress).
import {duration, usd} from './util.js';

// "40 of 100 (40%)", or "40" without a total.
export function progressText(p) {
  if (typeof p.total === 'number' && p.total > 0) {
    return p.progress + ' of ' + p.total + ' (' + Math.round(100 * p.progress / p.total) + '%)';
  }
  return String(p.progress);
}

// One line saying what an event decided.
export function summary(e) {
  const p = e.payload || {};
  switch (e.type) {
    case 'plan':
      return (p.route || []).join(' \u2192 ');
    case 'reroute':
      return 'at ' + p.at + ', ' + (p.failed_tool || p.failed_node) + ' failed: now ' +
        (p.new_route || []).join(' \u2192 ');
    case 'step_started':
      return p.node + ' (' + p.tool + ', attempt ' + p.attempt + ')';
    case 'step_succeeded':
      return p.node + ' succeeded' + (p.latency_us !== undefined ? ' in ' + duration(Math.round(p.latency_us / 1000)) : '');
    case 'step_failed':
    case 'step_retry':
      return p.node + ': ' + p.failure + (p.reason ? ' \u2014 ' + p.reason : '');
    case 'breaker':
      return p.tool + ': ' + p.from + ' \u2192 ' + p.to;
    case 'run_finished':
      return p.status + ' at ' + p.goal;
    case 'escalated':
      return p.reason + ': ' + (p.message || '');
    case 'cancelled':
      return p.reason || '';
    case 'llm_settled':
      return p.tool + ' (' + p.tier + '): ' + p.tokens + ' tokens, ' + usd(p.cost_usd);
    case 'wait_started':
      return p.node + ' waits for ' + (p.kind === 'timer' ? 'a timer of ' + duration(p.timer_ms) :
        p.kind + ' \u201c' + p.name + '\u201d');
    case 'tool_progress':
      return p.tool + ' call ' + p.call + ': ' + progressText(p) + (p.message ? ' \u2014 ' + p.message : '');
    case 'tool_hint':
      return p.tool + ': ' + (p.idempotent ? 'idempotent' : 'not idempotent') + ' (from ' +
        (p.from === 'mcp_annotations' ? 'the MCP server\u2019s annotations' : p.from) + ')';
    case 'wait_resolved':
      return p.wait + ': ' + p.decision + (p.by ? ' by ' + p.by : '') + (p.reason ? ' \u2014 ' + p.reason : '');
    default: {
      const text = JSON.stringify(p);
      return text.length > 160 ? text.slice(0, 157) + '...' : text;
    }
  }
}

// The latest tool_progress of each call (tool and call number), in the order the calls first
// reported: [{tool, call, progress, total, message, seq}].
export function toolProgress(events) {
  const latest = new Map();
  for (const e of events) {
    if (e.type !== 'tool_progress') continue;
    const p = e.payload || {};
    const key = p.tool + '\u0000' + p.call;
    latest.set(key, {tool: p.tool, call: p.call, progress: p.progress, total: p.total,
      message: p.message, seq: e.seq});
  }
  return [...latest.values()];
}
