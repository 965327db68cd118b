// app.js: the wallet's screens. Every step calls the Go wallet (core.js).
'use strict';

const NAME = 'wallet';
const $ = (id) => document.getElementById(id);
let api = null;
let scanner = null;
let pendingRequest = null; // the request text scanned, until paid

function show(name) {
  if (scanner && name !== 'scan') scanner.stop();
  for (const s of document.querySelectorAll('.screen')) s.classList.toggle('active', s.id === 's-' + name);
  document.body.dataset.screen = name;
  if (name === 'home') refresh();
  if (name === 'history') history();
}

let toastTimer = 0;
function toast(text, bad = true) {
  const t = $('toast');
  t.textContent = text;
  t.className = 'toast show' + (bad ? ' bad' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = 'toast'; }, 6000);
}

// act runs one user action with its button disabled, and shows its error.
async function act(button, f) {
  if (button) button.disabled = true;
  try { await f(); } catch (e) { toast(core.message(e)); } finally { if (button) button.disabled = false; }
}

async function refresh() {
  const st = JSON.parse(await api.status());
  $('available').textContent = st.available;
  $('pending').textContent = st.pending_count ? `${st.pending} (${st.pending_count})` : st.pending;
  $('sync-by').textContent = st.sync_by ? new Date(st.sync_by).toLocaleString() : '–';
  $('left').textContent = `${st.payments_left} payments, ${st.value_left}`;
  $('title').textContent = st.account;
  document.body.dataset.available = st.available_minor;
  document.body.dataset.pending = st.pending_minor;
  return st;
}

async function history() {
  const ul = $('history');
  ul.textContent = '';
  for (const r of JSON.parse(await api.history())) {
    const li = document.createElement('li');
    const sign = r.kind === 'pay' || r.kind === 'redeem' || r.kind === 'online_pay' ? '−' : '+';
    li.innerHTML = '<div class="row"><b></b><span class="amt"></span></div><div class="row small"><span class="who"></span><span class="state"></span></div>';
    li.querySelector('b').textContent = r.kind;
    li.querySelector('.amt').textContent = sign + r.amount;
    li.querySelector('.who').textContent = r.counterparty_name || r.counterparty_account || new Date(r.time_text).toLocaleString();
    li.querySelector('.state').textContent = r.state;
    li.dataset.state = r.state;
    li.dataset.kind = r.kind;
    if (r.kind === 'pay' && r.state === 'pending') {
      li.append(button('Show payment code', async () => showCode('payment', await api.resend(r.id))));
    }
    if (r.kind === 'receive' && r.state !== 'rejected') {
      li.append(button('Show receipt', async () => showCode('receipt', await api.receipt(r.id))));
    }
    ul.append(li);
  }
}

function button(text, f) {
  const b = document.createElement('button');
  b.className = 'secondary small';
  b.textContent = text;
  b.onclick = () => act(b, f);
  return b;
}

// showCode shows a code for the other phone to scan, and what comes next.
async function showCode(what, text) {
  const screens = {
    request: ['Show this to the payer', 'Then scan their payment.', 'Scan payment', 'payment'],
    card: ['Your card', 'Any payer scans it and types the amount; then scan their payment.', 'Scan payment', 'payment'],
    payment: ['Show this to the payee', 'Then scan their receipt.', 'Scan receipt', 'receipt'],
    receipt: ['Show this to the payer', 'Their phone confirms the payment with it.', null, null],
  }[what];
  $('code-title').textContent = screens[0];
  $('code-hint').textContent = screens[1];
  const next = $('code-next');
  next.hidden = !screens[2];
  next.textContent = screens[2] || '';
  next.dataset.scan = screens[3] || '';
  document.body.dataset.code = what;
  show('code');
  if (what === 'request') watchPaid(text);
  await core.showCode($('qr'), text);
}

// watchPaid asks the ledger every few seconds, while the request is on
// screen and the phone online, whether a payer paid it online (as
// `offpay wallet receive` does); the answer ends the wait: "Paid online".
let watching = 0;
function watchPaid(text) {
  const mine = ++watching;
  const shown = () => mine === watching && document.body.dataset.screen === 'code' && document.body.dataset.code === 'request';
  const tick = async () => {
    if (!shown()) return;
    if (navigator.onLine) {
      try {
        const r = JSON.parse(await api.paidOnline(text));
        if (!shown()) return;
        if (r.paid) { done('Paid online', `${r.amount} into your account.`, r); return; }
      } catch (e) {
        console.log('paid online? ' + core.message(e)); // the ledger out of reach: ask again
      }
    }
    setTimeout(tick, 3000);
  };
  setTimeout(tick, 3000);
}

// done shows the end of a payment; rc, an online payment's receipt.
function done(title, text, rc) {
  $('done-title').textContent = title;
  $('done-text').textContent = text;
  $('done-receipt').textContent = rc ? `Receipt ${rc.receipt.slice(0, 16)}, signed by the ledger` : '';
  $('done-receipt').hidden = !rc;
  if (rc) document.body.dataset.receipt = rc.receipt; else delete document.body.dataset.receipt;
  show('done');
}

