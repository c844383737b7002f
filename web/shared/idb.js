// IndexedDB made plain for the pages: one database per page, opened once, with transactions
// that resolve only once committed (durable), so what a power cut must not lose is on disk.

// Resolves with a request's result.
export function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// The database `name` at `version` with `stores` (name → createObjectStore options), created as
// needed: {tx, get, put, del, count, entries, first}.
export function openDatabase(name, version, stores) {
  let opening = null;
  const open = () => {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const req = indexedDB.open(name, version);
        req.onupgradeneeded = () => {
          for (const [store, opts] of Object.entries(stores)) {
            if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store, opts);
          }
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return opening;
  };

  // Runs `work(stores)` in one transaction and resolves once it is committed, with whatever
  // `work` resolved to.
  async function tx(names, mode, work) {
    const db = await open();
    const list = Array.isArray(names) ? names : [names];
    const t = db.transaction(list, mode, { durability: 'strict' });
    const open_ = Object.fromEntries(list.map((n) => [n, t.objectStore(n)]));
    const committed = new Promise((resolve, reject) => {
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error('transaction aborted'));
    });
    const result = await work(open_);
    await committed;
    return result;
  }

  const get = (store, key) => tx(store, 'readonly', (s) => done(s[store].get(key)));
  const put = (store, value, key) => tx(store, 'readwrite', (s) => done(s[store].put(value, key)));
  const del = (store, key) => tx(store, 'readwrite', (s) => done(s[store].delete(key)));
  const count = (store) => tx(store, 'readonly', (s) => done(s[store].count()));

  // [[key, value], …] in key order.
  const entries = (store, range) => tx(store, 'readonly', async (s) => {
    const [keys, values] = await Promise.all([
      done(s[store].getAllKeys(range)), done(s[store].getAll(range)),
    ]);
    return keys.map((k, i) => [k, values[i]]);
  });

  // The first entry in key order, or null.
  const first = (store) => tx(store, 'readonly', (s) => new Promise((resolve, reject) => {
    const req = s[store].openCursor();
    req.onsuccess = () => resolve(req.result ? [req.result.key, req.result.value] : null);
    req.onerror = () => reject(req.error);
  }));

  return { tx, get, put, del, count, entries, first };
}
