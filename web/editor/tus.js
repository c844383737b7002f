// A small tus 1.0 client for the editor console. It creates an upload, sends the file in PATCH
// chunks, and after any failure asks the server (HEAD) how many bytes it holds and goes on from
// there, waiting longer after each failure in a row. The upload URL is remembered in
// localStorage per file (name, size, last change) and target (lesson, language), so after a page
// reload choosing the same file again resumes from the server's offset instead of starting over.
//
// No Upload-Checksum is sent on purpose: this server drops a checksummed chunk whole when the
// connection breaks inside it, but keeps every byte of an unchecked one. On a bad link keeping
// the bytes that arrived is worth more; TCP already checks them.

const TUS = '1.0.0';
const STORE = 'yj.tus';
// Waits after 1, 2, 3… failures in a row; the last repeats for as long as the link is down.
const DELAYS = [1000, 2000, 4000, 8000, 15000, 30000];
// A request that moves no byte for this long is given up and retried.
const STALL_MS = 45000;

export function fingerprint(file, target) {
  return [file.name, file.size, file.lastModified, target.lesson, target.lang].join('|');
}

// Unfinished uploads this browser started: fingerprint → {url, name, size, lesson, lang, at}.
export const remembered = {
  all() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch { return {}; }
  },
  get(fp) { return this.all()[fp] || null; },
  set(fp, record) { this.write({ ...this.all(), [fp]: record }); },
  forget(fp) { const all = this.all(); delete all[fp]; this.write(all); },
  write(all) { localStorage.setItem(STORE, JSON.stringify(all)); },
};

// A failure that retrying cannot mend (refused, forbidden, too large…), with the server's words.
export class UploadRefused extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

// A failure worth retrying; `message` is the server's words, if it said any.
class Transient extends Error {}

