// The station's own durable storage (IndexedDB): the outbox of operations waiting for the
// server, the ones it refused, the group session in progress, the catalogue and member list
// last seen, and the parts of lessons being downloaded. Everything a power cut must not lose.

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

let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        for (const [name, opts] of Object.entries(STORES)) {
          if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name, opts);
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opening;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Runs `work(stores)` in one transaction and resolves once it is committed (durable), with
// whatever `work` resolved to.
export async function tx(names, mode, work) {
  const db = await open();
  const list = Array.isArray(names) ? names : [names];
  const t = db.transaction(list, mode, { durability: 'strict' });
  const stores = Object.fromEntries(list.map((n) => [n, t.objectStore(n)]));
  const committed = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  const result = await work(stores);
  await committed;
  return result;
}

export const get = (store, key) => tx(store, 'readonly', (s) => done(s[store].get(key)));
export const put = (store, value, key) => tx(store, 'readwrite', (s) => done(s[store].put(value, key)));
export const del = (store, key) => tx(store, 'readwrite', (s) => done(s[store].delete(key)));
export const count = (store) => tx(store, 'readonly', (s) => done(s[store].count()));

// [[key, value], …] in key order.
export function entries(store, range) {
  return tx(store, 'readonly', async (s) => {
    const [keys, values] = await Promise.all([
      done(s[store].getAllKeys(range)), done(s[store].getAll(range)),
    ]);
    return keys.map((k, i) => [k, values[i]]);
  });
}

// The first entry in key order, or null.
export function first(store) {
  return tx(store, 'readonly', (s) => new Promise((resolve, reject) => {
    const req = s[store].openCursor();
    req.onsuccess = () => resolve(req.result ? [req.result.key, req.result.value] : null);
    req.onerror = () => reject(req.error);
  }));
}

// Key range of every part of one download.
export const partsOf = (url) => IDBKeyRange.bound([url, 0], [url, Infinity]);
export { done as request };
