// Animated codes: a message cut into frames (transport/qr's multi-frame
// form) shown in turn by one page is read whole by another page's camera,
// through the wallet's own scanner, decoder and assembler.
const { test, expect } = require('@playwright/test');
const crypto = require('crypto');
const { Phone } = require('./lib/offpay');

// base45 is RFC 9285, to make an offpay text form of arbitrary bytes.
function base45(b) {
  const A = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const n = b[i] * 256 + b[i + 1];
    s += A[n % 45] + A[Math.floor(n / 45) % 45] + A[Math.floor(n / 2025)];
  }
  if (b.length % 2) s += A[b[b.length - 1] % 45] + A[Math.floor(b[b.length - 1] / 45)];
  return s;
}

test('animated code: frames shown in turn are read whole by the camera', async () => {
  const shower = new Phone('mf-shower'), reader = new Phone('mf-reader');
  try {
    const text = 'OP1:' + base45(crypto.randomBytes(700));
    const a = await shower.launch();
    const n = await a.evaluate(async (text) => {
      const img = document.createElement('img');
      img.id = 'animated'; img.className = 'qr';
      document.querySelector('.screen.active').append(img);
      await core.showCode(img, text, 400);
      return Number(img.dataset.frames);
    }, text);
    expect(n).toBeGreaterThan(2);
    await shower.shot('multiframe-animated');
    const pngs = [];
    for (let i = 0; i < n; i++) {
      await a.evaluate(async (i) => {
        const img = document.getElementById('animated');
        clearInterval(img.animation);
        img.src = img.frameURLs[i];
        await img.decode();
      }, i);
      pngs.push(await a.locator('#animated').screenshot());
    }
    const b = await reader.launch();
    await shower.filmPNGs(pngs, reader);
    const got = await b.evaluate(() => new Promise((resolve, reject) => {
      const video = document.createElement('video');
      video.muted = true;
      document.body.append(video);
      const s = new core.Scanner(video);
      const seen = [];
      s.onProgress = (have, total) => seen.push(`${have}/${total}`);
      s.start((t) => resolve({ text: t, seen })).catch(reject);
      setTimeout(() => { s.stop(); reject(new Error('not read in 30 s: ' + seen.join(' '))); }, 30_000);
    }));
    expect(got.text).toBe(text);
    console.log(`animated code of ${n} frames read; progress seen: ${got.seen.join(' ')}`);
  } finally {
    await shower.close();
    await reader.close();
  }
});