function scan(what) {
  $('scan-title').textContent = {
    any: 'Scan a request, payment or receipt', enrol: 'Scan the enrolment code',
    payment: 'Scan the payment', receipt: 'Scan the receipt',
  }[what] || 'Point at the code';
  $('scan-text').value = '';
  show('scan');
  scanner = new core.Scanner($('video'));
  scanner.onProgress = (have, total) => { $('scan-title').textContent = `Keep the camera on the code: ${have} of ${total}`; };
  const t0 = performance.now();
  scanner.start((text) => { console.log(`scanned in ${Math.round(performance.now() - t0)} ms, ${scanner.frames} frames`); return act(null, () => scanned(what, text)); }).catch((e) => toast('camera: ' + core.message(e)));
}

// scanned acts on a code by what it holds.
async function scanned(what, text) {
  if (what === 'enrol') { $('enrol-code').value = text; show('enrol'); return; }
  const kind = await api.kind(text);
  if (kind === 'request') {
    const p = JSON.parse(await api.describe(text));
    pendingRequest = text;
    $('pay-name').textContent = p.name || p.account;
    $('pay-account').textContent = `${p.kind} · ${p.account}`;
    $('pay-amount').textContent = p.amount_minor ? p.amount : '';
    $('pay-amount-label').hidden = !!p.amount_minor;
    $('pay-amount-in').value = '';
    $('pay-online-go').dataset.standing = p.standing ? 'true' : '';
    onlineButton();
    show('confirm');
  } else if (kind === 'payment') {
    const receipt = await api.accept(text);
    await showCode('receipt', receipt);
    toast('Payment received', false);
  } else if (kind === 'receipt') {
    await api.confirm(text);
    done('Paid', 'The payee confirmed the payment.');
  } else {
    toast('This code is not for a wallet');
    show('home');
  }
}

// onlineButton offers to pay the scanned request online, from the
// account, while the phone is online (a standing request, the payee's
// card, cannot be paid online).
function onlineButton() {
  const b = $('pay-online-go');
  b.hidden = !navigator.onLine || b.dataset.standing === 'true';
}

async function online(f, ok) {
  await f();
  toast(ok, false);
  await refresh();
}

function bind() {
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.dataset.go) show(b.dataset.go);
    else if (b.dataset.scan) scan(b.dataset.scan);
  });
  $('enrol-go').onclick = () => act($('enrol-go'), async () => {
    if ($('enrol-pin').value !== $('enrol-pin2').value) throw new Error('the two PINs differ');
    const r = JSON.parse(await api.create(NAME, $('enrol-code').value, $('enrol-pin').value, location.origin));
    $('enrol-pin').value = $('enrol-pin2').value = '';
    $('unlock-code').textContent = r.unlock_code;
    show('unlock-code');
  });
  $('unlock-go').onclick = () => act($('unlock-go'), async () => {
    await api.unlock(NAME, $('pin').value);
    $('pin').value = '';
    show('home');
  });
  $('reset-go').onclick = () => act($('reset-go'), async () => {
    if ($('reset-pin').value !== $('reset-pin2').value) throw new Error('the two PINs differ');
    await api.reset(NAME, $('reset-code').value, $('reset-pin').value);
    $('reset-code').value = $('reset-pin').value = $('reset-pin2').value = '';
    show('home');
    toast('New PIN set; the unlock code is the same', false);
  });
  $('pin').onkeydown = (e) => { if (e.key === 'Enter') $('unlock-go').click(); };
  $('b-lock').onclick = () => act(null, async () => { await api.lock(); show('lock'); });
  $('b-sync').onclick = () => act($('b-sync'), () => online(() => api.sync(), 'Synced'));
  $('reserve-go').onclick = () => act($('reserve-go'), () => online(() => api.reserve($('reserve-amount').value), 'Topped up').then(() => show('home')));
  $('request-go').onclick = () => act($('request-go'), async () => showCode('request', await api.request($('request-amount').value, 600)));
  $('card-go').onclick = () => act($('card-go'), async () => showCode('card', await api.card()));
  $('pay-go').onclick = () => act($('pay-go'), async () => {
    const bundle = await api.pay(pendingRequest, $('pay-amount-label').hidden ? '' : $('pay-amount-in').value);
    pendingRequest = null;
    await showCode('payment', bundle);
  });
  $('pay-online-go').onclick = () => act($('pay-online-go'), async () => {
    const r = JSON.parse(await api.payOnline(pendingRequest, $('pay-amount-label').hidden ? '' : $('pay-amount-in').value));
    pendingRequest = null;
    const to = r.name || r.account;
    if (r.repeat) done('Already paid', `This request was paid online before: ${r.amount} to ${to}, from your account. Nothing was paid twice.`, r);
    else done('Paid online', `${r.amount} to ${to}, from your account.`, r);
  });
  $('scan-cancel').onclick = () => show('home');
  $('scan-paste').onclick = () => act($('scan-paste'), async () => {
    const what = $('scan-title').textContent.includes('enrolment') ? 'enrol' : 'any';
    if (scanner) scanner.stop();
    await scanned(what, $('scan-text').value.trim());
  });
  const net = () => { $('net').textContent = navigator.onLine ? 'online' : 'offline'; document.body.dataset.online = navigator.onLine; onlineButton(); };
  addEventListener('online', net); addEventListener('offline', net); net();
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
  core.autoLock(2 * 60 * 1000, () => act(null, async () => {
    if (!document.querySelector('#s-enrol.active, #s-lock.active, #s-reset.active, #s-unlock-code.active')) { await api.lock(); show('lock'); }
  }));
  show(await api.exists(NAME) ? 'lock' : 'enrol');
})();
