// Helpers of the wallet and POS specs: the ledger's admin API, browsers
// whose fake camera films a code another browser rendered, and the
// wallet's screens.
const { chromium, expect } = require('@playwright/test');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromiumArgs } = require('../../playwright.config');

const URL = process.env.OFFPAY_URL;
const TOKEN = process.env.OFFPAY_ADMIN_TOKEN;
const SHOTS = process.env.OFFPAY_SCREENSHOTS || path.join(__dirname, '..', '..', 'screenshots');
const PIN = '482913';

// admin calls the ledger's administrator API.
async function admin(method, p, body) {
  const r = await fetch(URL + p, {
    method,
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// codePNG has the operator's command line issue a one-time enrolment code
// for an existing account as a QR image (offpay ledger code issue --out),
// through the running ledger.
function codePNG(name) {
  const file = path.join(tmp, name + '-code.png');
  execFileSync(process.env.OFFPAY_BIN, ['ledger', 'code', 'issue', '--data', process.env.OFFPAY_DATA, name, '--out', file]);
  return fs.readFileSync(file);
}

// account creates an account with a deposit and returns a one-time
// enrolment code for it (none when code is false).
async function account(name, depositMinor, merchant = false, code = true) {
  await admin('POST', '/v1/admin/accounts', merchant ? { name, merchant, display_name: name } : { name });
  if (depositMinor) await admin('POST', `/v1/admin/accounts/${name}/deposit`, { amount_minor: depositMinor, ref: 'e2e-' + name });
  if (!code) return null;
  const c = await admin('POST', `/v1/admin/accounts/${name}/codes`, { ttl_seconds: 3600 });
  return `${name}/${c.code}`;
}

const out = process.env.OFFPAY_E2E_OUT || os.tmpdir();
fs.mkdirSync(out, { recursive: true });
const tmp = fs.mkdtempSync(path.join(out, 'phones-'));

// Phone is one person's browser profile: its IndexedDB and service worker
// survive a relaunch, as a phone's storage survives a closed tab. Its
// fake camera plays the file this.camera, which Chromium reads again at
// every getUserMedia: another phone's film() puts a code in front of it.
class Phone {
  constructor(name) {
    this.name = name; this.dir = path.join(tmp, name); this.ctx = null; this.page = null;
    this.camera = path.join(tmp, name + '-camera.y4m');
    put(this.camera, y4m(640, 480, white(640, 480)));
  }

  async launch({ offline = false, page = 'wallet' } = {}) {
    await this.close();
    const args = [...chromiumArgs, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--use-file-for-fake-video-capture=' + this.camera];
    this.ctx = await chromium.launchPersistentContext(this.dir, {
      executablePath: process.env.OFFPAY_CHROMIUM || '/usr/bin/chromium',
      args, viewport: { width: 360, height: 640 }, offline, permissions: ['camera'],
    });
    this.ctx.setDefaultTimeout(30_000); // a stuck step fails at its line, not at the test's timeout
    this.page = this.ctx.pages()[0] || await this.ctx.newPage();
    this.page.on('console', (m) => { if (m.text().startsWith('scanned')) console.log(`${this.name}: ${m.text()}`); });
    this.page.on('pageerror', (e) => console.log(`${this.name}: page error: ${e.message}`));
    await this.page.goto(`${URL}/${page}/`);
    await expect(this.page.locator('body[data-ready="true"]')).toHaveCount(1, { timeout: 60_000 });
    return this.page;
  }

  async close() {
    if (this.ctx) await this.ctx.close().catch(() => {});
    this.ctx = null; this.page = null;
  }

  // state tells what this phone's screen and camera were doing, for a
  // failed test's log: a scan that read nothing says whether the camera
  // played (its size, frames drawn) or the decoder never answered.
  async state() {
    if (!this.page) return `${this.name}: closed`;
    try {
      return `${this.name}: ` + await this.page.evaluate(() => {
        const v = document.getElementById('video');
        const s = typeof scanner !== 'undefined' ? scanner : null; // eslint-disable-line no-undef
        return JSON.stringify({
          screen: document.querySelector('.screen.active')?.id, toast: document.getElementById('toast')?.textContent,
          scanning: s ? !s.stopped : null, frames: s ? s.frames || 0 : null,
          video: v ? { w: v.videoWidth, h: v.videoHeight, ready: v.readyState, t: Math.round(v.currentTime * 10) / 10 } : null,
        });
      });
    } catch (e) { return `${this.name}: ${e.message}`; }
  }

  async shot(name) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await this.page.screenshot({ path: path.join(SHOTS, name + '.png') });
  }

  // cached waits until the service worker holds the app: from then on
  // the page opens with no network.
  async cached() {
    await this.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      for (let i = 0; i < 300; i++) {
        if (await caches.match('offpay.wasm')) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the service worker did not cache the app');
    });
  }

  // film puts the code on screen in front of the other phone's camera:
  // the rendered image, on a white 640x480 frame, as a y4m video (4:2:0,
  // full range BT.601), which Chromium's fake camera loops. The frame is
  // converted in the page, where typed arrays make it quick.
  // The screen that shows a code is visible before its code is drawn
  // (the page's Go makes the PNG, slow on a busy machine), so film waits
  // for the image's data-text, which core.showCode sets once the new code
  // is on screen: filming earlier put a blank square, or the code shown
  // before on the same image, in front of the camera, and the other phone
  // never read the code it waited for.
  async film(selector, other) {
    const img = this.page.locator(selector + '[data-text]');
    await expect(img).toBeVisible({ timeout: 30_000 });
    await this.filmPNG(await img.screenshot(), other);
  }

  // filmPNG puts a PNG image in front of the other phone's camera.
  async filmPNG(png, other) {
    put(other.camera, y4m(640, 480, await this.yuv(png)));
  }

  // filmPNGs shows the other phone's camera a sequence of images (the
  // frames of an animated code), each for `hold` video frames at 10 fps,
  // looped.
  async filmPNGs(pngs, other, hold = 3) {
    const frames = [];
    for (const png of pngs) { const f = await this.yuv(png); for (let i = 0; i < hold; i++) frames.push(f); }
    put(other.camera, y4mFrames(640, 480, frames));
  }

  // yuv converts a PNG to one 640x480 4:2:0 frame, the image centred on
  // white.
  async yuv(png) {
    const b64 = await this.page.evaluate(async (src) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + src;
      await img.decode();
      const w = 640, h = 480;
      const c = document.createElement('canvas');
      c.width = w; c.height = h;
      const g = c.getContext('2d');
      g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
      g.imageSmoothingEnabled = false;
      const k = Math.min(440 / img.width, 440 / img.height);
      g.drawImage(img, (w - img.width * k) / 2, (h - img.height * k) / 2, img.width * k, img.height * k);
      const px = g.getImageData(0, 0, w, h).data;
      const out = new Uint8Array(w * h * 3 / 2);
      const U = w * h, V = U + w * h / 4;
      for (let i = 0, j = 0; i < w * h; i++, j += 4) out[i] = 0.299 * px[j] + 0.587 * px[j + 1] + 0.114 * px[j + 2];
      for (let y = 0; y < h / 2; y++) {
        for (let x = 0; x < w / 2; x++) {
          let r = 0, gg = 0, bb = 0;
          for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
            const j = 4 * ((2 * y + dy) * w + 2 * x + dx);
            r += px[j] / 4; gg += px[j + 1] / 4; bb += px[j + 2] / 4;
          }
          out[U + y * w / 2 + x] = Math.max(0, Math.min(255, -0.168736 * r - 0.331264 * gg + 0.5 * bb + 128));
          out[V + y * w / 2 + x] = Math.max(0, Math.min(255, 0.5 * r - 0.418688 * gg - 0.081312 * bb + 128));
        }
      }
      let s = '';
      for (let i = 0; i < out.length; i += 0x8000) s += String.fromCharCode.apply(null, out.subarray(i, i + 0x8000));
      return btoa(s);
    }, png.toString('base64'));
    return Buffer.from(b64, 'base64');
  }
}

