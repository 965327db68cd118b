// Accounts (with deposits and enrolment codes), devices (with
// revocation), revocations and enrolment codes.
import { api, enc } from './api.js';
import { h, dl, when, short, replace } from './dom.js';
import { format, parse } from './money.js';
import { title, tag, empty, search, filtered, actionForm, ref } from './ui.js';

export async function accounts(ctx, arg) {
  if (arg) return account(ctx, arg);
  const list = await api('GET', '/v1/admin/accounts');
  const m = (v) => format(v, ctx.currency);
  const f = filtered(list, (a) => a.name + ' ' + (a.display_name || ''), (a) =>
    h('article', { class: 'card', dataset: { account: a.name } },
      h('p', { class: 'head' }, h('a', { href: '#/accounts/' + enc(a.name), class: 'name' }, a.name),
        a.merchant ? tag('merchant') : null, a.frozen ? tag('frozen', 'bad') : null),
      a.display_name ? h('p', { class: 'muted' }, 'Certified as ', a.display_name) : null,
      dl([['Balance', m(a.balance_minor)], big(a.held_minor) ? ['Held', m(a.held_minor)] : null, ['Devices', String(a.devices)]])),
  'No accounts yet: offpay ledger account create.');
  return h('div', {}, title('Accounts', f.count), search('Search accounts', f.draw), f.box);
}

const big = (v) => BigInt(v ?? 0);

