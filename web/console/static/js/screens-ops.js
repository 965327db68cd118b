// Double spends with their proofs, and the bank outbox.
import { api, APIError } from './api.js';
import { h, dl, when, short, replace } from './dom.js';
import { title, tag, empty } from './ui.js';

// hex turns the API's base64 (Go's []byte) into hex in groups of 4 bytes.
function hex(b64) {
  const bin = atob(b64 || '');
  let out = '';
  for (let i = 0; i < bin.length; i++) {
    out += bin.charCodeAt(i).toString(16).padStart(2, '0');
    if (i % 4 === 3) out += ' ';
  }
  return out.trim();
}

const kinds = {
  entries: 'two different log entries signed for one counter',
  receipt: 'a receipt the device signed, against its own entry for that counter',
  refund: 'a refund the device signed against its sale',
};

export async function doubleSpends(ctx) {
  const r = ctx.report;
  const owner = Object.fromEntries((r.devices || []).map((d) => [d.device, d]));
  const list = [...r.double_spends].sort((a, b) => String(b.found_at).localeCompare(String(a.found_at)));
  return h('div', {},
    title('Double spends', h('span', { class: 'muted count' }, String(list.length))),
    h('p', { class: 'muted' }, 'Each is a proof: two statements one secure element signed that cannot both be true. The ledger revoked the device and froze its account; its payees were honoured, the overspend taken from the account first and the rest counted as a loss.'),
    list.length ? h('div', { class: 'cards' }, list.map((p) => {
      const d = owner[p.device] || {};
      return h('article', { class: 'card bad', dataset: { device: p.device } },
        h('p', { class: 'head' }, tag('caught', 'bad'), short(p.device, 32)),
        dl([
          ['Account', d.account ? h('a', { href: '#/accounts/' + encodeURIComponent(d.account) }, d.account) : '—'],
          ['Counter', String(p.counter)],
          ['Proof', p.kind + ': ' + (kinds[p.kind] || ''), 'long'],
          ['Found', when(p.found_at)],
          ['Device', d.status ? d.status + (d.reason ? ' (' + d.reason + ')' : '') : '—', 'long'],
        ]),
        h('details', { class: 'proof' }, h('summary', {}, 'The two signed statements (canonical CBOR, hex)'),
          h('p', {}, 'A'), h('pre', {}, hex(p.entry_a)),
          h('p', {}, 'B'), h('pre', {}, hex(p.entry_b))));
    })) : empty('No double spend caught.'));
}

export async function outbox(ctx, arg) {
  const state = ['pending', 'dead', 'delivered'].includes(arg) ? arg : '';
  const s = ctx.report.outbox || {};
  const head = h('div', {},
    title('Bank outbox'),
    dl([['Pending', String(s.pending ?? 0)], ['Given up', String(s.dead ?? 0), s.dead ? 'bad' : null],
      ['Oldest pending', s.oldest_pending ? when(s.oldest_pending) : 'none'], s.last_error ? ['Last error', s.last_error, 'long'] : null], 'facts figures'),
    h('nav', { class: 'chips', 'aria-label': 'State' }, [['', 'All'], ['pending', 'Pending'], ['dead', 'Given up'], ['delivered', 'Delivered']].map(([k, t]) =>
      h('a', { href: '#/outbox/' + k, class: k === state ? 'chip current' : 'chip' }, t))));
  const box = h('div', { class: 'cards' });
  const more = h('div', {});
  const load = async (after) => {
    const q = new URLSearchParams({ limit: '50' });
    if (state) q.set('state', state);
    if (after) q.set('after', after);
    let page;
    try {
      page = await api('GET', '/v1/admin/outbox?' + q);
    } catch (e) {
      if (e instanceof APIError && e.status === 404) return replace(box, empty('This ledger has no bank outbox.'));
      throw e;
    }
    if (!after && !page.notifications.length) replace(box, empty('No notification' + (state ? ' in this state.' : ' yet.')));
    for (const n of page.notifications) {
      box.appendChild(h('article', { class: 'card compact' + (n.state === 'dead' ? ' bad' : ''), dataset: { key: n.key } },
        h('p', { class: 'head' }, h('strong', {}, n.kind), tag(n.state, n.state === 'delivered' ? 'ok' : n.state === 'dead' ? 'bad' : 'muted'),
          h('span', { class: 'muted' }, (n.account || '—') + (n.seq ? ' #' + n.seq : ''))),
        h('p', { class: 'line muted' }, 'written ' + when(n.created_at) + ' · ' + n.attempts + ' attempt' + (n.attempts === 1 ? '' : 's') +
          (n.delivered_at ? ' · delivered ' + when(n.delivered_at) : '') + (n.state === 'pending' && n.attempts && n.next_at ? ' · next ' + when(n.next_at) : '')),
        n.last_error ? h('p', { class: 'line error' }, n.last_error) : null,
        h('p', { class: 'line' }, h('code', { class: 'id' }, n.key))));
    }
    replace(more, page.next ? h('button', { type: 'button', onclick: () => load(page.next) }, 'More') : null);
  };
  await load('');
  return h('div', {}, head, box, more);
}
