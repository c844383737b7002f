// The station's own durable storage (IndexedDB): the outbox of operations waiting for the
// server, the ones it refused, the group session in progress, the catalogue and member list
// last seen, and the parts of lessons being downloaded. Everything a power cut must not lose.

import { openDatabase, done } from '../shared/idb.js';

const NAME = 'yj-station';
const VERSION = 1;

// Stores: outbox and refused keep insertion order (autoIncrement keys = sending order).
const STORES = {
  outbox: { autoIncrement: true },
  refused: { autoIncrement: true },
  meta: {}, // 'catalogue', 'members', 'me', 'session' → plain values
  downloads: {}, // media URL → {url, lesson, lang, path, mime, size, parts, done}
  parts: {}, // [url, index] → Blob
};

export const { tx, get, put, del, count, entries, first } = openDatabase(NAME, VERSION, STORES);

// Key range of every part of one download.
export const partsOf = (url) => IDBKeyRange.bound([url, 0], [url, Infinity]);
export { done as request };