function encodeMetadata(pairs) {
  const b64 = (text) => {
    let bin = '';
    for (const byte of new TextEncoder().encode(text)) bin += String.fromCharCode(byte);
    return btoa(bin);
  };
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k} ${b64(String(v))}`)
    .join(',');
}

function errorBody(text) {
  try { return JSON.parse(text) || {}; } catch { return {}; }
}

// One tus request by XMLHttpRequest (fetch cannot report upload progress). Resolves with the
// answer, or {status: 0} when the connection failed, stalled or was aborted.
function send(method, url, { token, headers = {}, body = null, onSent, onXhr }) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    let timer;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => xhr.abort(), STALL_MS); };
    const end = (answer) => { clearTimeout(timer); resolve(answer); };
    xhr.open(method, url);
    xhr.setRequestHeader('Tus-Resumable', TUS);
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { arm(); onSent?.(e.loaded); };
    xhr.onprogress = arm;
    xhr.onload = () => end({
      status: xhr.status,
      header: (name) => xhr.getResponseHeader(name),
      body: errorBody(xhr.responseText),
    });
    xhr.onerror = xhr.onabort = () => end({ status: 0 });
    onXhr?.(xhr);
    arm();
    xhr.send(body);
  });
}

// What a non-success answer means for the upload loop.
function judge(answer) {
  const { status, body } = answer;
  if (status === 0 || status === 409 || status === 423 || status === 429 || status === 460
      || status >= 500) {
    return new Transient(body?.message || '');
  }
  return new UploadRefused(status, body?.code || `http-${status}`, body?.message);
}

// state: 'starting' | 'sending' | 'retrying' | 'paused' | 'done' | 'failed'.
export class Upload {
  constructor(file, { endpoint = '/uploads', token, target, chunkSize = 2 << 20, onChange }) {
    this.file = file;
    this.endpoint = endpoint;
    this.token = token;
    this.target = target; // {lesson, lang}, and anything else worth remembering (course)
    this.chunkSize = chunkSize;
    this.onChange = onChange || (() => {});
    this.fp = fingerprint(file, target);
    const known = remembered.get(this.fp);
    this.url = known?.url || null;
    this.resumed = Boolean(known); // true: picked up an upload begun earlier
    this.offset = null; // what the server holds; null = ask it
    this.confirmed = 0; // the last offset the server answered with, for showing progress
    this.inFlight = 0;
    this.state = 'starting';
    this.error = null;
    this.failures = 0;
    this.retryAt = 0;
    this.restarted = false; // the server had lost it (expired): started again from zero
    this.generation = 0;
    this.rate = 0; // bytes per second, smoothed
    this.creating = null; // the POST in flight, if any
    this.xhr = null; // the PATCH in flight, to abort on pause
    this.wake = null; // ends a wait between retries early
  }

  get id() { return this.url ? this.url.split('/').pop() : null; }
  get sent() { return (this.offset ?? this.confirmed) + this.inFlight; }

  start() {
    this.generation += 1;
    this.loop(this.generation);
  }

  pause() {
    if (this.state === 'done' || this.state === 'failed') return;
    this.generation += 1; // the running loop sees it and stops
    this.xhr?.abort();
    this.wake?.();
    this.inFlight = 0;
    this.set('paused');
  }

  resume() {
    if (this.state !== 'paused' && this.state !== 'failed') return;
    this.error = null;
    this.offset = null; // the server may hold more (or less) than we last heard
    this.failures = 0;
    this.start();
  }

  // Stops and removes the upload, on the server too.
  async discard() {
    this.pause();
    remembered.forget(this.fp);
    if (this.url) await send('DELETE', this.url, { token: this.token });
  }

  set(state) {
    this.state = state;
    this.onChange(this);
  }

  async loop(generation) {
    const live = () => generation === this.generation;
    while (live()) {
      try {
        // A loop resumed while an earlier one is creating waits for that upload, not a second.
        if (!this.url) await (this.creating ||= this.create().finally(() => { this.creating = null; }));
        if (this.offset === null) await this.locate();
        if (!live()) return;
        if (this.offset >= this.file.size) {
          remembered.forget(this.fp);
          this.set('done');
          return;
        }
        await this.patch(live);
        this.failures = 0;
      } catch (e) {
        if (!live()) return;
        if (e instanceof UploadRefused) {
          this.error = e;
          this.set('failed');
          return;
        }
        await this.backOff(e, live);
      }
    }
  }

  async create() {
    this.set('starting');
    const metadata = encodeMetadata({
      filename: this.file.name,
      filetype: this.file.type,
      lesson: this.target.lesson,
      lang: this.target.lang,
    });
    const answer = await send('POST', this.endpoint, {
      token: this.token,
      headers: { 'Upload-Length': String(this.file.size), 'Upload-Metadata': metadata },
    });
    if (answer.status !== 201) throw judge(answer);
    this.url = new URL(answer.header('Location'), location.href).pathname;
    this.offset = 0;
    remembered.set(this.fp, {
      url: this.url, name: this.file.name, size: this.file.size, ...this.target, at: Date.now(),
    });
  }

  // HEAD: how many bytes the server holds. A forgotten upload (expired, deleted) starts over.
  async locate() {
    const answer = await send('HEAD', this.url, { token: this.token });
    if (answer.status === 404 || answer.status === 410) {
      remembered.forget(this.fp);
      this.url = null;
      this.restarted = true;
      this.confirmed = 0;
      throw new Transient('');
    }
    if (answer.status !== 200) throw judge(answer);
    const length = Number(answer.header('Upload-Length'));
    if (length !== this.file.size) {
      throw new UploadRefused(409, 'other-file', `the server expects ${length} bytes`);
    }
    this.offset = Number(answer.header('Upload-Offset'));
    this.confirmed = this.offset;
    this.onChange(this);
  }

  async patch(live) {
    this.set('sending');
    const from = this.offset;
    const to = Math.min(from + this.chunkSize, this.file.size);
    const started = performance.now();
    const answer = await send('PATCH', this.url, {
      token: this.token,
      headers: {
        'Upload-Offset': String(from),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: this.file.slice(from, to),
      onXhr: (xhr) => { this.xhr = xhr; },
      onSent: (n) => { if (live()) { this.inFlight = n; this.onChange(this); } },
    });
    this.xhr = null;
    this.inFlight = 0;
    if (answer.status !== 204) {
      this.offset = null; // part of the chunk may have arrived: ask
      throw judge(answer);
    }
    this.offset = Number(answer.header('Upload-Offset'));
    this.confirmed = this.offset;
    const seconds = Math.max((performance.now() - started) / 1000, 0.001);
    const now = (this.offset - from) / seconds;
    this.rate = this.rate ? this.rate * 0.6 + now * 0.4 : now;
    this.onChange(this);
  }

  async backOff(error, live) {
    this.offset = null;
    this.error = error;
    const base = DELAYS[Math.min(this.failures, DELAYS.length - 1)];
    this.failures += 1;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.retryAt = Date.now() + delay;
    this.set('retrying');
    // The browser saying the link is back cuts the wait short.
    await new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        removeEventListener('online', done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, delay);
      addEventListener('online', done);
      this.wake = done;
    });
    if (live()) this.error = null;
  }
}
