// The console's entry: the login form, the navigation and the router (by the URL's #fragment).
import {onUnauthorized, setToken, token, tokenWorks} from './api.js';
import {h, clear, announce} from './util.js';
import {runsPage} from './runs.js';
import {runPage} from './run.js';
import {healthPage} from './health.js';
import {budgetPage} from './budget.js';
import {workflowsPage, workflowPage} from './workflows.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let current = null;  // the AbortController of the page shown

function loginPage(message) {
  nav.hidden = true;
  const input = h('input', {id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, 'aria-describedby': 'token-help'});
  const error = h('p', {id: 'login-error', class: 'error', role: 'alert'}, message || '');
  const form = h('form', {id: 'login', class: 'login', onsubmit: async (event) => {
    event.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) return;
    if (await tokenWorks(candidate)) {
      setToken(candidate);
      location.hash = '#/runs';
      show();
    } else {
      error.textContent = 'The server refused this token.';
      input.select();
    }
  }},
  h('h1', {}, 'Sign in'),
  h('label', {for: 'token'}, 'Bearer token'),
  input,
  h('p', {id: 'token-help', class: 'help'},
    'One of the tokens `switchyard serve` was started with. It is kept for this tab only ' +
    '(sessionStorage) and sent with each request.'),
  h('button', {type: 'submit'}, 'Sign in'),
  error);
  clear(main).append(form);
  input.focus();
}

const routes = [
  [/^#\/runs\/([^/]+)$/, runPage],
  [/^#\/runs$/, runsPage],
  [/^#\/health$/, healthPage],
  [/^#\/budget$/, budgetPage],
  [/^#\/workflows\/([^/]+)$/, workflowPage],
  [/^#\/workflows$/, workflowsPage],
];

function show() {
  if (current) current.abort();
  current = new AbortController();
  if (!token()) {
    loginPage();
    return;
  }
  nav.hidden = false;
  const hash = location.hash || '#/runs';
  for (const link of nav.querySelectorAll('a')) {
    const active = hash === link.getAttribute('href') ||
      hash.startsWith(link.getAttribute('href') + '/');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const [pattern, page] of routes) {
    const m = hash.match(pattern);
    if (!m) continue;
    clear(main);
    const params = m.slice(1).map(decodeURIComponent);
    page(main, params, current.signal).catch((e) => {
      if (e.name === 'AbortError') return;
      main.append(h('p', {class: 'error', role: 'alert'}, 'Error: ' + e.message));
    });
    main.focus({preventScroll: true});
    announce(document.title);
    return;
  }
  location.hash = '#/runs';
}

onUnauthorized(() => {
  setToken('');
  if (current) current.abort();
  loginPage('The server refused the token: sign in again.');
});

document.getElementById('logout').addEventListener('click', () => {
  setToken('');
  show();
});
window.addEventListener('hashchange', show);
show();
