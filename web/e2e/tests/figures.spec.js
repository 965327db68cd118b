// Figures for the README ("In the browser"): what the wallet page
// downloads, its time to first use cold and warm, the PIN's unlock, and
// pay + accept + confirm inside headless Chromium (the Go API called
// directly: no camera, no screen). Logged, never asserted: the machine is
// shared and the numbers are noisy.
const { test, expect, chromium } = require('@playwright/test');
const http = require('http');
const { account, PIN, URL } = require('./lib/offpay');
const { chromiumArgs } = require('../playwright.config');

// wire fetches a file as a browser does (gzip accepted) and returns the
// bytes that crossed the network.
function wire(path) {
  return new Promise((resolve, reject) => {
    http.get(URL + path, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } }, (r) => {
      let n = 0;
      r.on('data', (b) => { n += b.length; });
      r.on('end', () => resolve(n));
    }).on('error', reject);
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

test('figures: size, time to first use, payment time', async () => {
  test.setTimeout(180_000);
  const sw = await (await fetch(URL + '/wallet/sw.js')).text();
  const files = JSON.parse(sw.match(/const FILES = (\[.*\]);/)[1]);
  let total = 0, wasm = 0;
  for (const f of files) {
    const n = await wire('/wallet/' + (f === './' ? '' : f));
    total += n;
    if (f === 'offpay.wasm') wasm = n;
  }
  console.log(`FIGURE download: offpay.wasm ${(wasm / 1e6).toFixed(2)} MB gzipped; everything the page caches ${(total / 1e6).toFixed(2)} MB (${files.length} files)`);

  const browser = await chromium.launch({ executablePath: process.env.OFFPAY_CHROMIUM || '/usr/bin/chromium', args: chromiumArgs });
  try {
    const open = async (ctx) => {
      const p = await ctx.newPage();
      const t0 = Date.now();
      await p.goto(URL + '/wallet/');
      await expect(p.locator('body[data-ready="true"]')).toHaveCount(1, { timeout: 60_000 });
      return { p, ms: Date.now() - t0 };
    };
    const phones = [];
    for (const name of ['fig-payer', 'fig-payee']) {
      const ctx = await browser.newContext();
      const cold = await open(ctx);
      const code = await account(name, 10000);
      const enrolMs = await cold.p.evaluate(async ([code, pin]) => {
        const t0 = performance.now();
        await offpay.create('wallet', code, pin, location.origin);
        return performance.now() - t0;
      }, [code, PIN]);
      await cold.p.evaluate(() => navigator.serviceWorker.ready);
      await cold.p.evaluate(async () => { for (let i = 0; i < 300 && !await caches.match('offpay.wasm'); i++) await new Promise((r) => setTimeout(r, 100)); });
      await cold.p.close();
      const warm = await open(ctx);
      const unlockMs = await warm.p.evaluate(async (pin) => {
        const t0 = performance.now();
        await offpay.unlock('wallet', pin);
        return performance.now() - t0;
      }, PIN);
      console.log(`FIGURE ${name}: cold load to first use ${cold.ms} ms, warm (service worker) ${warm.ms} ms, enrol ${Math.round(enrolMs)} ms, unlock (Argon2id 64 MiB, 3 passes) ${Math.round(unlockMs)} ms`);
      phones.push(warm.p);
    }
    const [payer, payee] = phones;
    await payer.evaluate(() => offpay.reserve('50'));
    const rounds = [];
    for (let i = 0; i < 10; i++) {
      const req = await payee.evaluate(() => offpay.request('0.10', 600));
      const t = {};
      const pay = await payer.evaluate(async (r) => { const t0 = performance.now(); const b = await offpay.pay(r, ''); return [b, performance.now() - t0]; }, req);
      const acc = await payee.evaluate(async (b) => { const t0 = performance.now(); const r = await offpay.accept(b); return [r, performance.now() - t0]; }, pay[0]);
      t.confirm = await payer.evaluate(async (r) => { const t0 = performance.now(); await offpay.confirm(r); return performance.now() - t0; }, acc[0]);
      t.pay = pay[1]; t.accept = acc[1];
      rounds.push(t);
    }
    const m = (k) => median(rounds.map((r) => r[k]));
    const sum = median(rounds.map((r) => r.pay + r.accept + r.confirm));
    console.log(`FIGURE payment in the browser (median of ${rounds.length}): pay ${m('pay').toFixed(1)} ms + accept ${m('accept').toFixed(1)} ms + confirm ${m('confirm').toFixed(1)} ms = ${sum.toFixed(1)} ms`);
  } finally {
    await browser.close();
  }
});
