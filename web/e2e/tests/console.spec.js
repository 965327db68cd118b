// The operator console (/console) against the real ledger go test started:
// the token prompt, the reconciliation, a double spender caught after a
// clone scenario played with the offpay CLI, actions reflected on screen
// and in the API, and hostile text rendered as text. Screenshots of every
// screen at 360x640 (and two at desktop size) go to OFFPAY_SCREENSHOTS.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const URL = process.env.OFFPAY_URL;
const BIN = process.env.OFFPAY_BIN;
const TOKEN = process.env.OFFPAY_ADMIN_TOKEN;
const TOKEN_FILE = path.join(process.env.OFFPAY_DATA || '', 'admin.token');
const SHOTS = process.env.OFFPAY_SCREENSHOTS || 'screenshots';

// Names of this run (account names are at most 16 characters).
const run = Date.now().toString(36).slice(-5);
const mal = 'mal-' + run, shop = 'shop-' + run, carol = 'carol-' + run;
// A merchant's certified name is free text (24 bytes): markup in it must
// show as text. So must a deposit's reference and a revocation's reason.
const hostileName = '<img src=x onerror=f()>';
const hostileRef = '<img src=x onerror=window.__xss=1>' + run;
const hostileReason = '<b>bold</b><script>window.__xss=2</script>';

async function admin(request, method, p, body) {
  const r = await request.fetch(URL + p, {
    method, headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.status(), method + ' ' + p + ': ' + (await r.text())).toBeLessThan(300);
  return r.status() === 204 ? null : r.json();
}

function cli(args, input) {
  return execFileSync(BIN, args, { env: { ...process.env, OFFPAY_PIN: '246810' }, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

// pay runs request, pay and accept between two wallets, by text codes.
function pay(payer, payee, amount) {
  const req = cli(['wallet', 'request', '--dir', payee, amount, '--text', '-']);
  const payment = cli(['wallet', 'pay', '--dir', payer, '--in', '-', '--text', '-'], req);
  cli(['wallet', 'accept', '--dir', payee, '--in', '-', '--text', '-'], payment);
}

async function shot(page, name, fullPage = true) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, 'console-' + name + '.png'), fullPage });
}

async function signIn(page, hash = '') {
  await page.goto('/console/' + hash);
  await page.fill('#token', TOKEN);
  await page.click('#login-button');
  await expect(page.locator('#app')).toBeVisible();
  await expect(page.locator('main .loading')).toHaveCount(0);
}

let malDevice;

