// Safe DOM building: every piece of data becomes a text node or an
// attribute value, never markup (no string is parsed as HTML anywhere in
// the console: console_test.go checks).

// h builds an element: h('td', {class: 'num'}, 'text', child, ...).
// Attributes starting with "on" are event listeners; null and false
// attributes and children are skipped; arrays of children are flattened.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// replace empties el and puts children in it.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// dl is a list of [label, value] pairs as a definition list.
export function dl(pairs, cls) {
  return h('dl', { class: cls || 'facts' }, pairs.filter(Boolean).map(([k, v, c]) =>
    h('div', { class: c || null }, h('dt', {}, k), h('dd', {}, v))));
}

// when formats a time the API gave (RFC 3339) in the viewer's zone, or '—'.
export function when(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1971) return '—';
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// short shows the start of a long hex identifier; the whole stays in the title.
export function short(hex, n = 12) {
  const s = String(hex || '');
  return h('code', { title: s, class: 'id' }, s.length > n ? s.slice(0, n) + '…' : s);
}

// duration spells seconds as the largest units that fit (2 d 3 h).
export function duration(sec) {
  sec = Number(sec);
  if (!(sec > 0)) return '0 s';
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  const out = [];
  for (const [u, n] of units) {
    if (sec >= n && out.length < 2) {
      out.push(Math.floor(sec / n) + ' ' + u);
      sec %= n;
    }
  }
  return out.join(' ');
}
