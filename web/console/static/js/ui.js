// Pieces the screens share: headings, tags, search boxes, action forms.
import { h, replace } from './dom.js';

export function title(text, ...extra) {
  return h('div', { class: 'title' }, h('h2', {}, text), extra);
}

export function tag(text, cls) {
  return h('span', { class: 'tag ' + (cls || '') }, text);
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

// search is a filter box: onInput(text) on every change.
export function search(label, onInput) {
  const input = h('input', { type: 'search', 'aria-label': label, placeholder: label, class: 'search' });
  input.addEventListener('input', () => onInput(input.value.trim().toLowerCase()));
  return input;
}

// filtered shows the items of list matching the search text (match(item)
// gives the text searched), each drawn by card(item), in box.
export function filtered(items, match, card, noneText) {
  const box = h('div', { class: 'cards' });
  const count = h('p', { class: 'muted count' });
  const draw = (q) => {
    const hits = items.filter((it) => !q || match(it).toLowerCase().includes(q));
    replace(box, hits.length ? hits.slice(0, 500).map(card) : empty(q ? 'Nothing matches “' + q + '”.' : noneText));
    replace(count, hits.length + ' of ' + items.length + (hits.length > 500 ? ' (the first 500 shown)' : ''));
  };
  draw('');
  return { box, count, draw };
}

// actionForm is a small form whose submit runs act(values) once at a
// time and shows its outcome (or refusal) under it. fields: [{name,
// label, type, value, required, options}]. A collapsed form opens from
// a summary line (for the actions that cannot be undone).
export function actionForm({ id, legend, fields, button, act, danger, collapsed }) {
  const out = h('p', { class: 'outcome', role: 'status' });
  const inputs = {};
  const rows = fields.map((f) => {
    const fid = id + '-' + f.name;
    let input;
    if (f.options) {
      input = h('select', { id: fid, name: f.name }, f.options.map(([v, t]) => h('option', { value: v, selected: v === f.value }, t)));
    } else {
      input = h('input', { id: fid, name: f.name, type: f.type || 'text', required: f.required, inputmode: f.inputmode, autocomplete: 'off' });
      if (f.value !== undefined) input.value = f.value;
    }
    inputs[f.name] = input;
    return h('div', { class: 'field' }, h('label', { for: fid }, f.label), input);
  });
  const btn = h('button', { type: 'submit', class: danger ? 'danger' : null }, button);
  const form = h('form', { id, class: 'action' }, h('fieldset', {}, h('legend', {}, legend), rows, btn, out));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    btn.disabled = true;
    out.className = 'outcome';
    replace(out, 'Working…');
    try {
      const result = await act(values, inputs);
      replace(out, result || 'Done.');
      out.className = 'outcome ok';
    } catch (e) {
      replace(out, e.message);
      out.className = 'outcome bad';
    } finally {
      btn.disabled = false;
    }
  });
  if (collapsed) return h('details', { class: 'collapsed' }, h('summary', {}, legend + '…'), form);
  return form;
}

// ref is a fresh reference for a money movement: the ledger applies one
// reference once, so a form sent twice (a double click, a retry) moves
// the money once.
export function ref(prefix) {
  return prefix + '-' + crypto.randomUUID().slice(0, 13);
}
