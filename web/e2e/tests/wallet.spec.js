// Two phones, a payer (alice) and a payee (bob), each a browser profile
// running the wallet page against the real ledger. Offline, they pay by
// QR: every code is filmed by the other phone's (fake) camera from the
// image the first one rendered, and decoded by the wallet's own decoder.
// The payer's tab is crashed in the middle of paying and reopened, the
// payee's page reloaded as it pays: no value is lost and nothing is paid
// twice. Back online, both sync and the
// ledger has settled the payment.
const { test, expect } = require('@playwright/test');
const { admin, account, codePNG, Phone, wallet } = require('./lib/offpay');

test.describe.configure({ mode: 'serial' });

// crash kills the page's renderer, as the system kills a tab.
async function crash(ctx, page) {
  const cdp = await ctx.newCDPSession(page);
  const crashed = page.waitForEvent('crash');
  cdp.send('Page.crash').catch(() => {});
  await crashed;
}

test('wallet: enrol, pay offline by camera, crash mid-payment, sync', async () => {
  test.setTimeout(240_000);
  const alice = new Phone('alice'), bob = new Phone('bob');
  try {
    const before = await admin('GET', '/v1/admin/report'); // other specs share the ledger
    const aliceCode = await account('alice', 10000);
    await account('bob', 0, false, false);

    // Online: enrol both, and alice tops up 50.00 from her account.
    let a = await alice.launch();
    await alice.shot('wallet-01-enrol');
    await wallet.enrol(a, aliceCode);
    await alice.shot('wallet-02-unlock-code');
    await a.click('#s-unlock-code button');
    await a.click('[data-go="reserve"]');
    await a.fill('#reserve-amount', '50.00');
    await alice.shot('wallet-03-top-up');
    await a.click('#reserve-go');
    await expect(a.locator('#available')).toHaveText('50.00 EUR', { timeout: 30_000 });
    await alice.shot('wallet-04-home');
    // A second tab of the same wallet refuses to open it: two copies of
    // one SE's state would sign the same counter twice.
    const second = await alice.ctx.newPage();
    await second.goto(a.url());
    await expect(second.locator('#s-busy')).toBeVisible({ timeout: 30_000 });
    await second.screenshot({ path: require('path').join(require('./lib/offpay').SHOTS, 'wallet-00-second-tab.png') });
    await second.close();
    expect((await admin('GET', '/v1/admin/accounts/alice')).balance_minor).toBe(5000);
    await alice.cached();

    // Bob enrols by filming the QR image the operator's command line
    // printed for him (account, code and the ledger's URL in one scan).
    let b = await bob.launch();
    await alice.filmPNG(codePNG('bob'), bob);
    await b.click('[data-scan="enrol"]');
    await expect(b.locator('#enrol-code')).toHaveValue(/^OPE1:bob\//, { timeout: 30_000 });
    await wallet.enrol(b, null);
    const bobUnlock = await b.locator('#unlock-code').textContent();
    await b.click('#s-unlock-code button');
    await bob.cached();

    // Offline from here: bob's browser starts again with no network and
    // the page comes from the service worker; alice's goes offline.
    b = await bob.launch({ offline: true });
    await expect(b.locator('#net')).toHaveText('offline');
    await bob.shot('wallet-05-locked');
    await wallet.unlock(b);
    await alice.ctx.setOffline(true);
    await a.reload();
    await expect(a.locator('body[data-ready="true"]')).toHaveCount(1, { timeout: 60_000 });
    await wallet.unlock(a);

    // Bob asks for 12.50; alice's camera films his code, she sees bob's
    // certified name and the amount, and pays; her tab crashes as she pays.
    await b.click('#b-receive');
    await b.fill('#request-amount', '12.50');
    await bob.shot('wallet-06-receive');
    await b.click('#request-go');
    await expect(b.locator('body[data-code="request"] #qr')).toBeVisible();
    await bob.shot('wallet-07-request-code');
    await bob.film('#qr', alice);
    await a.click('#b-scan');
    await alice.shot('wallet-08-scan');
    await expect(a.locator('#s-confirm')).toBeVisible({ timeout: 30_000 });
    await expect(a.locator('#pay-name')).toHaveText('bob');
    await expect(a.locator('#pay-amount')).toHaveText('12.50 EUR');
    await alice.shot('wallet-09-confirm');
    // First the tab dies while the SE's new state is being written (the
    // write held just before its IndexedDB transaction): the old state
    // stands, nothing was paid.
    await a.evaluate(() => {
      offpayFS.beforeCommit = (puts) => new Promise((resolve) => {
        if (puts.some((p) => p.endsWith('/vse.state'))) document.body.dataset.holding = 'true'; else resolve();
      });
    });
    await a.click('#pay-go');
    await expect(a.locator('body[data-holding="true"]')).toHaveCount(1);
    await crash(alice.ctx, a);
    a = await alice.launch({ offline: true });
    await wallet.unlock(a);
    expect(await wallet.balance(a)).toEqual({ available: 5000, pending: 0 });

    // Then it dies as soon as Pay is pressed, wherever the write is.
    await a.click('#b-scan');
    await expect(a.locator('#s-confirm')).toBeVisible({ timeout: 30_000 });
    await a.click('#pay-go');
    await crash(alice.ctx, a);

    // Reopened: the value is either still in the purse or in a pending
    // payment, never gone. Scanning the same request again pays it once.
    a = await alice.launch({ offline: true });
    await wallet.unlock(a);
    const afterCrash = await wallet.balance(a);
    expect(afterCrash.available + afterCrash.pending).toBe(5000);
    console.log(`after the crash: available ${afterCrash.available}, pending ${afterCrash.pending}`);
    await a.click('#b-scan');
    await expect(a.locator('#s-confirm')).toBeVisible({ timeout: 30_000 });
    await a.click('#pay-go');
    await expect(a.locator('body[data-code="payment"] #qr')).toBeVisible({ timeout: 30_000 });
    await alice.shot('wallet-10-payment-code');

    // Bob films alice's payment, accepts it and shows his receipt; alice
    // films the receipt: her payment is confirmed.
    await alice.film('#qr', bob);
    await b.click('#code-next');
    await expect(b.locator('body[data-code="receipt"] #qr')).toBeVisible({ timeout: 30_000 });
    await bob.shot('wallet-11-receipt-code');
    await bob.film('#qr', alice);
    await a.click('#code-next');
    await expect(a.locator('#s-done')).toBeVisible({ timeout: 30_000 });
    await alice.shot('wallet-12-paid');
    await wallet.home(a);
    expect(await wallet.balance(a)).toEqual({ available: 3750, pending: 0 });
    await wallet.home(b);
    expect((await wallet.balance(b)).available).toBe(1250);

    // And back: bob spends what he received, offline, paying alice 5.00.
    await a.click('#b-receive');
    await a.fill('#request-amount', '5');
    await a.click('#request-go');
    await expect(a.locator('body[data-code="request"] #qr')).toBeVisible();
    await alice.film('#qr', bob);
    await b.click('#b-scan');
    await expect(b.locator('#pay-name')).toHaveText('alice', { timeout: 30_000 });
    // Bob's page is reloaded as he pays: again nothing lost, nothing twice.
    await b.click('#pay-go');
    await b.reload();
    await expect(b.locator('body[data-ready="true"]')).toHaveCount(1, { timeout: 60_000 });
    await wallet.unlock(b);
    const afterReload = await wallet.balance(b);
    expect(afterReload.available + afterReload.pending).toBe(1250);
    console.log(`after the reload: available ${afterReload.available}, pending ${afterReload.pending}`);
    await b.click('#b-scan');
    await expect(b.locator('#pay-name')).toHaveText('alice', { timeout: 30_000 });
    await b.click('#pay-go');
    await expect(b.locator('body[data-code="payment"] #qr')).toBeVisible({ timeout: 30_000 });
    await bob.film('#qr', alice);
    await a.click('#code-next');
    await expect(a.locator('body[data-code="receipt"] #qr')).toBeVisible({ timeout: 30_000 });
    await alice.film('#qr', bob);
    await b.click('#code-next');
    await expect(b.locator('#s-done')).toBeVisible({ timeout: 30_000 });
    await wallet.home(b);
    expect(await wallet.balance(b)).toEqual({ available: 750, pending: 0 });
    await wallet.home(a);
    expect((await wallet.balance(a)).available).toBe(4250);
    await a.click('[data-go="history"]');
    await expect(a.locator('#history li')).toHaveCount(3);
    await alice.shot('wallet-13-history-offline');
    await wallet.home(a);

    // Online again: both sync; the ledger settled the payment once.
    await alice.ctx.setOffline(false);
    await bob.ctx.setOffline(false);
    await a.click('#b-sync');
    await expect(a.locator('.toast.show')).toHaveText('Synced', { timeout: 30_000 });
    await alice.shot('wallet-14-synced');
    await b.click('#b-sync');
    await expect(b.locator('.toast.show')).toHaveText('Synced', { timeout: 30_000 });
    await b.click('[data-go="history"]');
    await expect(b.locator('#history li[data-state="settled"]')).toHaveCount(2);
    await bob.shot('wallet-15-history');
    // Bob forgets his PIN: a wrong one is refused, his unlock code sets a
    // new one, which then unlocks the wallet.
    await wallet.home(b);
    await b.click('#b-lock');
    await b.fill('#pin', '000000');
    await b.click('#unlock-go');
    await expect(b.locator('.toast.show')).toContainText('PIN', { timeout: 30_000 });
    await expect(b.locator('#s-lock')).toBeVisible();
    await b.click('[data-go="reset"]');
    await b.fill('#reset-code', bobUnlock);
    await b.fill('#reset-pin', '771133');
    await b.fill('#reset-pin2', '771133');
    await bob.shot('wallet-16-reset-pin');
    await b.click('#reset-go');
    await expect(b.locator('#s-home')).toBeVisible({ timeout: 30_000 });
    await b.click('#b-lock');
    await b.fill('#pin', '771133');
    await b.click('#unlock-go');
    expect((await wallet.balance(b)).available).toBe(750);

    const report = await admin('GET', '/v1/admin/report');
    expect(report.conservation_ok).toBe(true);
    expect(report.settled_payments - before.settled_payments).toBe(2);
    expect((report.double_spends || []).length).toBe((before.double_spends || []).length);
  } catch (e) {
    for (const ph of [alice, bob]) console.log('at the failure, ' + await ph.state());
    throw e;
  } finally {
    await alice.close();
    await bob.close();
  }
});
