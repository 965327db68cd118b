// idbfs.js, the file system the browser wallet's Go code writes through,
// in a real Chromium with real IndexedDB: what survives a reload is what
// a disk keeps after a power cut (synced files and completed renames),
// a held rename leaves the old file, and errors carry Node's codes,
// which Go maps to its own.
const { test, expect } = require('@playwright/test');

const C = { O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024 };

// boot opens a same-origin document with idbfs.js loaded and its tree
// read from IndexedDB.
async function boot(page) {
  await page.goto('/healthz');
  await page.addScriptTag({ url: '/wallet/idbfs.js' });
  await page.evaluate(async (C) => {
    await offpayFS.load();
    const call = (name, ...args) => new Promise((resolve, reject) =>
      fs[name](...args, (err, v) => (err ? reject(err.code) : resolve(v))));
    globalThis.t = {
      C, call,
      async write(path, text, { sync = true, flags = C.O_WRONLY | C.O_CREAT | C.O_TRUNC } = {}) {
        const fd = await call('open', path, flags, 0o600);
        const b = new TextEncoder().encode(text);
        await call('write', fd, b, 0, b.length, null);
        if (sync) { await call('fsync', fd); await call('close', fd); }
        return fd;
      },
      async read(path) {
        const fd = await call('open', path, 0, 0);
        const st = await call('fstat', fd);
        const b = new Uint8Array(st.size);
        await call('read', fd, b, 0, st.size, 0);
        await call('close', fd);
        return new TextDecoder().decode(b);
      },
      exists: (path) => call('stat', path).then(() => true, () => false),
    };
  }, C);
}

test('idbfs: synced writes and renames survive a reload, unsynced ones do not', async ({ page }) => {
  await boot(page);
  await page.evaluate(async () => {
    await t.call('mkdir', '/d', 0o700);
    await t.write('/d/state', 'old');
    await t.write('/d/lost', 'never synced', { sync: false }); // open, written, not synced or closed
    await t.write('/d/state.tmp', 'new');
    await t.call('rename', '/d/state.tmp', '/d/state');
    await t.write('/d/x', 'x');
    await t.call('unlink', '/d/x');
    // a rename held before its transaction, as a killed tab leaves it
    await t.write('/d/held.tmp', 'held new');
    await t.write('/d/held', 'held old');
    offpayFS.beforeCommit = (puts) => (puts.includes('/d/held') ? new Promise(() => {}) : undefined);
    t.call('rename', '/d/held.tmp', '/d/held');
    await new Promise((r) => setTimeout(r, 100));
  });
  await boot(page);
  const got = await page.evaluate(async () => ({
    state: await t.read('/d/state'),
    tmp: await t.exists('/d/state.tmp'),
    lost: await t.exists('/d/lost'),
    x: await t.exists('/d/x'),
    held: await t.read('/d/held'),
    heldTmp: await t.read('/d/held.tmp'),
    list: await t.call('readdir', '/d'),
  }));
  expect(got).toEqual({ state: 'new', tmp: false, lost: false, x: false, held: 'held old', heldTmp: 'held new', list: ['held', 'held.tmp', 'state'] });
});

test('idbfs: errors Go understands, positioned and appended writes', async ({ page }) => {
  await boot(page);
  const got = await page.evaluate(async () => {
    const code = (p) => p.then(() => 'ok', (c) => c);
    await t.call('mkdir', '/e', 0o700);
    await t.write('/e/f', 'abc');
    const fd = await t.call('open', '/e/f', t.C.O_RDWR, 0);
    const b = new TextEncoder().encode('Z');
    await t.call('write', fd, b, 0, 1, 5); // beyond the end: zero-filled
    await t.call('close', fd);
    await t.write('/e/f', '!', { flags: t.C.O_WRONLY | t.C.O_APPEND });
    await t.call('truncate', '/e/g', 0).catch(() => {});
    return {
      content: Array.from(new TextEncoder().encode(await t.read('/e/f'))),
      noFile: await code(t.call('open', '/e/none', 0, 0)),
      noParent: await code(t.call('open', '/none/f', t.C.O_CREAT | t.C.O_WRONLY, 0o600)),
      excl: await code(t.call('open', '/e/f', t.C.O_CREAT | t.C.O_EXCL | t.C.O_WRONLY, 0o600)),
      mkdirAgain: await code(t.call('mkdir', '/e', 0o700)),
      rmdirFull: await code(t.call('rmdir', '/e')),
      readdirFile: await code(t.call('readdir', '/e/f')),
      isDir: (await t.call('stat', '/e')).isDirectory(),
    };
  });
  expect(got).toEqual({
    content: [97, 98, 99, 0, 0, 90, 33], noFile: 'ENOENT', noParent: 'ENOENT', excl: 'EEXIST',
    mkdirAgain: 'EEXIST', rmdirFull: 'ENOTEMPTY', readdirFile: 'ENOTDIR', isDir: true,
  });
});
