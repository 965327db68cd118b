// sw.js: caches the page's files so that it opens with no network after
// the first visit. The ledger's API (/v1/) is never cached. VERSION is
// the hash of the files the binary embeds (web/wallet's handler writes
// it), so a new build replaces the cache.
'use strict';
const VERSION = '__VERSION__';
const CACHE = 'offpay-' + self.registration.scope + '-' + VERSION;
const FILES = __FILES__;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('offpay-' + self.registration.scope) && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const u = new URL(e.request.url);
  if (e.request.method !== 'GET' || u.origin !== location.origin || u.pathname.startsWith('/v1/')) return;
  e.respondWith(caches.open(CACHE).then((c) => c.match(e.request, { ignoreSearch: true }).then((hit) => hit || fetch(e.request))));
});
