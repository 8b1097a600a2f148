// The REST + SSE API of `switchyard serve` (docs/service.md), with the token of this tab.

const KEY = 'switchyard.token';

export function token() {
  return sessionStorage.getItem(KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    const message = body && body.error ? body.error.message : 'HTTP ' + status;
    super(message);
    this.status = status;
    this.code = body && body.error ? body.error.code : '';
  }
}

// Listeners told when the server refuses the token (401): the app shows the login form.
const unauthorized = [];
export function onUnauthorized(fn) {
  unauthorized.push(fn);
}

function headers(extra = {}) {
  return {Authorization: 'Bearer ' + token(), ...extra};
}

async function check(response) {
  if (response.status === 401) {
    for (const fn of unauthorized) fn();
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    throw new ApiError(response.status, body);
  }
  return response;
}

export async function getJson(path, options = {}) {
  const r = await check(await fetch(path, {headers: headers(), signal: options.signal}));
  return r.json();
}

export async function getText(path, options = {}) {
  const r = await check(await fetch(path, {headers: headers(), signal: options.signal}));
  return r.text();
}

export async function getBlob(path) {
  const r = await check(await fetch(path, {headers: headers()}));
  return r.blob();
}

export async function postJson(path, body) {
  const r = await check(await fetch(path, {
    method: 'POST',
    headers: headers({'Content-Type': 'application/json'}),
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
  return r.json();
}

// Tries a token without keeping it: true when the server accepts it.
export async function tokenWorks(candidate) {
  const r = await fetch('/v1/workflows', {headers: {Authorization: 'Bearer ' + candidate}});
  return r.ok;
}

// Follows a run's Server-Sent Events (GET /v1/runs/{id}/events) with fetch, which can send the
// token (EventSource cannot). Calls onEvent(event) for each journal event, after `afterSeq`.
// Resolves when the stream ends (after run_finished); rejects on an error other than an abort.
export async function followEvents(runId, afterSeq, onEvent, signal) {
  const extra = afterSeq > 0 ? {'Last-Event-ID': String(afterSeq)} : {};
  const r = await check(await fetch('/v1/runs/' + encodeURIComponent(runId) + '/events',
    {headers: headers(extra), signal}));
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart()).join('\n');
      if (data) onEvent(JSON.parse(data));
    }
  }
}
