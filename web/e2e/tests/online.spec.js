// Online payments in the browser wallet (README "Online payments"): two
// phones, both online. The payee shows a request; the payer's camera
// films it, the payer sees the certified payee and pays it online, from
// the account, through the ledger: the purse is not touched, the
// accounts move once. Paying the same request again shows the same
// receipt and pays nothing twice. The payee's page, which asks the
// ledger while the request is on screen, shows "Paid online".
const { test, expect } = require('@playwright/test');
const { admin, account, Phone, wallet } = require('./lib/offpay');

const balance = async (name) => (await admin('GET', `/v1/admin/accounts/${name}`)).balance_minor;

test('wallet: pay a request online, from the account; the payee sees it paid', async () => {
  test.setTimeout(180_000);
  const payer = new Phone('online-payer'), payee = new Phone('online-payee');
  try {
    const before = await admin('GET', '/v1/admin/report'); // other specs share the ledger
    const payerCode = await account('online-payer', 10000);
    const payeeCode = await account('online-payee', 0);
    let a = await payer.launch();
    await wallet.enrol(a, payerCode);
    await a.click('#s-unlock-code button');
    let b = await payee.launch();
    await wallet.enrol(b, payeeCode);
    await b.click('#s-unlock-code button');

    // The payee asks for 12.50; nobody has paid yet: the request stays on
    // screen while its page asks the ledger.
    await b.click('#b-receive');
    await b.fill('#request-amount', '12.50');
    await b.click('#request-go');
    await expect(b.locator('body[data-code="request"] #qr')).toBeVisible();
    await payee.film('#qr', payer);
    await payee.shot('online-01-request');

    // The payer films it and sees the certified payee, and both choices.
    await a.click('#b-scan');
    await expect(a.locator('#s-confirm')).toBeVisible({ timeout: 30_000 });
    await expect(a.locator('#pay-name')).toHaveText('online-payee');
    await expect(a.locator('#pay-amount')).toHaveText('12.50 EUR');
    await expect(a.locator('#pay-go')).toBeVisible();
    await expect(a.locator('#pay-online-go')).toBeVisible();
    await expect(a.locator('#pay-online-go')).toHaveText('Pay online (from account)');
    await payer.shot('online-02-confirm');
    await b.waitForTimeout(4000); // more than one question to the ledger
    await expect(b.locator('#s-code')).toBeVisible();
    expect(await balance('online-payer')).toBe(10000);
    expect(await balance('online-payee')).toBe(0);

    // Paid online: the accounts move at once, the purse does not.
    await a.click('#pay-online-go');
    await expect(a.locator('#s-done')).toBeVisible({ timeout: 30_000 });
    await expect(a.locator('#done-title')).toHaveText('Paid online');
    await expect(a.locator('#done-text')).toHaveText('12.50 EUR to online-payee, from your account.');
    await expect(a.locator('#done-receipt')).toHaveText(/^Receipt [0-9a-f]{16}, signed by the ledger$/);
    const receipt = await a.evaluate(() => document.body.dataset.receipt);
    expect(receipt).toMatch(/^[0-9a-f]{64}$/);
    await payer.shot('online-03-paid');
    expect(await balance('online-payer')).toBe(8750);
    expect(await balance('online-payee')).toBe(1250);

    // The payee's page learns it from the ledger: the same receipt.
    await expect(b.locator('#s-done')).toBeVisible({ timeout: 30_000 });
    await expect(b.locator('#done-title')).toHaveText('Paid online');
    await expect(b.locator('#done-text')).toHaveText('12.50 EUR into your account.');
    expect(await b.evaluate(() => document.body.dataset.receipt)).toBe(receipt);
    await payee.shot('online-04-payee-paid');

    // Paying the same request again: the same receipt, nothing twice.
    await wallet.home(a);
    expect(await wallet.balance(a)).toEqual({ available: 0, pending: 0 });
    await a.click('#b-scan');
    await expect(a.locator('#s-confirm')).toBeVisible({ timeout: 30_000 });
    await a.click('#pay-online-go');
    await expect(a.locator('#done-title')).toHaveText('Already paid', { timeout: 30_000 });
    await expect(a.locator('#done-text')).toContainText('Nothing was paid twice.');
    expect(await a.evaluate(() => document.body.dataset.receipt)).toBe(receipt);
    await payer.shot('online-05-already-paid');
    expect(await balance('online-payer')).toBe(8750);
    expect(await balance('online-payee')).toBe(1250);

    // Both histories hold it once.
    await wallet.home(a);
    await a.click('[data-go="history"]');
    await expect(a.locator('#history li[data-kind="online_pay"]')).toHaveCount(1);
    await expect(a.locator('#history li[data-kind="online_pay"] .amt')).toHaveText('−12.50 EUR');
    await wallet.home(b);
    await b.click('[data-go="history"]');
    await expect(b.locator('#history li[data-kind="online_receive"]')).toHaveCount(1);
    await expect(b.locator('#history li[data-kind="online_receive"] .amt')).toHaveText('+12.50 EUR');

    // More than the account holds: refused, in one line, nothing moves.
    await wallet.home(b);
    await b.click('#b-receive');
    await b.fill('#request-amount', '200');
    await b.click('#request-go');
    await payee.film('#qr', payer);
    await wallet.home(a);
    await a.click('#b-scan');
    await expect(a.locator('#pay-amount')).toHaveText('200.00 EUR', { timeout: 30_000 });
    await a.click('#pay-online-go');
    await expect(a.locator('.toast.show')).toContainText('not enough money in the account', { timeout: 30_000 });
    await expect(a.locator('.toast.show')).toContainText('nothing was paid');
    await expect(a.locator('#s-confirm')).toBeVisible();
    expect(await balance('online-payer')).toBe(8750);
    expect(await balance('online-payee')).toBe(1250);
    await expect(b.locator('#s-code')).toBeVisible();

    // Offline, the choice is not offered.
    await wallet.home(a);
    await payer.ctx.setOffline(true);
    await a.click('#b-scan');
    await expect(a.locator('#s-confirm')).toBeVisible({ timeout: 30_000 });
    await expect(a.locator('#pay-go')).toBeVisible();
    await expect(a.locator('#pay-online-go')).toBeHidden();
    await payer.ctx.setOffline(false);
    await expect(a.locator('#pay-online-go')).toBeVisible();

    const report = await admin('GET', '/v1/admin/report');
    expect(report.conservation_ok).toBe(true);
    expect(report.settled_payments).toBe(before.settled_payments);
    expect(report.online_payments - (before.online_payments || 0)).toBe(1);
    expect(report.online_minor - (before.online_minor || 0)).toBe(1250);
  } catch (e) {
    for (const ph of [payer, payee]) console.log('at the failure, ' + await ph.state());
    throw e;
  } finally {
    await payer.close();
    await payee.close();
  }
});

