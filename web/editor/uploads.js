// A lesson's variants (one file per language) and the uploads that make them. An upload row
// lives on across redraws and page reloads: while bytes are still to send it is a tus upload
// (resumed by choosing the same file again after a reload); once every byte is there it follows
// GET /api/v1/uploads/{id} — verifying, stored or rejected with the reason, processing, probe
// results — until the server attaches it to the lesson (the upload names lesson and language).
import { el } from '../shared/api.js';
import { Upload, remembered, fingerprint } from './tus.js';
import { bytes, percent, probeLine, clock } from './ui.js';

const WATCH = 'yj.editor.watch';
const POLL_MS = 1500;
const rows = new Map(); // fingerprint → Row
const assets = new Map(); // sha256 → Promise of GET /api/v1/assets/{sha256}

// Finished uploads still being verified or processed: fingerprint → {id, name, size, lesson, lang}.
const watched = {
  all() { try { return JSON.parse(localStorage.getItem(WATCH)) || {}; } catch { return {}; } },
  set(fp, record) { localStorage.setItem(WATCH, JSON.stringify({ ...this.all(), [fp]: record })); },
  forget(fp) { const all = this.all(); delete all[fp]; localStorage.setItem(WATCH, JSON.stringify(all)); },
};

function asset(ctx, sha256) {
  if (!assets.has(sha256)) {
    const p = ctx.call(`/api/v1/assets/${sha256}`);
    p.catch(() => assets.delete(sha256)); // ask again next time
    assets.set(sha256, p);
  }
  return assets.get(sha256);
}

function accepts(kind, file) {
  const type = file.type || '';
  if (kind === 'video') return type.startsWith('video/') || type.startsWith('audio/');
  return type.startsWith('text/') || type === 'application/pdf' || /\.(md|markdown|txt|pdf)$/i.test(file.name);
}

class Row {
  constructor(ctx, fp, { name, size, lesson, lang, course }) {
    const { t } = ctx;
    Object.assign(this, { ctx, fp, name, size, lesson, lang, course });
    this.upload = null;
    this.final = false;
    this.stateText = el('span', { class: 'upload-state', role: 'status' });
    this.bar = el('progress', { max: String(size || 1), value: '0', 'aria-label': t('progress_of', { name }) });
    this.numbers = el('bdi', { class: 'upload-numbers' });
    this.pauseButton = el('button', { type: 'button', class: 'pause', text: t('pause'), onclick: () => this.upload?.pause() });
    this.resumeButton = el('button', { type: 'button', class: 'resume', text: t('resume'), onclick: () => this.upload?.resume() });
    this.discardButton = el('button', { type: 'button', class: 'discard', text: t('discard'), onclick: () => this.discard() });
    this.attachButton = el('button', { type: 'button', class: 'attach', hidden: true, text: t('attach'), onclick: (e) => this.attach(e.currentTarget) });
    this.detail = el('p', { class: 'upload-detail' });
    this.probe = el('p', { class: 'upload-probe muted', dir: 'ltr' });
    this.node = el('div', { class: 'upload', 'data-upload': fp, 'data-target-lesson': lesson, 'data-lang': lang },
      el('div', { class: 'row upload-head' },
        el('strong', { class: 'upload-name' }, el('bdi', { text: name })),
        el('span', { class: 'badge', lang, text: ctx.langName(lang) }),
        this.stateText),
      this.bar,
      el('div', { class: 'row' }, this.numbers, el('span', { class: 'upload-tools' },
        this.pauseButton, this.resumeButton, this.attachButton, this.discardButton)),
      this.detail, this.probe);
    this.buttons({});
  }

  show(state, text, detail = '') {
    this.node.dataset.state = state;
    this.stateText.textContent = text;
    this.detail.textContent = detail;
  }

  buttons({ pause = false, resume = false, attach = false }) {
    this.pauseButton.hidden = !pause;
    this.resumeButton.hidden = !resume;
    this.attachButton.hidden = !attach;
  }

