// idbfs: the file system Go's syscall/js expects (globalThis.fs, Node's
// callback API), kept in memory and mirrored to IndexedDB, so that the
// same se/vse and wallet code that writes files on a PC writes here.
//
// Durability is the disk's: a write is in memory until fsync or close;
// fsync, close, rename, unlink, mkdir, truncate each commit in ONE
// IndexedDB transaction (durability "strict") and call Go back only once
// it is complete. se/atomicfile writes a temp file, fsyncs it and renames
// it over the old one: the rename is one transaction that puts the new
// file and deletes the temp one, so a tab killed at any moment leaves the
// old state or the new one, never half of either, and a state Go was told
// is written is on disk.
'use strict';
(() => {
  const DB = 'offpay-fs', STORE = 'files';
  const S_IFDIR = 0o040000, S_IFREG = 0o100000;
  const C = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024, O_DIRECTORY: 65536 };
  const tree = new Map([['/', { dir: true, data: null, mtime: Date.now() }]]);
  const fds = new Map();
  let nextFd = 10, db = null;

  const fail = (code) => { const e = new Error(code); e.code = code; return e; };
  const norm = (p) => {
    const out = [];
    for (const s of String(p).split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') out.pop(); else out.push(s);
    }
    return '/' + out.join('/');
  };
  const parent = (p) => p === '/' ? '/' : norm(p.slice(0, p.lastIndexOf('/')) || '/');

  // commit puts and deletes in one transaction and resolves once it is
  // durable. With no database (tests of this file, a browser without
  // IndexedDB) it is memory only.
  const commit = (puts, dels) => {
    const hook = globalThis.offpayFS.beforeCommit;
    if (!hook) return commitNow(puts, dels);
    return Promise.resolve(hook(puts.map(([p]) => p), dels)).then(() => commitNow(puts, dels));
  };
  const commitNow = (puts, dels) => new Promise((resolve, reject) => {
    if (!db) { resolve(); return; }
    let tx;
    try { tx = db.transaction(STORE, 'readwrite', { durability: 'strict' }); } catch (e) { reject(fail('EIO')); return; }
    const st = tx.objectStore(STORE);
    for (const [p, n] of puts) st.put({ dir: n.dir, data: n.dir ? null : n.data.slice(0, n.size), mtime: n.mtime }, p);
    for (const p of dels) st.delete(p);
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(fail(tx.error && tx.error.name === 'QuotaExceededError' ? 'ENOSPC' : 'EIO'));
  });
  const done = (cb, p, v) => p.then(() => cb(null, v), (e) => cb(e));

  const stat = (n) => ({
    dev: 1, ino: 0, mode: n.dir ? S_IFDIR | 0o700 : S_IFREG | 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0,
    size: n.dir ? 0 : n.size, blksize: 4096, blocks: n.dir ? 0 : Math.ceil(n.size / 512),
    atimeMs: n.mtime, mtimeMs: n.mtime, ctimeMs: n.mtime,
    isDirectory() { return n.dir; },
  });
  const node = (p) => tree.get(norm(p));
  const fdNode = (fd) => fds.get(fd);
  const ensure = (n, size) => {
    if (n.data.length < size) {
      const b = new Uint8Array(Math.max(size, n.data.length * 2, 256));
      b.set(n.data.subarray(0, n.size));
      n.data = b;
    }
  };
  const children = (p) => {
    const pre = p === '/' ? '/' : p + '/';
    const out = [];
    for (const k of tree.keys()) if (k !== p && k.startsWith(pre) && !k.slice(pre.length).includes('/')) out.push(k.slice(pre.length));
    return out.sort();
  };

  const fs = {
    constants: C,
    writeSync(fd, buf) { // Go's stdout and stderr
      const s = new TextDecoder().decode(buf);
      (fd === 2 ? console.warn : console.log)(s.replace(/\n$/, ''));
      return buf.length;
    },
    open(path, flags, mode, cb) {
      const p = norm(path);
      let n = tree.get(p), created = false;
      if (n && (flags & C.O_CREAT) && (flags & C.O_EXCL)) return cb(fail('EEXIST'));
      if (!n) {
        if (!(flags & C.O_CREAT)) return cb(fail('ENOENT'));
        const d = tree.get(parent(p));
        if (!d) return cb(fail('ENOENT'));
        if (!d.dir) return cb(fail('ENOTDIR'));
        n = { dir: false, data: new Uint8Array(0), size: 0, mtime: Date.now() };
        tree.set(p, n);
        created = true;
      } else if (n.dir && (flags & 3) !== 0) {
        return cb(fail('EISDIR'));
      }
      const f = { path: p, node: n, flags, pos: 0, dirty: created };
      if (!n.dir && (flags & C.O_TRUNC)) { n.size = 0; f.dirty = true; }
      const fd = nextFd++;
      fds.set(fd, f);
      cb(null, fd);
    },
    close(fd, cb) {
      const f = fdNode(fd);
      if (!f) return cb(fail('EBADF'));
      fds.delete(fd);
      if (!f.dirty || tree.get(f.path) !== f.node) return cb(null);
      done(cb, commit([[f.path, f.node]], []));
    },
    fsync(fd, cb) {
      const f = fdNode(fd);
      if (!f) return cb(fail('EBADF'));
      if (f.node.dir || !f.dirty || tree.get(f.path) !== f.node) return cb(null);
      f.dirty = false;
      done(cb, commit([[f.path, f.node]], []));
    },
    fstat(fd, cb) { const f = fdNode(fd); f ? cb(null, stat(f.node)) : cb(fail('EBADF')); },
    stat(path, cb) { const n = node(path); n ? cb(null, stat(n)) : cb(fail('ENOENT')); },
    lstat(path, cb) { fs.stat(path, cb); },
    read(fd, buf, off, len, pos, cb) {
      const f = fdNode(fd);
      if (!f) return cb(fail('EBADF'));
      if (f.node.dir) return cb(fail('EISDIR'));
      const at = pos === null || pos === undefined ? f.pos : pos;
      const n = Math.max(0, Math.min(len, f.node.size - at));
      if (n > 0) buf.set(f.node.data.subarray(at, at + n), off);
      if (pos === null || pos === undefined) f.pos += n;
      cb(null, n);
    },
    write(fd, buf, off, len, pos, cb) {
      if (fd === 1 || fd === 2) return cb(null, fs.writeSync(fd, buf.subarray(off, off + len)));
      const f = fdNode(fd);
      if (!f) return cb(fail('EBADF'));
      if ((f.flags & 3) === 0) return cb(fail('EBADF'));
      const n = f.node;
      let at = pos === null || pos === undefined ? f.pos : pos;
      if (f.flags & C.O_APPEND) at = n.size;
      ensure(n, at + len);
      if (at > n.size) n.data.fill(0, n.size, at);
      n.data.set(buf.subarray(off, off + len), at);
      n.size = Math.max(n.size, at + len);
      n.mtime = Date.now();
      if (pos === null || pos === undefined) f.pos = at + len;
      f.dirty = true;
      cb(null, len);
    },
    ftruncate(fd, len, cb) {
      const f = fdNode(fd);
      if (!f) return cb(fail('EBADF'));
      fs._truncate(f.path, f.node, len, cb);
    },
    truncate(path, len, cb) {
      const n = node(path);
      if (!n) return cb(fail('ENOENT'));
      fs._truncate(norm(path), n, len, cb);
    },
    _truncate(p, n, len, cb) {
      if (n.dir) return cb(fail('EISDIR'));
      ensure(n, len);
      if (len > n.size) n.data.fill(0, n.size, len);
      n.size = len;
      done(cb, commit([[p, n]], []));
    },
    mkdir(path, perm, cb) {
      const p = norm(path);
      if (tree.has(p)) return cb(fail('EEXIST'));
      const d = tree.get(parent(p));
      if (!d) return cb(fail('ENOENT'));
      if (!d.dir) return cb(fail('ENOTDIR'));
      const n = { dir: true, data: null, size: 0, mtime: Date.now() };
      tree.set(p, n);
      done(cb, commit([[p, n]], []));
    },
    readdir(path, cb) {
      const p = norm(path), n = tree.get(p);
      if (!n) return cb(fail('ENOENT'));
      if (!n.dir) return cb(fail('ENOTDIR'));
      cb(null, children(p));
    },
    rename(from, to, cb) {
      const a = norm(from), b = norm(to), n = tree.get(a);
      if (!n) return cb(fail('ENOENT'));
      if (n.dir) return cb(fail('ENOSYS'));
      const d = tree.get(parent(b));
      if (!d || !d.dir) return cb(fail('ENOENT'));
      const old = tree.get(b);
      if (old && old.dir) return cb(fail('EISDIR'));
      tree.delete(a);
      tree.set(b, n);
      for (const f of fds.values()) if (f.node === n) f.path = b;
      done(cb, commit([[b, n]], [a]));
    },
    unlink(path, cb) {
      const p = norm(path), n = tree.get(p);
      if (!n) return cb(fail('ENOENT'));
      if (n.dir) return cb(fail('EISDIR'));
      tree.delete(p);
      done(cb, commit([], [p]));
    },
    rmdir(path, cb) {
      const p = norm(path), n = tree.get(p);
      if (!n) return cb(fail('ENOENT'));
      if (!n.dir) return cb(fail('ENOTDIR'));
      if (children(p).length) return cb(fail('ENOTEMPTY'));
      tree.delete(p);
      done(cb, commit([], [p]));
    },
    chmod(path, mode, cb) { node(path) ? cb(null) : cb(fail('ENOENT')); },
    fchmod(fd, mode, cb) { fdNode(fd) ? cb(null) : cb(fail('EBADF')); },
    chown(path, u, g, cb) { cb(null); },
    fchown(fd, u, g, cb) { cb(null); },
    lchown(path, u, g, cb) { cb(null); },
    utimes(path, a, m, cb) { const n = node(path); if (!n) return cb(fail('ENOENT')); n.mtime = m * 1000; cb(null); },
    link(path, link, cb) { cb(fail('ENOSYS')); },
    symlink(path, link, cb) { cb(fail('ENOSYS')); },
    readlink(path, cb) { cb(fail('EINVAL')); },
  };

  // offpayFS.load reads the tree IndexedDB holds; call it before Go
  // starts (wasm_exec.js keeps a globalThis.fs it finds).
  globalThis.offpayFS = {
    load: () => new Promise((resolve, reject) => {
      if (!globalThis.indexedDB) { resolve(false); return; }
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onerror = () => reject(r.error);
      r.onsuccess = () => {
        db = r.result;
        const tx = db.transaction(STORE, 'readonly');
        const cur = tx.objectStore(STORE).openCursor();
        cur.onsuccess = () => {
          const c = cur.result;
          if (!c) { resolve(true); return; }
          const v = c.value;
          tree.set(c.key, v.dir ? { dir: true, data: null, size: 0, mtime: v.mtime }
            : { dir: false, data: v.data, size: v.data.length, mtime: v.mtime });
          c.continue();
        };
        cur.onerror = () => reject(cur.error);
      };
    }),
    // beforeCommit, when a test sets it, runs before each transaction
    // with the paths it puts and deletes; a promise that never settles
    // holds the write, as a tab killed just then would (se/atomicfile's
    // Hook, in the browser).
    beforeCommit: null,
    // files lists what is stored (tests and the page's diagnostics).
    files: () => [...tree.entries()].map(([p, n]) => ({ path: p, dir: n.dir, size: n.dir ? 0 : n.size })),
  };
  globalThis.fs = fs;
})();
