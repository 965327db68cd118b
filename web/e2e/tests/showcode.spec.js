// Showing a new code takes the old one off the screen at once: while the
// page's Go draws the new code (slow on a busy phone) the image shows
// nothing, never the payment or request shown before, which a payee's
// camera could otherwise read in its place. data-text appears only when
// the new code is on screen (the specs' film() waits for it).
const { test, expect } = require('@playwright/test');
const { Phone } = require('./lib/offpay');

test('showCode: the previous code is gone while the next one is drawn', async () => {
  const phone = new Phone('showcode');
  try {
    const p = await phone.launch();
    const seen = await p.evaluate(async () => {
      const img = document.createElement('img');
      img.className = 'qr';
      document.querySelector('.screen.active').append(img);
      await core.showCode(img, 'OP1:FIRST');
      const first = { src: img.getAttribute('src'), text: img.dataset.text };
      // The next code's drawing is held up, as a busy phone's would be.
      const draw = offpay.qrPNG;
      let release;
      const held = new Promise((r) => { release = r; });
      offpay.qrPNG = async (t) => { await held; return draw(t); };
      const done = core.showCode(img, 'OP1:SECOND');
      await new Promise((r) => setTimeout(r, 50));
      const during = { src: img.getAttribute('src'), text: img.dataset.text ?? null };
      release();
      await done;
      offpay.qrPNG = draw;
      return { first, during, after: { src: img.getAttribute('src'), text: img.dataset.text, w: img.naturalWidth } };
    });
    expect(seen.first.src).toBeTruthy();
    expect(seen.first.text).toBe('OP1:FIRST');
    expect(seen.during).toEqual({ src: null, text: null });
    expect(seen.after.text).toBe('OP1:SECOND');
    expect(seen.after.src).toBeTruthy();
    expect(seen.after.src).not.toBe(seen.first.src);
    expect(seen.after.w).toBeGreaterThan(0);
  } finally {
    await phone.close();
  }
});