// The till: a request on its screen paid online from the customer's
// account shows as paid there, and is among the day's sales, settled.
test('pos: a request paid online shows paid on the till', async () => {
  test.setTimeout(180_000);
  const till = new Phone('online-till'), c = new Phone('online-customer');
  try {
    const shopCode = await account('online-shop', 0, true);
    const customerCode = await account('online-customer', 2000);
    let p = await till.launch({ page: 'pos' });
    await wallet.enrol(p, shopCode);
    await p.click('#s-unlock-code button');
    await expect(p.locator('#s-charge')).toBeVisible({ timeout: 30_000 });
    let w = await c.launch();
    await wallet.enrol(w, customerCode);
    await w.click('#s-unlock-code button');

    for (const k of '4.75') await p.click(`#keypad button:text-is("${k}")`);
    await p.click('#charge-go');
    await expect(p.locator('#s-request #qr')).toBeVisible();
    await till.film('#qr', c);
    await w.click('#b-scan');
    await expect(w.locator('#pay-name')).toHaveText('online-shop', { timeout: 30_000 });
    await w.click('#pay-online-go');
    await expect(w.locator('#done-title')).toHaveText('Paid online', { timeout: 30_000 });
    const receipt = await w.evaluate(() => document.body.dataset.receipt);

    await expect(p.locator('#s-receipt')).toBeVisible({ timeout: 30_000 });
    await expect(p.locator('#paid-title')).toHaveText('Paid online');
    await expect(p.locator('#paid-amount')).toHaveText('4.75 EUR');
    await expect(p.locator('#receipt-qr')).toBeHidden();
    expect(await p.evaluate(() => document.body.dataset.receipt)).toBe(receipt);
    await till.shot('online-06-till-paid');
    await p.click('#next');
    await p.click('[data-go="sales"]');
    await expect(p.locator('#sales tr[data-kind="online_receive"][data-state="settled"]')).toHaveCount(1);
    await expect(p.locator('#sales-total')).toHaveText('4.75 EUR');
    await expect(p.locator('#sales tr[data-kind="online_receive"] button.refund')).toHaveCount(0);
    await till.shot('online-07-till-sales');
    expect((await admin('GET', '/v1/admin/accounts/online-shop')).balance_minor).toBe(475);
    expect((await admin('GET', '/v1/admin/accounts/online-customer')).balance_minor).toBe(1525);
  } catch (e) {
    for (const ph of [till, c]) console.log('at the failure, ' + await ph.state());
    throw e;
  } finally {
    await till.close();
    await c.close();
  }
});
