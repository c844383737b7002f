// Lessons kept on this computer: downloaded in 1 MiB Range requests, each part written to
// IndexedDB as it arrives, so a download cut off by a dropped link continues where it stopped
// (even after a reload); once whole, the file goes into the Cache Storage that the service
// worker (sw.js) plays from. Media URLs name their content's hash, so a kept file never goes
// stale.
import * as db from './store.js';
import { noteTransfer } from '../shared/rendition.js';

export const MEDIA_CACHE = 'yj-media-v1';
const PART = 1024 * 1024;
const active = new Map();

// Registers the worker that serves the page and kept lessons when the server is away.
export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  return navigator.serviceWorker.register('/ui/station/sw.js', { scope: '/ui/station/' });
}

// URLs (paths) of every file kept whole.
export async function keptUrls() {
  if (!('caches' in self)) return new Set();
  const cache = await caches.open(MEDIA_CACHE);
  return new Set((await cache.keys()).map((r) => new URL(r.url).pathname));
}

// The station's tag (GET /api/v1/me), which media requests carry so the server knows what it
// delivered here: a station's reports are credited only for lessons it was delivered.
let deliveryTag = '';
export const setDeliveryTag = (tag) => { deliveryTag = tag || ''; };
export const tagged = (url) => (deliveryTag
  ? `${url}${url.includes('?') ? '&' : '?'}st=${encodeURIComponent(deliveryTag)}` : url);

// Whether this page is downloading `url` now.
export const downloading = (url) => active.has(url);

async function fetchPart(url, from, to, onBytes) {
  const res = await fetch(tagged(url), { headers: { Range: `bytes=${from}-${to}` }, cache: 'no-store' });
  if (res.status !== 206 && !(res.status === 200 && from === 0)) {
    throw new Error(`${url}: ${res.status} ${res.statusText}`);
  }
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
    onBytes(got);
  }
  const blob = new Blob(chunks);
  if (blob.size !== to - from + 1) throw new Error(`${url}: part ${from}-${to} came back with ${blob.size} bytes`);
  return blob;
}

// Downloads `file` = {url, size, mime, lesson, lang, name}; onProgress(fraction) as bytes arrive.
// Resolves once the file is kept whole; rejects (keeping the parts so far) when cut off.
export function download(file, onProgress = () => {}) {
  const going = active.get(file.url);
  if (going) {
    // A second view of the same download (the list was redrawn): it hears the progress too.
    going.listeners.add(onProgress);
    return going.run;
  }
  const listeners = new Set([onProgress]);
  const progress = (f) => { for (const fn of listeners) fn(f); };
  const run = (async () => {
    navigator.storage?.persist?.().catch(() => {});
    const parts = Math.max(1, Math.ceil(file.size / PART));
    let record = (await db.get('downloads', file.url)) || { ...file, parts: 0, done: false };
    for (let i = record.parts; i < parts; i++) {
      const from = i * PART;
      const to = Math.min(file.size, from + PART) - 1;
      const started = performance.now();
      const blob = await fetchPart(file.url, from, to, (got) => progress((from + got) / file.size));
      noteTransfer(blob.size, performance.now() - started);
      record = { ...record, parts: i + 1 };
      await db.tx(['parts', 'downloads'], 'readwrite', (s) => {
        s.parts.put(blob, [file.url, i]);
        s.downloads.put(record, file.url);
      });
    }
    const stored = await db.entries('parts', db.partsOf(file.url));
    const whole = new Blob(stored.map(([, b]) => b), { type: file.mime });
    if (whole.size !== file.size) throw new Error(`${file.url}: ${whole.size} of ${file.size} bytes`);
    const cache = await caches.open(MEDIA_CACHE);
    await cache.put(file.url, new Response(whole, {
      headers: { 'Content-Type': file.mime, 'Content-Length': String(file.size) },
    }));
    await db.tx(['parts', 'downloads'], 'readwrite', (s) => {
      s.parts.delete(db.partsOf(file.url));
      s.downloads.put({ ...record, done: true }, file.url);
    });
    progress(1);
  })();
  active.set(file.url, { run, listeners });
  run.finally(() => active.delete(file.url)).catch(() => {});
  return run;
}

export async function remove(url) {
  const cache = await caches.open(MEDIA_CACHE);
  await cache.delete(url);
  await db.tx(['parts', 'downloads'], 'readwrite', (s) => {
    s.parts.delete(db.partsOf(url));
    s.downloads.delete(url);
  });
}