  numbersFor(done) {
    const { lang } = this.ctx;
    const rate = this.upload?.rate && this.upload.state === 'sending'
      ? ` · ${bytes(this.upload.rate, lang)}/s` : '';
    this.bar.value = String(done);
    this.numbers.textContent = `${percent(done, this.size, lang)} · ${bytes(done, lang)} / ${bytes(this.size, lang)}${rate}`;
  }

  bind(upload) {
    this.upload = upload;
    this.final = false;
    upload.onChange = () => this.fromTus();
    this.fromTus();
  }

  fromTus() {
    const { t } = this.ctx;
    const u = this.upload;
    this.numbersFor(u.sent);
    clearInterval(this.ticker);
    switch (u.state) {
      case 'starting':
        this.show('starting', t('up_starting'), u.restarted ? t('up_restarted') : '');
        this.buttons({ pause: true });
        break;
      case 'sending':
        this.show('sending', t('up_sending'), u.resumed ? t('up_resumed') : '');
        this.buttons({ pause: true });
        break;
      case 'retrying': {
        const tick = () => {
          const s = Math.max(0, Math.ceil((u.retryAt - Date.now()) / 1000));
          const said = u.error?.message ? ` — ${u.error.message}` : '';
          this.show('retrying', t('up_retrying'), `${t('retry_in', { s })}${said}`);
        };
        tick();
        this.ticker = setInterval(tick, 1000);
        this.buttons({ pause: true });
        break;
      }
      case 'paused':
        this.show('paused', t('up_paused'));
        this.buttons({ resume: true });
        break;
      case 'failed':
        this.show('failed', t('up_failed'), `${u.error?.code || ''}: ${u.error?.message || ''}`);
        this.buttons({ resume: true });
        break;
      case 'done':
        this.show('received', t('up_received'));
        this.buttons({});
        watched.set(this.fp, {
          id: u.id, name: this.name, size: this.size, lesson: this.lesson, lang: this.lang, course: this.course,
        });
        this.follow(u.id);
        break;
      default:
    }
  }

