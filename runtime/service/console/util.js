// Small helpers shared by the pages: DOM building without HTML strings, formatting.

// h('p', {class: 'x'}, 'text', child...): an element; attributes starting with "on" are listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function time(ms) {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function usd(n) {
  if (typeof n !== 'number') return '';
  return '$' + (n < 0.01 && n > 0 ? n.toFixed(6) : n.toFixed(4));
}

export function duration(ms) {
  if (typeof ms !== 'number' || ms < 0) return '';
  return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(2) + ' s';
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}

// A table: columns [{label, value: row => text or Node, className?}], rows; caption for readers.
export function table(caption, columns, rows, rowAttrs = () => ({})) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c.label)))),
    h('tbody', {}, rows.map((row) => h('tr', rowAttrs(row),
      columns.map((c) => h('td', {class: c.className ? c.className(row) : null}, c.value(row)))))));
}

// Status badges carry their word, not only a colour.
export function badge(status) {
  return h('span', {class: 'badge badge-' + String(status).replace(/[^a-z_]/g, '')}, status);
}

// Says `text` to screen readers (the live region of index.html).
export function announce(text) {
  const region = document.getElementById('announce');
  if (region) region.textContent = text;
}

// An SVG document (Graphviz's) as a node, parsed without running anything in it.
export function svgNode(text, label) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== 'svg') return h('p', {}, 'The graph could not be drawn.');
  for (const s of svg.querySelectorAll('script, foreignObject')) s.remove();
  const node = document.importNode(svg, true);
  node.setAttribute('role', 'img');
  node.setAttribute('aria-label', label);
  node.removeAttribute('width');
  node.removeAttribute('height');
  return node;
}
