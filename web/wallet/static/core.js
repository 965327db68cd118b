// core.js: what the wallet and the POS page share. It starts the Go
// wallet (offpay.wasm: the same packages as the command line) over the
// IndexedDB file tree, draws codes and scans them with the camera. No
// payment rule lives here: every check is in the WebAssembly.
'use strict';

const core = {};

// start loads the file tree, then runs offpay.wasm; it resolves to the
// Go API (globalThis.offpay). base is where the shared files are.
core.start = async (base) => {
  const t0 = performance.now();
  // Ask that the browser never evict this origin's storage to make room:
  // the SE's state is value. An installed app is usually granted it.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  await offpayFS.load();
  const go = new Go();
  const ready = new Promise((resolve) => { globalThis.offpayReady = resolve; });
  const res = fetch(base + 'offpay.wasm');
  let inst;
  try {
    inst = (await WebAssembly.instantiateStreaming(res, go.importObject)).instance;
  } catch (e) { // a server without application/wasm
    const b = await (await fetch(base + 'offpay.wasm')).arrayBuffer();
    inst = (await WebAssembly.instantiate(b, go.importObject)).instance;
  }
  go.run(inst);
  await ready;
  core.startMs = Math.round(performance.now() - t0);
  return globalThis.offpay;
};

// hold takes the wallet's lock for as long as the page lives: two tabs on
// one SE would each keep a copy of its state, and the second to pay would
// sign a counter the first had used (a double spend the ledger revokes
// for). It resolves to false when another tab has it.
core.hold = (name) => new Promise((resolve) => {
  if (!navigator.locks) { resolve(true); return; }
  navigator.locks.request('offpay-' + name, { ifAvailable: true }, (lock) => {
    resolve(!!lock);
    return lock ? new Promise(() => {}) : undefined;
  });
});

// showCode draws text's QR code into img, one pixel per module scaled by
// CSS with image-rendering: pixelated, so its edges stay sharp. A code
// too long for one QR code is shown as an animated code, its frames in
// turn (maxLen: as offpay.frames).
// The previous code is taken off first: the Go that draws the new one
// takes its time on a busy phone, and a screen that already says "show
// this to the payee" must not show the last payment or request meanwhile.
// data-text is set once the new code is on screen, not before.
core.showCode = async (img, text, maxLen = 0) => {
  clearInterval(img.animation);
  img.removeAttribute('src');
  delete img.dataset.text;
  delete img.dataset.frames;
  delete img.dataset.frame;
  for (const u of img.frameURLs || []) URL.revokeObjectURL(u);
  img.frameURLs = [];
  const texts = JSON.parse(await offpay.frames(text, maxLen));
  const urls = [];
  for (const t of texts) urls.push(URL.createObjectURL(new Blob([await offpay.qrPNG(t)], { type: 'image/png' })));
  img.frameURLs = urls;
  img.src = urls[0];
  await img.decode();
  img.dataset.frames = texts.length;
  img.dataset.text = text;
  if (texts.length > 1) {
    let i = 0;
    img.animation = setInterval(() => { i = (i + 1) % texts.length; img.src = img.frameURLs[i]; img.dataset.frame = i; }, 400);
  }
};

// Scanner reads codes from the camera: frames drawn into a canvas, each
// handed to Go's decoder (transport/qr, the command line's), one at a
// time.
class Scanner {
  constructor(video) { this.video = video; this.stream = null; this.stopped = true; }
  async start(onText) {
    this.stopped = false;
    this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    this.video.srcObject = this.stream;
    await this.video.play();
    const canvas = document.createElement('canvas');
    const g = canvas.getContext('2d', { willReadFrequently: true });
    while (!this.stopped) {
      const w = this.video.videoWidth, h = this.video.videoHeight;
      if (w && h) {
        const k = Math.min(1, 640 / Math.max(w, h));
        canvas.width = Math.round(w * k); canvas.height = Math.round(h * k);
        g.drawImage(this.video, 0, 0, canvas.width, canvas.height);
        const d = g.getImageData(0, 0, canvas.width, canvas.height);
        let text = '';
        this.frames = (this.frames || 0) + 1;
        try { text = await offpay.scan(new Uint8Array(d.data.buffer), d.width, d.height); } catch (e) { text = ''; }
        if (text && text.startsWith('OPM1:')) { // one frame of an animated code
          let g = null;
          try { g = JSON.parse(await offpay.gather(text)); } catch (e) { g = null; }
          if (g && !g.done && this.onProgress) this.onProgress(g.have, g.total);
          text = g && g.done ? g.text : '';
        }
        if (text && !this.stopped) { this.stop(); onText(text); return; }
      }
      await new Promise((r) => setTimeout(r, 120));
    }
  }
  stop() {
    this.stopped = true;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.video.srcObject = null;
  }
}
core.Scanner = Scanner;

// registerWorker caches the app for offline use (sw.js).
core.registerWorker = (url) => {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register(url).catch((e) => console.warn('service worker:', e));
};

// autoLock calls lock when the page has been hidden for ms: a phone left
// in a pocket with the wallet open asks for the PIN again.
core.autoLock = (ms, lock) => {
  let timer = 0;
  document.addEventListener('visibilitychange', () => {
    clearTimeout(timer);
    if (document.hidden) timer = setTimeout(lock, ms);
  });
};

// message turns an error from Go into one line for the screen.
core.message = (e) => String(e && e.message || e).replace(/^Error: /, '');
