// pos.js: the till's screens. The till is a merchant wallet (the Go
// wallet in core.js); its queue is the payments taken and not yet
// settled, uploaded by itself whenever the network is there.
'use strict';

const NAME = 'pos';
const SYNC_EVERY_MS = 5000;
const $ = (id) => document.getElementById(id);
let api = null, scanner = null, unlocked = false, syncing = false;
let typed = '';
const LABELS = { confirmed: 'to upload', pending: 'to upload', settled: 'settled', rejected: 'refused', expired: 'expired' };

function show(name) {
  if (scanner && name !== 'scan') scanner.stop();
  for (const s of document.querySelectorAll('.screen')) s.classList.toggle('active', s.id === 's-' + name);
  document.body.dataset.screen = name;
  if (name === 'charge') { typed = ''; paint(); }
  if (name === 'sales') sales().catch((e) => toast(core.message(e)));
  if (name === 'risk') riskShow().catch((e) => toast(core.message(e)));
}

let toastTimer = 0;
function toast(text, bad = true) {
  const t = $('toast');
  t.textContent = text;
  t.className = 'toast show' + (bad ? ' bad' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = 'toast'; }, 6000);
}

async function act(button, f) {
  if (button) button.disabled = true;
  try { await f(); } catch (e) { toast(core.message(e)); } finally { if (button) button.disabled = false; }
}

function paint() { $('amount').textContent = typed || '0'; }

// today reads the sales since midnight from the Go wallet, which sums
// them in minor units.
async function today() {
  const midnight = new Date(); midnight.setHours(0, 0, 0, 0);
  return JSON.parse(await api.sales(Math.floor(midnight.getTime() / 1000)));
}

async function sales() {
  const day = await today();
  const tb = $('sales');
  tb.textContent = '';
  for (const r of day.sales || []) {
    const tr = document.createElement('tr');
    tr.dataset.state = r.state;
    const label = (LABELS[r.state] || r.state) + (r.kind === 'online_receive' ? ' · online' : '');
    tr.dataset.kind = r.kind;
    for (const [text, cls] of [[new Date(r.time * 1000).toLocaleTimeString(), ''], [r.amount, 'num'], [label, '']]) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    const td = document.createElement('td');
    if (r.state !== 'rejected' && r.kind === 'receive') { // a payment online is refunded from the account, not here
      const b = document.createElement('button');
      b.className = 'secondary refund';
      b.textContent = 'Refund';
      b.dataset.sale = r.id;
      b.onclick = () => act(b, () => refund(r.id));
      td.append(b);
    }
    tr.append(td);
    tb.append(tr);
  }
  $('sales-total').textContent = day.total;
  $('sales-waiting').textContent = String(day.waiting);
}

// queue shows how many sales wait to be uploaded, and uploads them when
// the network is there: the till never needs a button for it.
async function queue() {
  if (!unlocked) return;
  const waiting = (await today()).waiting;
  const q = $('queue');
  document.body.dataset.online = navigator.onLine;
  q.textContent = waiting ? `${waiting} to upload${navigator.onLine ? '' : ' · offline'}` : (navigator.onLine ? 'all uploaded' : 'offline');
  document.body.dataset.waiting = waiting;
  if (!waiting || !navigator.onLine || syncing) return;
  syncing = true;
  try {
    await api.sync();
    if (document.body.dataset.screen === 'sales') await sales();
    await queue();
  } catch (e) {
    console.warn('sync:', core.message(e)); // tried again at the next tick
  } finally { syncing = false; }
}

async function charge() {
  const text = await api.request(typed, 600);
  const st = JSON.parse(await api.status());
  $('request-amount').textContent = `${typed} ${st.currency}`;
  show('request');
  watchPaid(text);
  await core.showCode($('qr'), text);
}

// watchPaid asks the ledger every few seconds, while the request is on
// screen and the till online, whether the customer paid it online, from
// their account (as offpay pos run does): then the till shows it paid.
let watching = 0;
function watchPaid(text) {
  const mine = ++watching;
  const shown = () => mine === watching && document.body.dataset.screen === 'request';
  const tick = async () => {
    if (!shown()) return;
    if (navigator.onLine) {
      try {
        const r = JSON.parse(await api.paidOnline(text));
        if (!shown()) return;
        if (r.paid) { paid(r.amount, r); return; }
      } catch (e) {
        console.warn('paid online?', core.message(e)); // asked again at the next tick
      }
    }
    setTimeout(tick, 3000);
  };
  setTimeout(tick, 3000);
}

// paid shows a sale taken: with its receipt code for a payment scanned,
// or, paid online (rc), the ledger's receipt: nothing to scan.
async function paid(amount, rc, receipt) {
  $('paid-title').textContent = rc ? 'Paid online' : 'Paid';
  $('paid-amount').textContent = amount;
  $('paid-hint').textContent = rc ? `From the customer's account, through the ledger. Receipt ${rc.receipt.slice(0, 16)}.` : 'The customer may scan the receipt.';
  $('receipt-qr').hidden = !!rc;
  if (rc) document.body.dataset.receipt = rc.receipt; else delete document.body.dataset.receipt;
  show('receipt');
  if (receipt) await core.showCode($('receipt-qr'), receipt);
}

function scan() {
  $('scan-text').value = '';
  show('scan');
  scanner = new core.Scanner($('video'));
  scanner.start((text) => act(null, () => take(text))).catch((e) => toast('camera: ' + core.message(e)));
}

