// The web console (docs/console.md) in a real browser: starts `switchyard serve` on loopback with
// a token, drives headless Chromium through puppeteer-core, and checks what a person would do:
// a wrong token is refused, the right one signs in, a run started from the Workflows page is
// watched live to its end with its reroute in the graph, the Runs list shows new runs, a slow run
// is cancelled from its page, and a tool's breaker shows open on the Health page. Any JavaScript
// error or console error on the page fails the test. Screenshots go to the artifacts folder.
//
// usage: node console_test.mjs SWITCHYARD_BINARY SOURCE_DIR ARTIFACTS_DIR
// Needs Debian's chromium (CHROMIUM overrides /usr/bin/chromium) and puppeteer-core installed
// by scripts/install-browser-test-deps; without either it FAILS (exit 1), saying what is missing.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [binary, source, artifacts] = process.argv.slice(2);
const started = Date.now();
let step = 'start';

function fail(message) {
  console.error(`FAIL (${step}): ${message}`);
  console.error('0 passed, 1 failed');
  process.exit(1);
}

if (!binary || !source || !artifacts) fail('usage: console_test.mjs SWITCHYARD_BINARY SOURCE_DIR ARTIFACTS_DIR');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium)) {
  fail(`no Chromium at ${chromium}: install Debian's chromium (scripts/install-deps)`);
}
let puppeteer;
try {
  puppeteer = (await import('puppeteer-core')).default;
} catch (e) {
  fail(`puppeteer-core is not installed (${e.code || e.message}): run scripts/install-browser-test-deps`);
}
fs.mkdirSync(artifacts, {recursive: true});

// A scratch folder: the journal, the tokens, the workflows.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-console-'));
const TOKEN = 'console-test-' + Math.random().toString(16).slice(2);
fs.writeFileSync(path.join(dir, 'tokens'), TOKEN + '\n');
const support = JSON.parse(fs.readFileSync(path.join(source, 'examples/customer-support.json'), 'utf8'));
// The same refund, slow enough to be watched: each step takes ~0.4-0.8 s.
const slowSupport = structuredClone(support);
slowSupport.name = 'customer-support-slow';
for (const [id, ms] of Object.entries({CRM: 600, Stripe: 800, Razorpay: 600, Email: 400})) {
  slowSupport.tools[id].latency_ms = ms;
}
fs.writeFileSync(path.join(dir, 'support-slow.json'), JSON.stringify(slowSupport));
// A run that would take a minute: the one to cancel.
fs.writeFileSync(path.join(dir, 'slow.json'), JSON.stringify({
  format: 'switchyard.workflow/v1', name: 'slow', start: 'Start', goal: 'Done',
  tools: {Wait: {kind: 'mock', latency_ms: 60000, output: {}},
    Done: {kind: 'mock', output: {done: true}}},
  edges: [['Start', 'Wait', 1], ['Wait', 'Done', 1]],
}));

const serve = spawn(binary, ['serve', '--journal', path.join(dir, 'console.db'),
  '--tokens-file', path.join(dir, 'tokens'), '--port', '0', '--rate', '0', '--grace', '1s',
  '--workflow', path.join(source, 'examples/customer-support.json'),
  '--workflow', path.join(dir, 'support-slow.json'), '--workflow', path.join(dir, 'slow.json')],
{stdio: ['ignore', 'pipe', 'pipe']});
let serveErr = '';
serve.stderr.on('data', (d) => { serveErr += d; });
const url = await new Promise((resolve, reject) => {
  let out = '';
  serve.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/^listening on (\S+)$/m);
    if (m) resolve(m[1]);
  });
  serve.on('exit', (code) => reject(new Error(`serve exited ${code}: ${serveErr}`)));
  setTimeout(() => reject(new Error('serve did not say where it listens within 10 s')), 10000);
}).catch((e) => fail(e.message));

