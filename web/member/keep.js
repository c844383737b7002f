// Lessons kept on this phone for study with no network: the server grants the lesson for
// offline play (POST /api/v1/lessons/{id}/offline), and the chosen file comes down in 1 MiB
// Range requests, each part written to IndexedDB as it arrives, so a download cut off by a
// dropped link or a reload goes on where it stopped. Once whole, the parts are checked against
// the file's sha256 and kept as one Blob, which the player plays by an object URL.
import { api } from '../shared/api.js';
import { openDatabase } from '../shared/idb.js';
import { noteTransfer } from '../shared/rendition.js';
import { Sha256 } from '../shared/sha256.js';

const PART = 1024 * 1024;
// kept: `${member}/${lesson}` → {key, member, lesson, title, lang, kind, duration_ms, grant,
// expires, attention, clock_offset_ms, file: {name, url, size, sha256, mime}, parts, done,
// blob (once done), position_ms, answered}; parts: [key, index] → Blob.
const db = openDatabase('yj-member', 1, { kept: {}, parts: {} });
const partsOf = (key) => IDBKeyRange.bound([key, 0], [key, Infinity]);
const active = new Map(); // key → {run, listeners}

export const keyOf = (member, lesson) => `${member}/${lesson}`;

// Why storage refused, for the member: the browser's quota, or too little left for this file.
export class QuotaError extends Error {
  constructor(need, free) {
    super('quota');
    this.name = 'QuotaError';
    this.need = need;
    this.free = free;
  }
}

// Every lesson this member keeps (or is downloading), newest grant first.
export async function list(member) {
  const all = await db.entries('kept', IDBKeyRange.bound(`${member}/`, `${member}/\uffff`));
  return all.map(([, r]) => r).sort((a, b) => (b.expires || '').localeCompare(a.expires || ''));
}

export const get = (member, lesson) => db.get('kept', keyOf(member, lesson));

export async function update(record, patch) {
  const next = { ...record, ...patch };
  await db.put('kept', next, record.key);
  return next;
}

export async function remove(record) {
  await db.tx(['kept', 'parts'], 'readwrite', (s) => {
    s.parts.delete(partsOf(record.key));
    s.kept.delete(record.key);
  });
}

export const downloading = (record) => active.has(record.key);

// Asks the server for a grant and starts keeping the file `name` (or the lightest video):
// resolves to the record once the download has begun, with `run` settling when it is whole.
export async function keep(ctx, lesson, name, onProgress) {
  const lang = encodeURIComponent(ctx.lang);
  const asked = Date.now();
  const grant = await api(`/api/v1/lessons/${encodeURIComponent(lesson)}/offline?lang=${lang}`, {
    method: 'POST', token: ctx.token,
  });
  const file = grant.files.find((f) => f.name === name)
    || grant.files.find((f) => f.name !== 'audio') || grant.files[0];
  await roomFor(file.size);
  const old = await get(ctx.member.id, lesson);
  if (old) await remove(old);
  const record = {
    key: keyOf(ctx.member.id, lesson), member: ctx.member.id, lesson,
    title: grant.title, lang: grant.lang, kind: grant.kind, duration_ms: grant.duration_ms,
    grant: grant.grant, expires: grant.expires, attention: grant.attention,
    // The server's clock less this phone's, so the grant's checks fall due on time offline.
    clock_offset_ms: grant.attention ? grant.attention.issued_ms - Math.round((asked + Date.now()) / 2) : 0,
    file, parts: 0, done: false, position_ms: old?.position_ms || 0, answered: 0,
  };
  await db.put('kept', record, record.key);
  return { record, run: resume(record, onProgress) };
}

async function roomFor(size) {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (estimate?.quota) {
    const free = estimate.quota - (estimate.usage || 0);
    // The parts and the whole file are both stored for a moment before the parts go.
    if (free < size * 2.1) throw new QuotaError(size * 2.1, free);
  }
  navigator.storage?.persist?.().catch(() => {});
}

async function fetchPart(url, from, to, onBytes) {
  const res = await fetch(url, { headers: { Range: `bytes=${from}-${to}` }, cache: 'no-store' });
  if (res.status !== 206 && !(res.status === 200 && from === 0)) {
    throw new Error(`HTTP ${res.status} ${res.statusText}`);
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
  if (blob.size !== to - from + 1) throw new Error(`part ${from}-${to} came back with ${blob.size} bytes`);
  return blob;
}

// Fetches the parts still missing, then checks and keeps the whole. onProgress(fraction);
// rejects, keeping the parts so far, when cut off (a QuotaError when storage is full).
export function resume(record, onProgress = () => {}) {
  const going = active.get(record.key);
  if (going) {
    going.listeners.add(onProgress);
    return going.run;
  }
  const listeners = new Set([onProgress]);
  const progress = (f) => { for (const fn of listeners) fn(f); };
  const run = (async () => {
    const { file } = record;
    const parts = Math.max(1, Math.ceil(file.size / PART));
    let current = (await db.get('kept', record.key)) || record;
    progress(current.parts / parts);
    for (let i = current.parts; i < parts; i++) {
      const from = i * PART;
      const to = Math.min(file.size, from + PART) - 1;
      const started = performance.now();
      const blob = await fetchPart(file.url, from, to, (got) => progress((from + got) / file.size));
      noteTransfer(blob.size, performance.now() - started);
      current = { ...current, parts: i + 1 };
      await stored(db.tx(['parts', 'kept'], 'readwrite', (s) => {
        s.parts.put(blob, [record.key, i]);
        s.kept.put(current, record.key);
      }));
    }
    const pieces = (await db.entries('parts', partsOf(record.key))).map(([, b]) => b);
    const hash = new Sha256();
    for (const piece of pieces) hash.update(new Uint8Array(await piece.arrayBuffer()));
    const sha256 = hash.hex();
    if (sha256 !== file.sha256) {
      await update(current, { parts: 0 });
      await db.tx('parts', 'readwrite', (s) => s.parts.delete(partsOf(record.key)));
      throw new Error(`sha256 ${sha256} is not the file's ${file.sha256}: downloading it again`);
    }
    const whole = new Blob(pieces, { type: file.mime });
    await stored(db.tx(['parts', 'kept'], 'readwrite', (s) => {
      s.parts.delete(partsOf(record.key));
      s.kept.put({ ...current, done: true, blob: whole, sha256_checked: sha256 }, record.key);
    }));
    progress(1);
  })();
  active.set(record.key, { run, listeners });
  run.finally(() => active.delete(record.key)).catch(() => {});
  return run;
}

// A write refused for want of space becomes a QuotaError.
async function stored(write) {
  try {
    return await write;
  } catch (e) {
    if (e?.name === 'QuotaExceededError') throw new QuotaError(0, 0);
    throw e;
  }
}
