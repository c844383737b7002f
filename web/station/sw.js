// The station page's service worker (scope /ui/station/). It keeps the page itself so the
// station opens with the server away, and plays downloaded lessons from Cache Storage:
// - page files: from the network when it answers within a few seconds (the page must match
//   today's API), else the copy kept here;
// - /media/ files: content-addressed, so never stale: a kept copy is always used, answering a
//   Range request (which is how <video> asks) with a proper 206 cut from the kept file;
// - API calls and bandwidth probes are left alone: the page queues what it sends and keeps
//   what it reads.

const SHELL_CACHE = 'yj-station-shell-v1';
const MEDIA_CACHE = 'yj-media-v1';
const NETWORK_WAIT_MS = 4000;
const SHELL = [
  '/ui/station/', '/ui/station/station.css', '/ui/station/app.js', '/ui/station/messages.js',
  '/ui/station/store.js', '/ui/station/outbox.js', '/ui/station/catalogue.js',
  '/ui/station/offline.js', '/ui/station/session.js',
  '/ui/station/lessons.js', '/ui/station/room.js', '/ui/station/format.js',
  '/ui/shared/rendition.js', '/ui/shared/idb.js', '/ui/shared/api.js', '/ui/shared/i18n.js', '/ui/shared/messages.js', '/ui/shared/base.css',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE)
    .then((cache) => cache.addAll(SHELL.map((u) => new Request(u, { cache: 'no-cache' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('yj-station-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // A bandwidth probe (?probe) measures the link, so it must never be answered from here.
  if (url.pathname.startsWith('/media/') && !url.searchParams.has('probe')) event.respondWith(media(request, url));
  else if (url.pathname.startsWith('/ui/')) event.respondWith(shell(request, url));
});

async function shell(request, url) {
  const cache = await caches.open(SHELL_CACHE);
  const key = url.pathname; // ?lang= is read by the page, not the server
  try {
    const answer = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('slow')), NETWORK_WAIT_MS)),
    ]);
    if (answer.ok) await cache.put(key, answer.clone());
    return answer;
  } catch (err) {
    const kept = await cache.match(key);
    if (kept) return kept;
    throw err;
  }
}

async function media(request, url) {
  const cache = await caches.open(MEDIA_CACHE);
  const kept = await cache.match(url.pathname);
  if (!kept) return fetch(request);
  const range = request.headers.get('range');
  return range ? partOf(kept, range) : kept;
}

// A 206 for `bytes=a-b`, `bytes=a-` or `bytes=-n` cut from a kept whole file; 416 outside it.
// Several ranges at once (which players do not ask for) get the whole file, as RFC 9110 allows.
async function partOf(kept, range) {
  const blob = await kept.blob();
  const size = blob.size;
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    return new Response(blob, { status: 200, headers: headersOf(kept, size) });
  }
  let start;
  let end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${size}` } });
  }
  const headers = headersOf(kept, end - start + 1);
  headers.set('Content-Range', `bytes ${start}-${end}/${size}`);
  return new Response(blob.slice(start, end + 1), { status: 206, statusText: 'Partial Content', headers });
}

function headersOf(kept, length) {
  return new Headers({
    'Content-Type': kept.headers.get('content-type') || 'application/octet-stream',
    'Content-Length': String(length),
    'Accept-Ranges': 'bytes',
  });
}
