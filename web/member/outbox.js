// Watch reports waiting for the server, kept in localStorage (synchronous, so a report made
// while the page is closing is saved before it goes) and sent with fetch keepalive, so the
// Authorization header goes along even from a closing page. A report keeps its id through
// every retry: the server answers a second delivery "duplicate" and credits nothing twice.

const BATCH = 40; // well under keepalive's 64 KB body limit
const RETRY_MS = [2000, 5000, 15000, 30000, 60000];

export class Outbox {
  // onEvent({kind: 'count'|'sent'|'rejected'|'failed'|'auth', ...}) keeps the page informed.
  constructor(member, token, onEvent = () => {}) {
    this.key = `yj.member.outbox.${member}`;
    this.token = token;
    this.onEvent = onEvent;
    this.sending = null;
    this.failures = 0;
    this.timer = null;
    this.online = () => this.send();
    addEventListener('online', this.online);
  }

  // Stops retrying (sign-out); what is waiting stays stored for this member's next sign-in.
  close() {
    clearTimeout(this.timer);
    removeEventListener('online', this.online);
  }

  list() {
    try { return JSON.parse(localStorage.getItem(this.key) || '[]'); } catch { return []; }
  }

  save(list) {
    if (list.length) localStorage.setItem(this.key, JSON.stringify(list));
    else localStorage.removeItem(this.key);
    this.onEvent({ kind: 'count', count: list.length });
  }

  get count() { return this.list().length; }

  add(report) {
    this.save([...this.list(), report]);
  }

  // Sends what is waiting; resolves when the outbox is empty or a send failed (a retry is then
  // scheduled). With keepalive (page closing) it fires one request and does not wait.
  send({ keepalive = false } = {}) {
    if (keepalive) {
      const batch = this.list().slice(0, BATCH);
      if (batch.length) this.post(batch, true).catch(() => {});
      return Promise.resolve();
    }
    if (!this.sending) this.sending = this.drain().finally(() => { this.sending = null; });
    return this.sending;
  }

  async drain() {
    clearTimeout(this.timer);
    for (;;) {
      const batch = this.list().slice(0, BATCH);
      if (!batch.length) return true;
      let answer;
      try {
        answer = await this.post(batch, true);
      } catch (e) {
        this.failed(e);
        return false;
      }
      this.failures = 0;
      this.settle(batch, answer.results || []);
    }
  }

  async post(batch, keepalive) {
    const device_clock = new Date().toISOString();
    const body = JSON.stringify({ reports: batch.map((r) => ({ ...r, device_clock })) });
    let res;
    try {
      res = await fetch('/api/v1/watch', {
        method: 'POST', keepalive, cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${this.token}` },
        body,
      });
    } catch {
      throw Object.assign(new Error('the server cannot be reached'), { status: 0 });
    }
    const text = await res.text();
    let data = null;
    try { data = JSON.parse(text); } catch { data = null; }
    if (!res.ok) {
      throw Object.assign(new Error(data?.message || text || `HTTP ${res.status}`), {
        status: res.status, code: data?.code,
      });
    }
    return data || {};
  }

  // Removes what the server settled: credited, duplicate (already there) and rejected (never
  // acceptable, so retrying is pointless; the reason is shown).
  settle(batch, results) {
    const done = new Set();
    let credited = 0;
    for (const r of results) {
      done.add(r.id);
      if (r.status === 'rejected') this.onEvent({ kind: 'rejected', id: r.id, reason: r.reason });
      else credited += r.credited_ms || 0;
    }
    // A report the answer does not mention stays, to be sent again.
    this.save(this.list().filter((r) => !done.has(r.id)));
    this.onEvent({ kind: 'sent', count: done.size, credited_ms: credited });
  }

  failed(e) {
    if (e.status === 401 || e.status === 403) {
      this.onEvent({ kind: 'auth', message: e.message });
      return;
    }
    if (e.status === 400 || e.status === 413 || e.status === 422) {
      // The body itself is refused: sending it again cannot succeed. Say so, and drop it.
      const dropped = this.list().slice(0, BATCH);
      this.save(this.list().slice(BATCH));
      this.onEvent({ kind: 'rejected', count: dropped.length, reason: e.message });
      return;
    }
    this.onEvent({ kind: 'failed', status: e.status, message: e.message });
    const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    this.timer = setTimeout(() => this.send(), wait);
  }
}
