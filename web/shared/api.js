// The one way pages talk to the server: JSON in and out, errors carrying the server's
// {"code","message"}, and the bearer token each page keeps for itself.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status; // 0 when the server could not be reached
    this.code = code;
  }
  get offline() { return this.status === 0; }
}

// fetch() with the page's token; resolves to the parsed JSON (or null for an empty body).
export async function api(path, { method = 'GET', body, token, headers = {}, signal } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers: h, signal, cache: 'no-cache',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'offline', 'the server cannot be reached');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    throw new ApiError(res.status, data?.code || `http-${res.status}`, data?.message || text);
  }
  return data;
}

// Every item of a list the server answers a page at a time (offset, limit; the whole count
// in X-Total-Count), fetched page by page.
export async function apiList(path, { token, signal } = {}) {
  const LIMIT = 1000; // the most the server gives in one page
  const items = [];
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}offset=${items.length}&limit=${LIMIT}`, { token, signal });
    items.push(...page);
    if (page.length < LIMIT) return items;
  }
}

// A token remembered by one page (station, member, editor, dashboard) in this browser.
export function tokenStore(page) {
  const key = `yj.token.${page}`;
  return {
    get: () => localStorage.getItem(key),
    set: (t) => localStorage.setItem(key, t),
    clear: () => localStorage.removeItem(key),
  };
}

// A random RFC 4122 v4 id, for watch reports that must stay idempotent across retries.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// document.createElement with attributes and children, so pages never build HTML from strings.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c);
  }
  return node;
}