  // Left unfinished in an earlier visit: the bytes the server holds, and how to go on.
  async interrupted(record) {
    const { t } = this.ctx;
    this.show('interrupted', t('up_interrupted'), t('choose_again'));
    try {
      const answer = await fetch(record.url, {
        method: 'HEAD', cache: 'no-store',
        headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${this.ctx.token}` },
      });
      if (answer.ok && !this.upload) this.numbersFor(Number(answer.headers.get('Upload-Offset')));
      if ((answer.status === 404 || answer.status === 410) && !this.upload) {
        remembered.forget(this.fp);
        this.show('gone', t('up_gone'));
      }
    } catch { /* offline: the row still says how to go on */ }
  }

  follow(id) {
    this.id = id;
    this.numbersFor(this.size);
    const poll = async () => {
      if (this.final || !rows.has(this.fp)) return;
      let status;
      try {
        status = await this.ctx.call(`/api/v1/uploads/${id}`);
      } catch (e) {
        if (e.status === 404) { this.finish('gone', this.ctx.t('up_gone')); return; }
        if (e.status === 401) { this.ctx.fail(e); return; }
        this.timer = setTimeout(poll, POLL_MS * 4); // offline or busy: try again later
        return;
      }
      this.fromServer(status);
      if (!this.final) this.timer = setTimeout(poll, POLL_MS);
    };
    poll();
  }

  fromServer({ upload, processing }) {
    const { t } = this.ctx;
    const state = upload.state.state;
    if (state === 'verifying' || state === 'moving' || state === 'receiving') {
      this.show(state, t(`st_${state}`));
      return;
    }
    if (state === 'rejected') {
      this.finish('rejected', t('st_rejected'), upload.state.reason);
      return;
    }
    this.sha256 = upload.state.sha256;
    this.showProbe();
    const attach = upload.attach;
    if (processing && processing.status !== 'ready') {
      if (processing.status === 'failed') {
        this.finish('failed', t('job_failed'), processing.error || '');
      } else {
        this.show('processing', t(`job_${processing.status}`, { p: processing.percent }));
      }
      return;
    }
    if (attach && !attach.done) { this.show('attaching', t('st_attaching')); return; }
    if (attach?.error) {
      this.finish('attach-failed', t('attach_failed'), attach.error);
      this.buttons({ attach: true });
      return;
    }
    if (attach) {
      this.finish('attached', t('st_attached'));
      if (this.ctx.editor?.has(this.lesson)) this.ctx.editor.reload();
      return;
    }
    this.finish('stored', t('st_stored'));
    this.buttons({ attach: true });
  }

  async showProbe() {
    if (!this.sha256 || this.probe.textContent) return;
    this.probe.textContent = `sha256 ${this.sha256.slice(0, 12)}…`;
    const found = await asset(this.ctx, this.sha256).catch((e) => ({ error: e }));
    const parts = [`sha256 ${this.sha256.slice(0, 12)}…`, found.mime, found.size ? bytes(found.size, this.ctx.lang) : null];
    if (found.probe) parts.push(probeLine(found.probe, this.ctx.lang));
    if (found.error) parts.push(`${found.error.code}: ${found.error.message}`);
    this.probe.textContent = parts.filter(Boolean).join(' · ');
  }

  finish(state, text, detail) {
    this.final = true;
    clearTimeout(this.timer);
    watched.forget(this.fp);
    this.show(state, text, detail);
    this.buttons({});
    this.discardButton.textContent = this.ctx.t('dismiss');
  }

  // Puts the stored file in the lesson by hand (PUT the variant), e.g. after the lesson changed.
  async attach(button) {
    const path = `/api/v1/lessons/${encodeURIComponent(this.lesson)}/variants/${this.lang}`;
    const done = await this.ctx.act(() => this.ctx.call(path, { method: 'PUT', body: { sha256: this.sha256 } }), button);
    if (done) {
      this.finish('attached', this.ctx.t('st_attached'));
      if (this.ctx.editor?.has(this.lesson)) this.ctx.editor.reload();
    }
  }

  async discard() {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.final = true;
    rows.delete(this.fp);
    watched.forget(this.fp);
    this.node.remove();
    if (this.upload && this.upload.state !== 'done') {
      await this.upload.discard();
    } else if (!this.upload && !this.id) {
      const record = remembered.get(this.fp);
      remembered.forget(this.fp);
      if (record) {
        await fetch(record.url, {
          method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${this.ctx.token}` },
        }).catch(() => {});
      }
    }
  }
}

// After sign-in: rows for uploads an earlier visit left unfinished or still processing.
export function restoreRows(ctx) {
  for (const [fp, record] of Object.entries(remembered.all())) {
    if (rows.has(fp)) continue;
    const row = new Row(ctx, fp, record);
    rows.set(fp, row);
    row.interrupted(record);
  }
  for (const [fp, record] of Object.entries(watched.all())) {
    if (rows.has(fp)) continue;
    const row = new Row(ctx, fp, record);
    rows.set(fp, row);
    row.follow(record.id);
  }
}

// Uploads an earlier visit left behind, listed beside the courses with a way to their course.
export function showPending(ctx, root) {
  const left = [...rows.values()].filter((r) => !r.final && !r.upload);
  root.hidden = !left.length;
  if (!left.length) return;
  root.replaceChildren(
    el('h3', { text: ctx.t('pending_uploads') }),
    el('ul', { class: 'pending' }, ...left.map((r) => el('li', {},
      el('a', { href: r.course ? `#course=${encodeURIComponent(r.course)}` : '#' }, el('bdi', { text: r.name })),
      ' ', el('span', { class: 'badge', lang: r.lang, text: ctx.langName(r.lang) }),
      ' ', el('bdi', { class: 'muted', text: r.lesson })))));
}

