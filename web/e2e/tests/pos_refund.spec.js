// The till's risk settings and refunds: a payment above the merchant's
// per-payment cap is refused with its reason and nothing is credited; a
// sale is refunded from today's sales, the customer's wallet films and
// accepts the refund, and after both sync the ledger has settled it.
const { test, expect } = require('@playwright/test');
const { admin, account, Phone, wallet } = require('./lib/offpay');

// filmCode films a code that may be animated (a refund carries the sale
// it refunds and can need more than one QR code): every frame in turn.
async function filmCode(shower, selector, reader) {
  const img = shower.page.locator(selector + '[data-text]');
  await expect(img).toBeVisible({ timeout: 30_000 });
  const n = Number(await img.getAttribute('data-frames'));
  console.log(`${selector}: ${(await img.getAttribute('data-text')).length} characters, ${n} frame(s)`);
  if (n <= 1) return shower.film(selector, reader);
  const pngs = [];
  for (let i = 0; i < n; i++) {
    await img.evaluate(async (el, i) => { clearInterval(el.animation); el.src = el.frameURLs[i]; await el.decode(); }, i);
    pngs.push(await img.screenshot());
  }
  await shower.filmPNGs(pngs, reader);
}

test('pos risk and refund: a payment above the cap refused, a sale refunded and settled', async () => {
  test.setTimeout(240_000);
  const till = new Phone('till-risk');
  const c = new Phone('customer-risk');
  try {
    const shopCode = await account('risk-shop', 0, true);
    const p = await till.launch({ page: 'pos' });
    await wallet.enrol(p, shopCode);
    await p.click('#s-unlock-code button');
    await expect(p.locator('#s-charge')).toBeVisible({ timeout: 30_000 });

    // The merchant caps single payments at 5.00; a bad entry is refused.
    await p.click('#risk-open');
    await p.fill('#risk-max-payment', 'five');
    await p.click('#risk-save');
    await expect(p.locator('#toast')).toContainText('per-payment cap');
    await p.fill('#risk-max-payment', '5');
    await p.click('#risk-save');
    await expect(p.locator('#risk-now')).toContainText('Per payment: 5.00 EUR');
    await till.shot('pos-08-risk');
    await p.click('#s-risk [data-go="charge"]');

    const code = await account('customer-risk', 2000);
    const w = await c.launch();
    await wallet.enrol(w, code);
    await w.click('#s-unlock-code button');
    await w.click('[data-go="reserve"]');
    await w.fill('#reserve-amount', '20');
    await w.click('#reserve-go');
    await expect(w.locator('#available')).toHaveText('20.00 EUR', { timeout: 30_000 });
    await c.ctx.setOffline(true);
    await till.ctx.setOffline(true);

    // pay has the customer pay what the till asks, and the till film it.
    const pay = async (typed) => {
      for (const k of typed) await p.click(`#keypad button:text-is("${k}")`);
      await p.click('#charge-go');
      await expect(p.locator('#s-request #qr')).toBeVisible();
      await till.film('#qr', c);
      await w.click('#b-scan');
      await expect(w.locator('#pay-name')).toHaveText('risk-shop', { timeout: 30_000 });
      await w.click('#pay-go');
      await expect(w.locator('body[data-code="payment"] #qr')).toBeVisible({ timeout: 30_000 });
      await c.film('#qr', till);
      await p.click('#scan-payment');
    };

    // 8.00 is above the cap: refused, with the reason, nothing credited.
    await pay('8');
    await expect(p.locator('#s-refused')).toBeVisible({ timeout: 30_000 });
    await expect(p.locator('#refused-reason')).toContainText('8.00 EUR is above the per-payment cap of 5.00 EUR');
    await till.shot('pos-09-refused');
    await p.click('#s-refused [data-go="charge"]');
    await p.click('[data-go="sales"]');
    await expect(p.locator('#sales-total')).toHaveText('0.00 EUR');
    await expect(p.locator('#sales tr')).toHaveCount(0);
    await p.click('#s-sales [data-go="charge"]');
    await wallet.home(w);

    // 3.00 is taken.
    await pay('3');
    await expect(p.locator('#s-receipt')).toBeVisible({ timeout: 30_000 });
    await expect(p.locator('#paid-amount')).toHaveText('3.00 EUR');
    await till.film('#receipt-qr', c);
    await w.click('#code-next');
    await expect(w.locator('#s-done')).toBeVisible({ timeout: 30_000 });
    await wallet.home(w);
    const before = await wallet.balance(w);
    await p.click('#next');

    // The merchant refunds it from today's sales; the customer films it.
    await p.click('[data-go="sales"]');
    await expect(p.locator('#sales tr')).toHaveCount(1);
    await p.click('#sales button.refund');
    await expect(p.locator('#s-refund #refund-qr')).toBeVisible({ timeout: 30_000 });
    await expect(p.locator('#refund-amount')).toHaveText('3.00 EUR');
    await till.shot('pos-10-refund');
    await filmCode(till, '#refund-qr', c);
    await w.click('#b-scan');
    await expect(w.locator('body[data-code="receipt"] #qr')).toBeVisible({ timeout: 30_000 });
    await wallet.home(w);
    const after = await wallet.balance(w);
    expect(after.available - before.available).toBe(300);

    // Online again: both sync, and the ledger settles the sale and its refund.
    const report0 = await admin('GET', '/v1/admin/report');
    await c.ctx.setOffline(false);
    await till.ctx.setOffline(false);
    await w.click('#b-sync');
    await p.click('#s-refund [data-go="sales"]');
    await p.click('#b-sync');
    await expect.poll(async () => (await admin('GET', '/v1/admin/accounts/risk-shop')).balance_minor, { timeout: 30_000 }).toBe(0);
    await expect(p.locator('#sales tr[data-state="settled"]')).toHaveCount(1, { timeout: 30_000 });
    const report = await admin('GET', '/v1/admin/report');
    expect(report.conservation_ok).toBe(true);
    expect(report.settled_payments).toBeGreaterThanOrEqual(report0.settled_payments);
  } catch (e) {
    for (const ph of [till, c]) console.log('at the failure, ' + await ph.state());
    throw e;
  } finally {
    await till.close();
    await c.close();
  }
});