// The merchant's risk settings (wallet/posrisk, as offpay pos run) are
// kept in this browser and applied by the Go wallet before a payment is
// taken.
const RISK = 'pos-risk';
const RISK_FIELDS = [['max_payment', 'risk-max-payment'], ['max_unsettled', 'risk-max-unsettled'], ['max_offline_minutes', 'risk-max-offline'], ['issuers', 'risk-issuers']];

async function riskShow() {
  const s = JSON.parse(localStorage.getItem(RISK) || '{}');
  for (const [k, id] of RISK_FIELDS) $(id).value = s[k] ? String(s[k]) : '';
  await riskPaint(JSON.stringify(s));
}

async function riskPaint(text) {
  const r = JSON.parse(await api.riskSettings(text));
  $('risk-now').textContent = `Per payment: ${r.max_payment} · unsettled: ${r.max_unsettled} · offline: ${r.max_offline === '0s' ? 'no cap' : r.max_offline} · issuers: ${r.issuers || 'any'}`;
}

async function riskSave() {
  const s = {};
  for (const [k, id] of RISK_FIELDS) {
    const v = $(id).value.trim();
    if (!v) continue;
    if (k === 'max_offline_minutes') {
      if (!/^\d+$/.test(v)) throw new Error('the offline cap is a whole number of minutes');
      s[k] = Number(v);
    } else s[k] = v;
  }
  const text = JSON.stringify(s);
  await riskPaint(text); // the Go wallet checks them before they are kept
  localStorage.setItem(RISK, text);
  toast('Risk settings saved', false);
}

// refund refunds a sale (the whole of it) and shows the code the
// customer's wallet scans. A refund carries the sale it refunds and is
// longer than a payment: above REFUND_FRAME characters it is shown as an
// animated code, whose frames a phone's camera reads more surely than one
// dense code.
const REFUND_FRAME = 400;
async function refund(id) {
  const r = JSON.parse(await api.refund(id, ''));
  $('refund-amount').textContent = r.amount;
  show('refund');
  await core.showCode($('refund-qr'), r.text, REFUND_FRAME);
  if (r.repeat) toast('Refunded before: the same refund again', false);
}

// take accepts a customer's payment and shows the receipt; a payment the
// risk settings refuse is not credited, and the till says why.
async function take(text) {
  if (await api.kind(text) !== 'payment') throw new Error('this code is not a payment');
  let receipt;
  try {
    receipt = await api.posAccept(text, localStorage.getItem(RISK) || '');
  } catch (e) {
    if (!/risk settings/.test(core.message(e))) throw e;
    $('refused-reason').textContent = core.message(e);
    $('toast').className = 'toast'; // an older message must not sit over the refusal
    show('refused');
    return;
  }
  const day = await today();
  await paid(day.sales && day.sales.length ? day.sales[0].amount : '', null, receipt);
  queue();
}

function bind() {
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.dataset.go) show(b.dataset.go);
    else if (b.dataset.scan) scan();
  });
  $('keypad').onclick = (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.dataset.key === 'back') typed = typed.slice(0, -1);
    else if (typed.length < 12) typed += b.textContent;
    paint();
  };
  $('charge-go').onclick = () => act($('charge-go'), charge);
  $('card-go').onclick = () => act($('card-go'), async () => {
    const text = await api.card();
    $('request-amount').textContent = 'any amount';
    show('request');
    await core.showCode($('qr'), text);
  });
  $('enrol-go').onclick = () => act($('enrol-go'), async () => {
    if ($('enrol-pin').value !== $('enrol-pin2').value) throw new Error('the two PINs differ');
    const r = JSON.parse(await api.create(NAME, $('enrol-code').value, $('enrol-pin').value, location.origin));
    $('enrol-pin').value = $('enrol-pin2').value = '';
    $('unlock-code').textContent = r.unlock_code;
    unlocked = true;
    show('unlock-code');
  });
  $('unlock-go').onclick = () => act($('unlock-go'), async () => {
    await api.unlock(NAME, $('pin').value);
    $('pin').value = '';
    unlocked = true;
    $('currency').textContent = JSON.parse(await api.status()).currency;
    show('charge');
    queue();
  });
  $('pin').onkeydown = (e) => { if (e.key === 'Enter') $('unlock-go').click(); };
  $('b-lock').onclick = () => act(null, async () => { unlocked = false; await api.lock(); show('lock'); });
  $('b-sync').onclick = () => act($('b-sync'), async () => { await api.sync(); await sales(); await queue(); });
  $('risk-save').onclick = () => act($('risk-save'), riskSave);
  $('scan-cancel').onclick = () => show('charge');
  $('scan-paste').onclick = () => act($('scan-paste'), async () => { if (scanner) scanner.stop(); await take($('scan-text').value.trim()); });
  addEventListener('online', () => queue());
  addEventListener('offline', () => queue());
  setInterval(() => queue().catch(() => {}), SYNC_EVERY_MS);
}

(async () => {
  bind();
  core.registerWorker('sw.js');
  if (!await core.hold(NAME)) { show('busy'); return; }
  try {
    api = await core.start('./');
  } catch (e) {
    toast('could not start: ' + core.message(e));
    return;
  }
  document.body.dataset.ready = 'true';
  show(await api.exists(NAME) ? 'lock' : 'enrol');
})();
