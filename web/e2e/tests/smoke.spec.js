// The harness works: Chromium opens a page the ledger serves, and the
// screenshot folder takes a picture of it.
const { test, expect } = require('@playwright/test');
const path = require('path');

test('the ledger answers the browser', async ({ page }) => {
  const r = await page.goto('/healthz');
  expect(r.status()).toBe(200);
  expect(await page.textContent('body')).toContain('"status":"ok"');
  await page.screenshot({ path: path.join(process.env.OFFPAY_SCREENSHOTS || 'screenshots', 'smoke-healthz.png') });
});
