// Playwright for offpay's browser tests. Run through `go test ./web/e2e`,
// which builds offpay, starts a real `offpay ledger serve` on loopback and
// passes its address in OFFPAY_URL (see e2e_test.go). Chromium is Debian's
// (/usr/bin/chromium, or OFFPAY_CHROMIUM); Playwright downloads no browser.
const { defineConfig } = require('@playwright/test');

// Without the background-networking flags Chromium keeps dialling Google's
// hosts, which this network refuses.
const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

module.exports = defineConfig({
  testDir: './tests',
  timeout: 120_000,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: process.env.OFFPAY_E2E_OUT || 'test-results',
  use: {
    baseURL: process.env.OFFPAY_URL,
    viewport: { width: 360, height: 640 },
    launchOptions: {
      executablePath: process.env.OFFPAY_CHROMIUM || '/usr/bin/chromium',
      args: chromiumArgs,
    },
  },
});
module.exports.chromiumArgs = chromiumArgs;