const auth = {Authorization: 'Bearer ' + TOKEN};
async function api(method, p, body) {
  const r = await fetch(url + p, {method, headers: {...auth, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  return {status: r.status, body: text ? JSON.parse(text) : null};
}
async function runToEnd(workflow) {
  const r = await api('POST', '/v1/runs', {workflow});
  if (r.status !== 202) fail(`POST /v1/runs ${workflow}: ${r.status} ${JSON.stringify(r.body)}`);
  for (let i = 0; i < 100; ++i) {
    const run = await api('GET', '/v1/runs/' + r.body.run_id);
    if (run.body.status !== 'running') return run.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  fail(`run ${r.body.run_id} of ${workflow} did not finish`);
}

const browser = await puppeteer.launch({
  executablePath: chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--window-size=1280,900'],
  defaultViewport: {width: 1280, height: 900},
});
const errors = [];
// Console errors the step in progress expects (the wrong token's 401), by substring; each once.
let expected = [];
const page = await browser.newPage();
page.on('pageerror', (e) => errors.push(`[${step}] page error: ${e.message}`));
page.on('console', (msg) => {
  if (msg.type() !== 'error') return;
  const text = msg.text();
  const i = expected.findIndex((s) => text.includes(s));
  if (i >= 0) {
    expected.splice(i, 1);
    return;
  }
  errors.push(`[${step}] console error: ${text}`);
});
page.setDefaultTimeout(15000);

async function shot(name) {
  await page.screenshot({path: path.join(artifacts, name + '.png'), fullPage: true});
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}
const passed = [];

try {
  step = 'the page loads with a strict CSP and asks for a token';
  const response = await page.goto(url + '/', {waitUntil: 'networkidle0'});
  check(response.status() === 200, `GET / answered ${response.status()}`);
  check(/script-src 'self'/.test(response.headers()['content-security-policy'] || ''),
    'GET / has no Content-Security-Policy with script-src \'self\'');
  await page.waitForSelector('#login #token');
  check(await page.$eval('label[for=token]', (l) => l.textContent) === 'Bearer token', 'no label');
  await shot('login');
  passed.push(step);

  step = 'a wrong token is refused';
  expected = ['401'];
  await page.type('#token', 'not-the-token');
  await page.keyboard.press('Enter');  // the keyboard submits the form
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('refused'));
  check(await page.evaluate(() => sessionStorage.getItem('switchyard.token')) === null,
    'the refused token was kept');
  check(await page.$('#runs-list') === null, 'the runs page showed with a wrong token');
  await shot('login-refused');
  expected = [];
  passed.push(step);

  step = 'the right token signs in, kept in sessionStorage';
  await page.$eval('#token', (i) => { i.value = ''; });
  await page.type('#token', TOKEN);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#runs-list[aria-busy=false]');
  check(await page.evaluate(() => sessionStorage.getItem('switchyard.token')) !== null, 'token not kept');
  passed.push(step);

  step = 'a run started from the Workflows page is watched live to its end, with its reroute';
  await page.click('nav a[href="#/workflows"]');
  await page.waitForSelector('a[href="#/workflows/customer-support-slow"]');
  await page.click('a[href="#/workflows/customer-support-slow"]');
  await page.waitForSelector('#workflow-graph svg');
  const cheapest = await page.$eval('#cheapest-route', (p) => p.textContent);
  check(cheapest.includes('Stripe'), `cheapest route before any failure: ${cheapest}`);
  await shot('workflow');
  await page.$eval('#run-input', (t) => { t.value = ''; });
  await page.type('#run-input', '{"customer": "ada"}');
  await page.click('#start-run button[type=submit]');
  await page.waitForSelector('#run-status[data-status=running]');
  const runId = decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/runs/', ''));
  await page.waitForSelector('#timeline tr[data-type=reroute]', {timeout: 20000});
  await page.waitForSelector('#run-status[data-status=completed]', {timeout: 20000});
  await page.waitForFunction(() => document.querySelector('#reroutes').textContent === '1');
  // The graph redrawn after the last event: the reroute drawn in it.
  await page.waitForFunction(() => {
    const svg = document.querySelector('#graph svg');
    return svg && /reroute/i.test(svg.textContent);
  });
  check(await page.$eval('#input', (p) => JSON.parse(p.textContent).customer) === 'ada', 'input not shown');
  await page.click('#verify');
  await page.waitForSelector('#verify-verdict.ok');
  await shot('run');
  passed.push(step);

  step = 'the run downloads as one HTML file';
  const downloads = path.join(artifacts, 'downloads');
  fs.rmSync(downloads, {recursive: true, force: true});
  fs.mkdirSync(downloads, {recursive: true});
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: downloads});
  await page.click('#download');
  const file = path.join(downloads, 'run-' + runId + '.html');
  for (let i = 0; i < 100 && !fs.existsSync(file); ++i) await new Promise((r) => setTimeout(r, 50));
  check(fs.existsSync(file), `no ${file}`);
  check(fs.readFileSync(file, 'utf8').includes('<svg'), 'the downloaded report has no graph');
  passed.push(step);

  step = 'the Runs list shows runs as they come and go';
  await page.click('nav a[href="#/runs"]');
  await page.waitForSelector(`#runs-list tr[data-run="${runId}"][data-status=completed]`);
  const other = await api('POST', '/v1/runs', {workflow: 'customer-support-slow'});
  await page.waitForSelector(`#runs-list tr[data-run="${other.body.run_id}"][data-status=running]`);
  await page.waitForSelector(`#runs-list tr[data-run="${other.body.run_id}"][data-status=completed]`,
    {timeout: 20000});
  await page.select('#f-status', 'running');
  await page.waitForFunction(() => !document.querySelector('#runs-list tr[data-status=completed]'));
  await page.select('#f-status', '');
  // The time filters: nothing started after 2099; everything before it.
  const setDate = (id, value) => page.$eval(id, (i, v) => {
    i.value = v;
    i.dispatchEvent(new Event('change'));
  }, value);
  await setDate('#f-since', '2099-01-01');
  await page.waitForFunction(() => document.querySelector('#runs-list').textContent === 'No run matches.');
  await setDate('#f-since', '');
  await setDate('#f-until', '2099-01-01');
  await page.waitForFunction(() => document.querySelectorAll('#runs-list tbody tr').length >= 2);
  await setDate('#f-until', '');
  await page.type('#f-search', runId);
  await page.waitForFunction((id) => {
    const rows = document.querySelectorAll('#runs-list tbody tr');
    return rows.length === 1 && rows[0].dataset.run === id;
  }, {}, runId);
  await page.$eval('#f-search', (i) => { i.value = ''; i.dispatchEvent(new Event('input')); });
  await page.waitForFunction(() => document.querySelectorAll('#runs-list tbody tr').length >= 2);
  await shot('runs');
  passed.push(step);

  step = 'a slow run is cancelled from its page';
  const slow = await api('POST', '/v1/runs', {workflow: 'slow'});
  await page.goto(url + '/#/runs/' + slow.body.run_id);
  await page.waitForSelector('#cancel:not([hidden])');
  await page.waitForSelector('#timeline tr[data-type=step_started]');
  await page.click('#cancel');
  await page.waitForFunction(() => {
    const s = document.querySelector('#run-status');
    return s && s.dataset.status && s.dataset.status !== 'running';
  }, {timeout: 10000});
  await page.waitForSelector('#timeline tr[data-type=cancelled]');
  check(await page.$eval('#cancel', (b) => b.hidden), 'the cancel button is still shown');
  await shot('run-cancelled');
  passed.push(step);

  step = 'a tool\'s breaker shows open on the Health page';
  await page.click('nav a[href="#/health"]');
  await page.waitForSelector('#health-list tr[data-tool=Stripe]');
  // Stripe fails on every call; three failures in a row open its breaker (docs/monitors.md).
  for (let i = 0; i < 3; ++i) await runToEnd('customer-support');
  await page.waitForSelector('#health-list tr[data-tool=Stripe][data-breaker=open]');
  await shot('health');
  passed.push(step);

  step = 'with Stripe\'s breaker open, the cheapest route avoids it';
  await page.goto(url + '/#/workflows/customer-support');
  await page.waitForSelector('#workflow-graph svg');
  const route = await page.$eval('#cheapest-route', (p) => p.textContent);
  check(route.includes('Razorpay') && !route.includes('Stripe'), `cheapest route: ${route}`);
  passed.push(step);

  step = 'the Budget page shows spend by workflow';
  await page.click('nav a[href="#/budget"]');
  await page.waitForSelector('#budget[aria-busy=false] table');
  const text = await page.$eval('#budget', (b) => b.textContent);
  check(text.includes('customer-support') && text.includes('slow'), 'workflows missing from the budget');
  await shot('budget');
  passed.push(step);

  step = 'a refused token (the server restarted with others) returns to the sign-in form';
  expected = ['401'];
  await page.evaluate(() => sessionStorage.setItem('switchyard.token', 'revoked'));
  await page.goto(url + '/#/health');
  await page.waitForFunction(() => document.querySelector('#login-error') &&
    document.querySelector('#login-error').textContent.includes('refused'));
  expected = [];
  passed.push(step);

  step = 'the page logged no error';
  await new Promise((r) => setTimeout(r, 200));
  check(errors.length === 0, errors.join('\n'));
  passed.push(step);
} catch (e) {
  await shot('failure-' + step.replace(/[^a-z]+/gi, '-').slice(0, 40)).catch(() => {});
  await browser.close().catch(() => {});
  serve.kill('SIGTERM');
  fail(e.message + (errors.length ? '\npage errors:\n' + errors.join('\n') : ''));
}
await browser.close();
serve.kill('SIGTERM');
await new Promise((resolve) => serve.on('exit', resolve));
fs.rmSync(dir, {recursive: true, force: true});
for (const p of passed) console.log('ok: ' + p);
console.log(`console test: ${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in ${artifacts}`);
console.log(`${passed.length} passed, 0 failed`);
