// The reconciliation and the activity charts.
import { api } from './api.js';
import { h, dl, when, short, duration } from './dom.js';
import { format } from './money.js';
import { title, empty } from './ui.js';
import { chart } from './chart.js';

const big = (v) => BigInt(v ?? 0);

export async function reconciliation(ctx) {
  const r = ctx.report, c = r.currency;
  const m = (v) => format(v, c);
  const left = big(r.issued_minor) + big(r.losses_minor) + big(r.unassessed_minor);
  const right = big(r.accounts_minor) + big(r.outstanding_minor);
  const ok = r.conservation_ok;
  const banner = h('section', { class: 'banner ' + (ok ? 'holds' : 'fails'), id: 'conservation' },
    h('p', { class: 'verdict' }, 'Conservation ', h('strong', {}, ok ? 'HOLDS' : 'FAILS')),
    h('p', { class: 'equation' }, 'issued + losses + unassessed = balances + outstanding'),
    h('p', { class: 'equation' }, m(left), ok ? ' = ' : ' ≠ ', m(right)),
    ok ? null : h('p', {}, left === right
      ? 'The totals agree but a finer check failed: an account differs from its statement, a proven debt is not covered exactly, or the ledger is behind its devices.'
      : 'The totals differ by ' + m(left > right ? left - right : right - left) + '.'));
  const behind = r.behind_devices || [];
  const outbox = r.outbox || {};
  const figures = dl([
    ['Issued (deposits − withdrawals)', m(r.issued_minor)],
    ['Account balances', m(r.accounts_minor)],
    ['Outstanding (purses and payments in flight)', m(r.outstanding_minor)],
    ['Losses (overspend not recovered)', m(r.losses_minor), big(r.losses_minor) ? 'warn' : null],
    ['Recovered from owners', m(r.recovered_minor)],
    ['Settled payments', String(r.settled_payments)],
  ], 'facts figures');
  const safety = dl([
    ['Unassessed exposure', m(r.unassessed_minor), big(r.unassessed_minor) ? 'warn' : null],
    ['Held on accounts', m(r.held_minor)],
    ['Refundable sales (held)', m(r.refundable_minor)],
    ['Released sales (no longer held)', m(r.released_minor)],
    ['Double spends caught', h('a', { href: '#/double-spends' }, String(r.double_spends.length)), r.double_spends.length ? 'warn' : null],
    ['Revoked devices', h('a', { href: '#/revocations' }, String(r.revoked_devices.length))],
    ['Ledger behind devices', String(behind.length), behind.length ? 'bad' : null],
    ['Last restore', r.restored_at ? when(r.restored_at) : 'none'],
  ], 'facts figures');
  const bank = dl([
    ['Pending notifications', String(outbox.pending ?? 0)],
    ['Given up (dead letters)', String(outbox.dead ?? 0), outbox.dead ? 'bad' : null],
    ['Oldest pending', outbox.oldest_pending ? when(outbox.oldest_pending) + ', ' + (outbox.oldest_attempts ?? 0) + ' attempts' : 'none'],
    outbox.last_error ? ['Its last error', outbox.last_error, 'long'] : null,
  ], 'facts figures');
  return h('div', {},
    title('Reconciliation', h('span', { class: 'muted' }, c)),
    banner,
    h('h3', {}, 'Money'), figures,
    h('h3', {}, 'Money safety'), safety,
    behind.length ? h('div', { class: 'cards' }, behind.map((b) => h('article', { class: 'card bad' },
      h('p', {}, 'Device ', short(b.device), ' showed a result acknowledging counter ', String(b.acked_counter),
        '; the ledger holds up to ', String(b.held_counter), '.')))) : null,
    h('h3', {}, h('a', { href: '#/outbox' }, 'Bank outbox')), bank);
}

const ranges = [
  ['day', 'Last 24 hours, by hour', '1h', 24 * 3600],
  ['hours', 'Last 2 hours, by 5 minutes', '5m', 2 * 3600],
  ['week', 'Last 7 days, by 6 hours', '6h', 7 * 24 * 3600],
];

export async function activity(ctx, arg) {
  const range = ranges.find((r) => r[0] === arg) || ranges[0];
  // The default range ends with the ledger's current interval (its clock,
  // not this browser's); a longer one is counted back from that end.
  let a = await api('GET', '/v1/admin/activity?step=' + range[2]);
  const span = (new Date(a.to) - new Date(a.from)) / 1000;
  if (span !== range[3]) {
    const from = new Date(new Date(a.to).getTime() - range[3] * 1000).toISOString();
    a = await api('GET', '/v1/admin/activity?step=' + range[2] + '&to=' + encodeURIComponent(a.to) + '&from=' + encodeURIComponent(from));
  }
  const b = a.buckets;
  const labels = b.map((x) => {
    const d = new Date(x.start);
    const hm = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    return range[3] > 86400 ? d.toLocaleDateString(undefined, { weekday: 'short' }) + ' ' + hm : hm;
  });
  const total = b.reduce((s, x) => s + x.payments, 0);
  const value = b.reduce((s, x) => s + big(x.amount_minor), 0n);
  const maxLag = b.reduce((s, x) => Math.max(s, x.lag_max_seconds), 0);
  const picker = h('nav', { class: 'chips', 'aria-label': 'Range' }, ranges.map((r) =>
    h('a', { href: '#/activity/' + r[0], class: r === range ? 'chip current' : 'chip' }, r[1])));
  return h('div', {},
    title('Settlements and sync lag'),
    picker,
    dl([
      ['Payments recorded', String(total)],
      ['Their value', format(value, a.currency)],
      ['Longest sync lag', duration(maxLag)],
    ], 'facts figures'),
    total === 0 ? empty('No payment reached the ledger in this range.') : null,
    h('figure', {}, h('figcaption', {}, 'Payments recorded per interval'),
      chart({ labels, series: [{ name: 'payments', values: b.map((x) => x.payments) }], kind: 'bar', fmt: String, title: 'Payments recorded per interval' })),
    h('figure', {}, h('figcaption', {}, 'Value settled per interval'),
      chart({ labels, series: [{ name: 'value', values: b.map((x) => Number(x.amount_minor)), cls: 'value' }], kind: 'bar', fmt: (v) => format(BigInt(Math.round(v)), a.currency), title: 'Value settled per interval' })),
    h('figure', {}, h('figcaption', {}, 'Sync lag: ', h('span', { class: 'key l0' }, 'mean'), ' and ', h('span', { class: 'key l1' }, 'longest'), ' time from payment to ledger'),
      chart({ labels, series: [{ name: 'mean', values: b.map((x) => x.lag_mean_seconds) }, { name: 'max', values: b.map((x) => x.lag_max_seconds) }], kind: 'line', fmt: duration, title: 'Sync lag' })),
    h('details', {}, h('summary', {}, 'The figures as a table'),
      h('table', { class: 'data', id: 'activity-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'From'), h('th', {}, 'Payments'), h('th', {}, 'Value'), h('th', {}, 'Mean lag'), h('th', {}, 'Longest'))),
        h('tbody', {}, b.map((x, i) => h('tr', {}, h('td', {}, labels[i]), h('td', { class: 'num' }, String(x.payments)),
          h('td', { class: 'num' }, format(x.amount_minor, a.currency)), h('td', { class: 'num' }, duration(x.lag_mean_seconds)), h('td', { class: 'num' }, duration(x.lag_max_seconds))))))),
    h('p', { class: 'muted' }, 'The lag is from the payment\'s own time (the payer\'s secure element) to the ledger recording it. Both payments of a double spend count.'));
}