function startUpload(ctx, file, target, container) {
  const fp = fingerprint(file, target);
  let row = rows.get(fp);
  const busy = row?.upload && ['starting', 'sending', 'retrying'].includes(row.upload.state);
  if (busy) return;
  if (!row || row.final) {
    row?.node.remove();
    row = new Row(ctx, fp, { name: file.name, size: file.size, ...target });
    rows.set(fp, row);
  }
  container.append(row.node);
  row.bind(new Upload(file, { token: ctx.token, target, chunkSize: ctx.chunkSize }));
  row.upload.start();
}

function variantItem(ctx, lesson, lang, variant, { settle, save }) {
  const { t } = ctx;
  const info = el('span', { class: 'muted variant-probe', dir: 'ltr' });
  const useDuration = el('button', { type: 'button', class: 'use-duration', hidden: true, text: t('use_duration') });
  asset(ctx, variant.sha256).then((found) => {
    info.textContent = found.probe ? probeLine(found.probe, ctx.lang) : '';
    const ms = found.probe?.duration_ms;
    if (ms && ms !== lesson.duration_ms) {
      useDuration.hidden = false;
      useDuration.textContent = t('use_duration', { d: clock(ms) });
      useDuration.onclick = (e) => save({ duration_ms: ms }, e.currentTarget);
    }
  }, (e) => { info.textContent = `${e.code}: ${e.message}`; });
  const remove = el('button', {
    type: 'button', text: t('remove'), 'aria-label': t('remove_variant', { lang: ctx.langName(lang) }),
    'data-key': `lesson:${lesson.id}:remove:${lang}`,
    onclick: async (e) => {
      const path = `/api/v1/lessons/${encodeURIComponent(lesson.id)}/variants/${lang}`;
      settle(await ctx.act(() => ctx.call(path, { method: 'DELETE' }), e.currentTarget));
    },
  });
  return el('li', { class: 'variant', 'data-variant': lang, 'data-sha256': variant.sha256 },
    el('span', { class: 'badge', lang, text: ctx.langName(lang) }),
    el('a', { href: `/media/${variant.sha256}`, dir: 'ltr', text: `${variant.mime} · ${bytes(variant.size, ctx.lang)}` }),
    info, useDuration, remove);
}

export function variantsBlock(ctx, course, lesson, actions) {
  const { t } = ctx;
  const langs = ctx.taxonomy.languages.map((l) => l.tag);
  const have = Object.keys(lesson.variants);
  const select = el('select', { name: 'lang', 'data-key': `lesson:${lesson.id}:upload-lang` });
  const first = langs.find((l) => !have.includes(l)) || langs[0];
  for (const l of langs) select.append(new Option(ctx.langName(l), l, l === first, l === first));
  const accept = lesson.kind === 'video'
    ? 'video/*,audio/*' : '.md,.markdown,.txt,.pdf,text/markdown,text/plain,application/pdf';
  // The browser's own file button speaks the browser's language; this label speaks the page's.
  const file = el('input', {
    type: 'file', name: 'file', accept, class: 'visually-hidden', 'data-key': `lesson:${lesson.id}:file`,
  });
  const container = el('div', { class: 'uploads' });
  file.addEventListener('change', () => {
    const chosen = file.files[0];
    file.value = '';
    if (!chosen) return;
    if (!accepts(lesson.kind, chosen)) {
      ctx.fail(Object.assign(new Error(chosen.name), { code: `wrong-file-for-${lesson.kind}` }));
      return;
    }
    startUpload(ctx, chosen, { lesson: lesson.id, lang: select.value, course: course.id }, container);
  });
  for (const row of rows.values()) if (row.lesson === lesson.id) container.append(row.node);
  return el('div', { class: 'variants' },
    have.length
      ? el('ul', { class: 'variant-list', 'aria-label': t('variants') },
        ...have.map((l) => variantItem(ctx, lesson, l, lesson.variants[l], actions)))
      : el('p', { class: 'muted', text: t('no_variants') }),
    el('div', { class: 'upload-form row' },
      el('label', {}, el('span', { text: t('variant_lang') }), select),
      el('label', { class: 'button file-pick' },
        el('span', { text: t(lesson.kind === 'video' ? 'choose_video' : 'choose_text') }), file)),
    container);
}