test.describe.serial('operator console', () => {
  test.beforeAll(async ({ request }) => {
    // The demo's clone scenario, with the CLI against the running ledger:
    // Mallory copies her wallet, pays the shop 40.00 and, from the copy,
    // Carol 40.00 with the same money; everyone syncs.
    await admin(request, 'POST', '/v1/admin/accounts', { name: mal });
    await admin(request, 'POST', `/v1/admin/accounts/${mal}/deposit`, { amount_minor: 10000, ref: 'opening-' + mal });
    await admin(request, 'POST', '/v1/admin/accounts', { name: shop, merchant: true, display_name: hostileName });
    await admin(request, 'POST', '/v1/admin/accounts', { name: carol });
    await admin(request, 'POST', `/v1/admin/accounts/${carol}/deposit`, { amount_minor: 500, ref: hostileRef });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offpay-console-'));
    const w = (n) => path.join(dir, n);
    for (const a of [mal, shop, carol]) {
      cli(['wallet', 'init', '--dir', w(a), '--ledger', URL, '--account', a, '--admin-token-file', TOKEN_FILE, '--kdf-memory', '64', '--kdf-time', '3']);
    }
    cli(['wallet', 'reserve', '--dir', w(mal), '50']);
    fs.cpSync(w(mal), w('clone'), { recursive: true });
    pay(w(mal), w(shop), '40.00');
    pay(w('clone'), w(carol), '40.00');
    for (const x of [shop, carol, mal, 'clone']) {
      try {
        cli(['wallet', 'sync', '--dir', w(x)]);
      } catch (e) {
        // Mallory's two phones are refused: the ledger revoked them.
        expect(e.stderr).toContain('revoked');
      }
    }
    const devs = await admin(request, 'GET', '/v1/admin/devices?account=' + mal);
    malDevice = devs[0].device;
  });

  test('a wrong token is refused with a clear message; the right one opens the console', async ({ page }) => {
    await page.goto('/console/');
    await expect(page.locator('#token')).toBeVisible();
    await page.fill('#token', 'not-the-token');
    await page.click('#login-button');
    await expect(page.locator('#login-error')).toContainText('The ledger refused this token');
    await expect(page.locator('#login-error')).toContainText('admin.token');
    await expect(page.locator('#app')).toBeHidden();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await shot(page, 'login-refused');
    await page.fill('#token', TOKEN);
    await page.click('#login-button');
    await expect(page.locator('#app')).toBeVisible();
    await expect(page.locator('#conservation')).toBeVisible();
    await expect(page.locator('#nav a')).toHaveCount(8);
    // Kept for this tab only, and sent as a header, not in a URL.
    expect(await page.evaluate(() => sessionStorage.getItem('offpay-console-token'))).toBe(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
    await page.click('#signout');
    await expect(page.locator('#login')).toBeVisible();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  test('the reconciliation shows conservation HOLDS with the API figures', async ({ page, request }) => {
    const r = await admin(request, 'GET', '/v1/admin/report');
    expect(r.conservation_ok).toBe(true);
    await signIn(page);
    await expect(page.locator('#conservation')).toContainText('Conservation HOLDS');
    const issued = (r.issued_minor / 100).toLocaleString('en', { minimumFractionDigits: 2 }) + ' EUR';
    await expect(page.locator('main')).toContainText('Issued (deposits − withdrawals)' + issued);
    await expect(page.locator('main')).toContainText('Settled payments' + r.settled_payments);
    await expect(page.locator('main')).toContainText('Double spends caught' + r.double_spends.length);
    await shot(page, 'reconciliation');
  });

  test('a failing reconciliation, amounts beyond 2^53 and a token that stops working are shown as the API says', async ({ page, request }) => {
    // The real report, changed on its way to the page: conservation
    // broken by one cent on an issued total beyond 2^53 (a float would
    // round it), then the token refused.
    const r = await admin(request, 'GET', '/v1/admin/report');
    const text = JSON.stringify({ ...r, conservation_ok: false, issued_minor: 0, accounts_minor: 0, outstanding_minor: 0, losses_minor: 0, unassessed_minor: 0 })
      .replace('"issued_minor":0', '"issued_minor":9007199254740993').replace('"accounts_minor":0', '"accounts_minor":9007199254740992');
    await page.route('**/v1/admin/report', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: text }));
    await signIn(page);
    await expect(page.locator('#conservation')).toContainText('Conservation FAILS');
    await expect(page.locator('#conservation')).toContainText('90,071,992,547,409.93 EUR ≠ 90,071,992,547,409.92 EUR');
    await expect(page.locator('#conservation')).toContainText('The totals differ by 0.01 EUR.');
    await shot(page, 'reconciliation-fails');
    await page.unroute('**/v1/admin/report');
    await page.route('**/v1/admin/report', (route) => route.fulfill({ status: 401, contentType: 'application/json',
      body: '{"error":{"code":"unauthorized","message":"administrator token missing or wrong"}}' }));
    await page.click('#refresh');
    await expect(page.locator('#login-error')).toContainText('no longer accepts this token');
    await expect(page.locator('#app')).toBeHidden();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  test('the double spender of the clone scenario is caught, with its proof, revoked and frozen', async ({ page }) => {
    await signIn(page, '#/double-spends');
    const card = page.locator(`article[data-device="${malDevice}"]`);
    await expect(card).toContainText('caught');
    await expect(card).toContainText(mal);
    await expect(card).toContainText('Counter2');
    await expect(card).toContainText('revoked');
    await card.locator('summary').click();
    await expect(card.locator('pre').first()).toHaveText(/^[0-9a-f ]{64,}$/);
    await shot(page, 'double-spends');
    await page.click('#nav a[data-screen="revocations"]');
    await expect(page.locator(`main article[data-device="${malDevice}"]`)).toContainText('(double spend)');
    await shot(page, 'revocations');
    await page.click('#nav a[data-screen="accounts"]');
    await page.fill('main input[type=search]', mal);
    await expect(page.locator('main article')).toHaveCount(1);
    await expect(page.locator(`main article[data-account="${mal}"]`)).toContainText('frozen');
    await shot(page, 'accounts');
    await page.click('#nav a[data-screen="devices"]');
    await page.fill('main input[type=search]', malDevice.slice(0, 10));
    await expect(page.locator('main article')).toHaveCount(1);
    await shot(page, 'devices');
  });

  test('a deposit and an enrolment code made in the console reach the API and the screen', async ({ page, request }) => {
    const before = await admin(request, 'GET', '/v1/admin/accounts/' + carol);
    await signIn(page, '#/accounts/' + carol);
    await page.fill('#deposit-amount', '12.34');
    await page.click('#deposit button[type=submit]');
    await expect(page.locator('#deposit .outcome')).toContainText('Deposited 12.34 EUR');
    const after = await admin(request, 'GET', '/v1/admin/accounts/' + carol);
    expect(after.balance_minor).toBe(before.balance_minor + 1234);
    await expect(page.locator('#balance')).toHaveText((after.balance_minor / 100).toFixed(2) + ' EUR');
    await expect(page.locator('#statement')).toContainText('12.34 EUR');
    // A bad amount is refused before anything is sent.
    await page.fill('#deposit-amount', '1.234');
    await page.click('#deposit button[type=submit]');
    await expect(page.locator('#deposit .outcome')).toContainText('EUR has 2 decimal places');
    expect((await admin(request, 'GET', '/v1/admin/accounts/' + carol)).balance_minor).toBe(after.balance_minor);

    await page.click('#issue-code button[type=submit]');
    await expect(page.locator('#issue-code .outcome')).toContainText('Issued code');
    const code = (await page.locator('#issued-code .code').textContent()).trim();
    expect(code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    const id = (await page.locator('#issue-code .outcome').textContent()).match(/Issued code (\w+)/)[1];
    let codes = await admin(request, 'GET', '/v1/admin/codes');
    expect(codes.find((c) => c.id === id)).toMatchObject({ account: carol, status: 'open' });
    await shot(page, 'account');

    page.on('dialog', (d) => d.accept());
    await page.click('#nav a[data-screen="codes"]');
    const card = page.locator(`article[data-code="${id}"]`);
    await expect(card).toContainText('open');
    await card.locator('button').click();
    await expect(card).toContainText('cancelled');
    codes = await admin(request, 'GET', '/v1/admin/codes');
    expect(codes.find((c) => c.id === id).status).toBe('cancelled');
    await shot(page, 'codes');
  });

  test('hostile text from the ledger renders as text', async ({ page, request }) => {
    // Revoke Carol's device from the console with markup in the reason.
    const [dev] = await admin(request, 'GET', '/v1/admin/devices?account=' + carol);
    page.on('dialog', (d) => d.accept());
    await signIn(page, '#/devices');
    await page.fill('main input[type=search]', dev.device);
    const card = page.locator(`article[data-device="${dev.device}"]`);
    await card.locator('summary').click();
    await card.locator('input[name=reason]').fill(hostileReason);
    await card.locator('button[type=submit]').click();
    await expect(card).toContainText('revoked');
    await expect(card).toContainText(hostileReason);
    const [after] = await admin(request, 'GET', '/v1/admin/devices?account=' + carol);
    expect(after).toMatchObject({ status: 'revoked', reason: hostileReason });

    await page.goto('/console/#/accounts/' + shop);
    await expect(page.locator('main')).toContainText('Certified as' + hostileName);
    await page.goto('/console/#/accounts');
    await expect(page.locator(`article[data-account="${shop}"]`)).toContainText(hostileName);
    await page.goto('/console/#/accounts/' + carol);
    await expect(page.locator('#statement')).toContainText(hostileRef);
    await page.goto('/console/#/revocations');
    await expect(page.locator('main')).toContainText(hostileReason);
    // Nothing became markup, and nothing ran.
    expect(await page.locator('main img, main b, main script').count()).toBe(0);
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
    await page.goto('/console/#/accounts/' + shop);
    await expect(page.locator('main')).toContainText(hostileName);
    expect(await page.locator('main img').count()).toBe(0);
    await shot(page, 'hostile-text');
  });

  test('the charts and the outbox show the settlements', async ({ page, request }) => {
    const a = await admin(request, 'GET', '/v1/admin/activity');
    const total = a.buckets.reduce((s, b) => s + b.payments, 0);
    expect(total).toBeGreaterThanOrEqual(2);
    await signIn(page, '#/activity');
    await expect(page.locator('main')).toContainText('Payments recorded' + total);
    await expect(page.locator('svg.chart')).toHaveCount(3);
    expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThanOrEqual(2);
    await shot(page, 'activity');
    await page.click('#nav a[data-screen="outbox"]');
    await expect(page.locator('main')).toContainText('payment_settled');
    await expect(page.locator('main')).toContainText('double_spend');
    await shot(page, 'outbox');
  });

  test('load time (logged for the README, not asserted)', async ({ browser }) => {
    // From navigation to the reconciliation drawn, the token already in
    // the tab: a cold load (new context, empty cache) and a reload.
    const context = await browser.newContext();
    await context.addInitScript((t) => sessionStorage.setItem('offpay-console-token', t), TOKEN);
    const page = await context.newPage();
    const times = [], bytes = [];
    for (const load of [() => page.goto('/console/'), () => page.reload()]) {
      const t0 = Date.now();
      await load();
      await expect(page.locator('#conservation')).toContainText('HOLDS');
      times.push(Date.now() - t0);
      bytes.push(await page.evaluate(() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
        .filter((e) => !e.name.includes('/v1/')).reduce((s, e) => s + e.encodedBodySize, 0)));
    }
    console.log(`console load: cold ${times[0]} ms (${bytes[0]} bytes of page files), reload ${times[1]} ms (${bytes[1]} bytes)`);
    await context.close();
  });

  test('on a desktop screen', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page);
    await expect(page.locator('#conservation')).toContainText('HOLDS');
    await shot(page, 'desktop-reconciliation', false);
    await page.click('#nav a[data-screen="double-spends"]');
    await expect(page.locator(`article[data-device="${malDevice}"]`)).toBeVisible();
    await shot(page, 'desktop-double-spends', false);
  });
});