async function account(ctx, name) {
  const [a, devices, st] = await Promise.all([
    api('GET', '/v1/admin/accounts/' + enc(name)),
    api('GET', '/v1/admin/devices?account=' + enc(name)),
    api('GET', '/v1/admin/accounts/' + enc(name) + '/statement'),
  ]);
  const m = (v) => format(v, a.currency);
  const balance = h('dd', { id: 'balance' }, m(a.balance_minor));
  const codeBox = h('div', { class: 'issued', id: 'issued-code' });
  const statement = h('div', {}, statementTable(st.lines, m));
  const deposit = actionForm({
    id: 'deposit', legend: 'Deposit (money the bank received for this account)', button: 'Deposit',
    fields: [
      { name: 'amount', label: 'Amount (' + a.currency + ')', inputmode: 'decimal', required: true },
      { name: 'ref', label: 'Reference (applied once)', value: ref('console') },
    ],
    act: async (v, inputs) => {
      const amount = parse(v.amount, a.currency);
      if (!v.ref) throw new Error('A reference is needed: the ledger applies each one once.');
      const after = await api('POST', '/v1/admin/accounts/' + enc(name) + '/deposit', { amount_minor: amount, ref: v.ref });
      replace(balance, m(after.balance_minor));
      const now = await api('GET', '/v1/admin/accounts/' + enc(name) + '/statement');
      replace(statement, statementTable(now.lines, m));
      inputs.ref.value = ref('console');
      inputs.amount.value = '';
      return 'Deposited ' + format(amount, a.currency) + ' (' + v.ref + '): balance ' + m(after.balance_minor) + '.';
    },
  });
  const code = actionForm({
    id: 'issue-code', legend: 'Enrolment code (one device enrols with it once)', button: 'Issue a code',
    fields: [{ name: 'ttl', label: 'Valid for', value: '86400', options: [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days']] }],
    act: async (v) => {
      const c = await api('POST', '/v1/admin/accounts/' + enc(name) + '/codes', { ttl_seconds: Number(v.ttl) });
      replace(codeBox, h('p', {}, 'Code for ', h('strong', {}, c.account), ', valid until ', when(c.expires_at), ':'),
        h('p', { class: 'code' }, c.code),
        h('p', { class: 'muted' }, 'Shown once: the ledger keeps only its hash. The device enrols with offpay wallet init --code.'));
      return 'Issued code ' + c.id + '.';
    },
  });
  return h('div', {},
    title('Account ' + a.name, a.merchant ? tag('merchant') : null, a.frozen ? tag('frozen', 'bad') : null),
    h('p', {}, h('a', { href: '#/accounts' }, '← All accounts')),
    h('dl', { class: 'facts figures' },
      h('div', {}, h('dt', {}, 'Balance'), balance),
      h('div', {}, h('dt', {}, 'Held'), h('dd', {}, m(a.held_minor))),
      a.display_name ? h('div', {}, h('dt', {}, 'Certified as'), h('dd', {}, a.display_name)) : null,
      h('div', {}, h('dt', {}, 'Opened'), h('dd', {}, when(a.created_at)))),
    a.frozen ? h('p', { class: 'error' }, 'Frozen: one of its devices was caught double spending.') : null,
    deposit, code, codeBox,
    h('h3', {}, 'Devices'),
    devices.length ? h('div', { class: 'cards' }, devices.map((d) => deviceCard(ctx, d))) : empty('No device enrolled.'),
    h('h3', {}, 'Statement (the last 100 movements)'),
    statement);
}

// statementTable shows an account's movements, newest first.
function statementTable(lines, m) {
  if (!lines.length) return empty('No movements.');
  return h('table', { class: 'data', id: 'statement' },
    h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Kind'), h('th', {}, 'Amount'), h('th', {}, 'Ref'))),
    h('tbody', {}, lines.slice(-100).reverse().map((l) => h('tr', {},
      h('td', {}, when(l.created_at)), h('td', {}, l.kind), h('td', { class: 'num' }, m(l.amount_minor)), h('td', { class: 'ref' }, l.ref)))));
}

// deviceCard shows a device and, while it is active, a revoke form.
function deviceCard(ctx, d) {
  const m = (v) => format(v, ctx.currency);
  const card = h('article', { class: 'card' + (d.status === 'revoked' ? ' revoked' : ''), dataset: { device: d.device } });
  const draw = () => replace(card,
    h('p', { class: 'head' }, short(d.device, 32), tag(d.status, d.status === 'revoked' ? 'bad' : 'ok'), d.merchant ? tag('till') : null),
    dl([
      ['Account', h('a', { href: '#/accounts/' + enc(d.account) }, d.account)],
      ['Position', m(d.position_minor)],
      ['Last seen', when(d.last_seen)],
      ['Log counter', String(d.acked_counter)],
      d.status === 'revoked' ? ['Revoked', when(d.revoked_at) + (d.reason ? ' (' + d.reason + ')' : ''), 'long'] : ['Certificate until', when(d.certificate_expires)],
    ]),
    d.status === 'active' ? actionForm({
      id: 'revoke-' + d.device.slice(0, 12), legend: 'Revoke this device', button: 'Revoke', danger: true, collapsed: true,
      fields: [{ name: 'reason', label: 'Reason (kept on record)', value: 'revoked by the operator', required: true }],
      act: async (v) => {
        if (!confirm('Revoke device ' + d.device.slice(0, 12) + '… of ' + d.account + '? Payees stop accepting it once their revocation list has it.')) throw new Error('Not revoked.');
        await api('POST', '/v1/admin/devices/' + enc(d.device) + '/revoke', { reason: v.reason });
        Object.assign(d, { status: 'revoked', reason: v.reason, revoked_at: new Date().toISOString() });
        setTimeout(draw, 0);
        return 'Revoked.';
      },
    }) : null);
  draw();
  return card;
}

export async function devices(ctx) {
  const list = await api('GET', '/v1/admin/devices');
  const f = filtered(list, (d) => d.device + ' ' + d.account + ' ' + d.status, (d) => deviceCard(ctx, d), 'No device enrolled yet.');
  return h('div', {}, title('Devices', f.count), search('Search by device, account or status', f.draw), f.box);
}

export async function revocations(ctx) {
  const list = (await api('GET', '/v1/admin/devices')).filter((d) => d.status === 'revoked');
  list.sort((x, y) => String(y.revoked_at || '').localeCompare(String(x.revoked_at || '')));
  return h('div', {},
    title('Revocations', h('span', { class: 'muted count' }, String(list.length))),
    h('p', { class: 'muted' }, 'Revoked devices are on the signed revocation list every device fetches at sync; payees refuse them offline once they have it.'),
    list.length ? h('div', { class: 'cards' }, list.map((d) => deviceCard(ctx, d))) : empty('No device is revoked.'));
}

export async function codes(ctx) {
  const [list, accts] = await Promise.all([api('GET', '/v1/admin/codes'), api('GET', '/v1/admin/accounts')]);
  const box = h('div', { class: 'issued', id: 'issued-code' });
  const issue = actionForm({
    id: 'issue-code', legend: 'Issue an enrolment code', button: 'Issue',
    fields: [
      { name: 'account', label: 'Account', options: accts.map((a) => [a.name, a.name]) },
      { name: 'ttl', label: 'Valid for', value: '86400', options: [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days']] },
    ],
    act: async (v) => {
      if (!v.account) throw new Error('Open an account first.');
      const c = await api('POST', '/v1/admin/accounts/' + enc(v.account) + '/codes', { ttl_seconds: Number(v.ttl) });
      replace(box, h('p', {}, 'Code for ', h('strong', {}, c.account), ', valid until ', when(c.expires_at), ':'),
        h('p', { class: 'code' }, c.code), h('p', { class: 'muted' }, 'Shown once: the ledger keeps only its hash.'));
      list.unshift(c);
      f.draw('');
      return 'Issued code ' + c.id + '.';
    },
  });
  const f = filtered(list, (c) => c.id + ' ' + c.account + ' ' + c.status, (c) => {
    const card = h('article', { class: 'card', dataset: { code: c.id } });
    const draw = () => replace(card,
      h('p', { class: 'head' }, h('code', {}, c.id), tag(c.status, c.status === 'open' ? 'ok' : 'muted')),
      dl([['Account', c.account], ['Issued', when(c.created_at)], ['Expires', when(c.expires_at)],
        c.used_by ? ['Used by', short(c.used_by, 32), 'long'] : null, c.used_at ? ['Used', when(c.used_at)] : null]),
      c.status === 'open' ? h('button', { type: 'button', class: 'small danger', onclick: async (ev) => {
        if (!confirm('Cancel code ' + c.id + ' of ' + c.account + '?')) return;
        ev.target.disabled = true;
        try {
          await api('POST', '/v1/admin/codes/' + enc(c.id) + '/cancel');
          c.status = 'cancelled';
          draw();
        } catch (e) {
          ev.target.disabled = false;
          card.appendChild(h('p', { class: 'outcome bad' }, e.message));
        }
      } }, 'Cancel') : null);
    draw();
    return card;
  }, 'No code issued yet.');
  return h('div', {}, title('Enrolment codes', f.count), issue, box, search('Search by code, account or status', f.draw), f.box);
}
