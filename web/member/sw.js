// The member page's service worker (scope /ui/member/): it keeps the page's own files so the
// page opens at home with no network, for the lessons kept in IndexedDB. The network comes
// first when it answers within a few seconds (the page must match today's API); API calls and
// media are left alone: the page queues its reports and plays kept lessons by object URLs.

const SHELL_CACHE = 'yj-member-shell-v1';
const NETWORK_WAIT_MS = 4000;
const SHELL = [
  '/ui/member/', '/ui/member/member.css', '/ui/member/main.js', '/ui/member/messages.js',
  '/ui/member/outbox.js', '/ui/member/study.js', '/ui/member/content.js', '/ui/member/player.js',
  '/ui/member/accounting.js', '/ui/member/attention.js', '/ui/member/text.js', '/ui/member/adapt.js',
  '/ui/member/keep.js', '/ui/member/kept.js', '/ui/shared/api.js', '/ui/shared/i18n.js',
  '/ui/shared/messages.js', '/ui/shared/base.css', '/ui/shared/rendition.js', '/ui/shared/idb.js',
  '/ui/shared/sha256.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE)
    .then((cache) => cache.addAll(SHELL.map((u) => new Request(u, { cache: 'no-cache' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('yj-member-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/ui/')) event.respondWith(shell(event.request, url.pathname));
});

// The network's answer if it comes in time, else the copy kept here, else the network's late
// answer after all (a first visit over a slow link has nothing kept yet).
async function shell(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  const network = fetch(request).then(async (answer) => {
    if (answer.ok) await cache.put(key, answer.clone());
    return answer;
  });
  const waited = new Promise((resolve) => { setTimeout(resolve, NETWORK_WAIT_MS, null); });
  const first = await Promise.race([network.catch(() => null), waited]);
  if (first) return first;
  return (await cache.match(key)) || network;
}
