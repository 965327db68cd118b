// The till: a merchant's POS page takes three customers in a row with no
// network, each paying by camera from their own wallet page; the sales
// wait in its queue, and when the network is back the till uploads them
// by itself and the ledger settles all three.
const { test, expect } = require('@playwright/test');
const { admin, account, Phone, wallet } = require('./lib/offpay');

test('pos: three customers offline, then the queue syncs by itself', async () => {
  test.setTimeout(240_000);
  const till = new Phone('till');
  const customers = [];
  try {
    const before = await admin('GET', '/v1/admin/report');
    const shopCode = await account('corner-shop', 0, true);
    let p = await till.launch({ page: 'pos' });
    await till.shot('pos-01-enrol');
    await wallet.enrol(p, shopCode);
    await p.click('#s-unlock-code button');
    await till.cached();
    await till.ctx.setOffline(true);
    await p.reload();
    await expect(p.locator('body[data-ready="true"]')).toHaveCount(1, { timeout: 60_000 });
    await expect(p.locator('#s-lock')).toBeVisible();
    await till.shot('pos-02-locked');
    await p.fill('#pin', '482913');
    await p.click('#unlock-go');
    await expect(p.locator('#s-charge')).toBeVisible({ timeout: 30_000 });

    const amounts = [['3.20', 320], ['12.05', 1205], ['7', 700]];
    for (const [i, [typed, minor]] of amounts.entries()) {
      const c = new Phone('customer' + i);
      customers.push(c);
      const code = await account('customer' + i, 2000);
      let w = await c.launch();
      await wallet.enrol(w, code);
      await w.click('#s-unlock-code button');
      await w.click('[data-go="reserve"]');
      await w.fill('#reserve-amount', '20');
      await w.click('#reserve-go');
      await expect(w.locator('#available')).toHaveText('20.00 EUR', { timeout: 30_000 });
      await c.ctx.setOffline(true);

      // The till asks; the customer films it and pays; the till films the
      // payment and shows its receipt, which the customer films.
      // The last customer pays the shop's card (payer-presented): the
      // till asks no amount, the customer types it.
      const card = i === amounts.length - 1;
      if (card) {
        await p.click('#card-go');
      } else {
        for (const k of typed) await p.click(`#keypad button:text-is("${k}")`);
        if (i === 0) await till.shot('pos-03-amount');
        await p.click('#charge-go');
      }
      await expect(p.locator('#s-request #qr')).toBeVisible();
      if (i === 0) await till.shot('pos-04-request');
      if (card) await till.shot('pos-04-card');
      await till.film('#qr', c);
      await w.click('#b-scan');
      await expect(w.locator('#pay-name')).toHaveText('corner-shop', { timeout: 30_000 });
      if (card) {
        await expect(w.locator('#pay-amount-in')).toBeVisible();
        await w.fill('#pay-amount-in', typed);
        await c.shot('wallet-16-pay-a-card');
      }
      await w.click('#pay-go');
      await expect(w.locator('body[data-code="payment"] #qr')).toBeVisible({ timeout: 30_000 });
      await c.film('#qr', till);
      await p.click('#scan-payment');
      await expect(p.locator('#s-receipt')).toBeVisible({ timeout: 30_000 });
      await expect(p.locator('#paid-amount')).toHaveText(`${(minor / 100).toFixed(2)} EUR`);
      if (i === 0) await till.shot('pos-05-paid');
      await till.film('#receipt-qr', c);
      await w.click('#code-next');
      await expect(w.locator('#s-done')).toBeVisible({ timeout: 30_000 });
      await wallet.home(w);
      expect(await wallet.balance(w)).toEqual({ available: 2000 - minor, pending: 0 });
      await c.close();
      await p.click('#next');
      await expect(p.locator('#queue')).toHaveText(`${i + 1} to upload · offline`, { timeout: 10_000 });
    }
    await p.click('[data-go="sales"]');
    await expect(p.locator('#sales tr[data-state="confirmed"]')).toHaveCount(3);
    await expect(p.locator('#sales-total')).toHaveText('22.25 EUR');
    await till.shot('pos-06-sales-offline');
    expect((await admin('GET', '/v1/admin/report')).settled_payments).toBe(before.settled_payments);

    // The network is back: nobody touches the till, and its queue drains.
    await till.ctx.setOffline(false);
    await expect(p.locator('#queue')).toHaveText('all uploaded', { timeout: 30_000 });
    await expect(p.locator('#sales tr[data-state="settled"]')).toHaveCount(3, { timeout: 10_000 });
    await till.shot('pos-07-sales-settled');
    const after = await admin('GET', '/v1/admin/report');
    expect(after.settled_payments - before.settled_payments).toBe(3);
    expect(after.conservation_ok).toBe(true);
    expect((await admin('GET', '/v1/admin/accounts/corner-shop')).balance_minor).toBe(2225);
  } catch (e) {
    for (const ph of [till, ...customers]) console.log('at the failure, ' + await ph.state());
    throw e;
  } finally {
    await till.close();
    for (const c of customers) await c.close();
  }
});
