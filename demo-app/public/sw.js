// The demo's service worker: keeps the built app shell (index.html, its scripts and styles,
// config.json) so the page opens without a network after the first load. Pages and the
// config are fetched network first (fresh when online), hashed assets cache first;
// /api/ (the live cluster panel) is never cached.
const CACHE = 'neuroplex-demo-v1';

async function precache() {
  const cache = await caches.open(CACHE);
  const res = await fetch('./', { cache: 'no-store' });
  const html = await res.clone().text();
  await cache.put('./', res);
  // The shell's own assets, as the built index.html names them.
  const assets = new Set(['./config.json']);
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    const url = new URL(m[1], self.registration.scope);
    if (url.origin === self.location.origin && !url.pathname.startsWith('/api/')) assets.add(url.href);
  }
  await Promise.all([...assets].map((a) => cache.add(a).catch(() => undefined)));
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  const isPage = req.mode === 'navigate';
  if (isPage || url.pathname.endsWith('/config.json')) {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put(isPage ? './' : req, copy));
          }
          return res;
        })
        .catch(async () => (await caches.match(isPage ? './' : req)) ?? Response.error()),
    );
    return;
  }
  event.respondWith(
    caches.match(req).then(
      (hit) =>
        hit ??
        fetch(req).then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put(req, copy));
          }
          return res;
        }),
    ),
  );
});