// put replaces a camera's film whole: written beside it and renamed over
// it, so a camera that opens it meanwhile reads the old film or the new
// one, never a truncated file.
function put(file, data) {
  fs.writeFileSync(file + '.part', data);
  fs.renameSync(file + '.part', file);
}

// y4m wraps one 4:2:0 frame (Y, then U, then V) as a YUV4MPEG2 video of
// two frames.
function y4m(w, h, yuv) { return y4mFrames(w, h, [yuv, yuv]); }

// y4mFrames makes a YUV4MPEG2 video of 4:2:0 frames at 10 fps.
function y4mFrames(w, h, frames) {
  const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`)];
  for (const f of frames) parts.push(Buffer.from('FRAME\n'), f);
  return Buffer.concat(parts);
}

// white is a blank 4:2:0 frame: what a camera sees before a code is shown.
function white(w, h) {
  return Buffer.concat([Buffer.alloc(w * h, 255), Buffer.alloc(w * h / 2, 128)]);
}

// The wallet's screens.
const wallet = {
  async enrol(page, code) {
    await expect(page.locator('#s-enrol')).toBeVisible();
    if (code !== null) await page.fill('#enrol-code', code); // null: already scanned
    await page.fill('#enrol-pin', PIN);
    await page.fill('#enrol-pin2', PIN);
    await page.click('#enrol-go');
    await expect(page.locator('#s-unlock-code')).toBeVisible({ timeout: 30_000 });
    await expect(page.locator('#unlock-code')).toHaveText(/\w{4}-\w{4}/);
  },
  async unlock(page) {
    await expect(page.locator('#s-lock')).toBeVisible();
    await page.fill('#pin', PIN);
    await page.click('#unlock-go');
    await expect(page.locator('#s-home')).toBeVisible({ timeout: 30_000 });
  },
  // balance reads the home screen: available and pending, minor units.
  async balance(page) {
    await expect(page.locator('#s-home')).toBeVisible();
    await expect(page.locator('body[data-available]')).toHaveCount(1);
    return page.evaluate(() => ({ available: Number(document.body.dataset.available), pending: Number(document.body.dataset.pending) }));
  },
  async home(page) {
    await page.locator('.screen.active [data-go="home"]').first().click();
    await expect(page.locator('#s-home')).toBeVisible();
  },
};

module.exports = { admin, account, codePNG, Phone, wallet, SHOTS, PIN, URL };
