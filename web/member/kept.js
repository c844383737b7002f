// "Kept on this phone": the lessons downloaded for offline study (keep.js), each with its size,
// progress, until when it earns, and buttons to play, continue and delete; storage problems
// explained in the member's language. Unfinished downloads go on when the page opens online,
// unless the data saver is on.
import { el } from '../shared/api.js';
import { dataSaver } from './adapt.js';
import * as keep from './keep.js';

export const megabytes = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

// "sound only", "240p" or "original", and its size unless `withSize` is false.
export function renditionLabel(t, c, withSize = true) {
  const name = c.name === 'audio' ? t('r_audio') : c.name === 'source' ? t('r_source') : c.name;
  return withSize && c.size ? `${name} · ${megabytes(c.size)}` : name;
}

export class Kept {
  constructor(ctx, section) {
    this.ctx = ctx;
    this.section = section;
    this.list = section.querySelector('#kept-list');
    this.note = section.querySelector('#kept-note');
    this.bars = new Map(); // key → <progress> of a download under way
  }

  async load({ resume = navigator.onLine && !dataSaver() } = {}) {
    const records = await keep.list(this.ctx.member.id).catch(() => []);
    this.draw(records);
    if (resume) for (const r of records) if (!r.done && !keep.downloading(r)) this.run(r, keep.resume(r, this.progress(r)));
  }

  draw(records) {
    const { t } = this.ctx;
    this.section.hidden = !records.length && !this.note.textContent;
    this.list.replaceChildren(...records.map((r) => {
      const expired = Date.parse(r.expires) <= Date.now();
      const state = r.done
        ? (expired ? t('kept_expired') : t('kept_until', { date: r.expires.slice(0, 10) }))
        : t('kept_partial', { pct: Math.round((100 * r.parts * 1048576) / Math.max(r.file.size, 1)) });
      const bar = el('progress', { max: 1, value: r.done ? 1 : Math.min(1, (r.parts * 1048576) / r.file.size) });
      this.bars.set(r.key, bar);
      const buttons = [];
      if (r.done && !expired) buttons.push(el('button', { type: 'button', class: 'primary', text: t('play'), onclick: () => this.ctx.player.open(r.lesson) }));
      if (!r.done && !keep.downloading(r)) buttons.push(el('button', { type: 'button', class: 'resume', text: t('kept_continue'), onclick: () => this.run(r, keep.resume(r, this.progress(r))) }));
      buttons.push(el('button', { type: 'button', class: 'delete', text: t('kept_delete'), onclick: () => this.remove(r) }));
      return el('li', { 'data-lesson': r.lesson, 'data-done': String(!!r.done) },
        el('span', { class: 'title', lang: r.lang.served, dir: r.lang.dir, text: r.title }), ' ',
        el('span', { class: 'muted small', text: `${renditionLabel(t, r.file)} · ${state}` }),
        bar, el('span', { class: 'row' }, ...buttons));
    }));
  }

  progress(record) {
    return (f) => { const bar = this.bars.get(record.key); if (bar) bar.value = f; };
  }

  // Takes the lesson home in the rendition `name` (what plays now).
  async download(lesson, name) {
    this.say('');
    try {
      const { record, run } = await keep.keep(this.ctx, lesson, name, this.progress({ key: keep.keyOf(this.ctx.member.id, lesson) }));
      await this.load({ resume: false });
      this.run(record, run);
    } catch (e) {
      this.fail(e);
    }
  }

  async run(record, running) {
    this.say(this.ctx.t('kept_downloading', { title: record.title }));
    try {
      await running;
      this.say(this.ctx.t('kept_ready', { title: record.title }), 'ok');
    } catch (e) {
      this.fail(e);
    }
    await this.load({ resume: false });
  }

  fail(e) {
    const { t } = this.ctx;
    if (e?.name === 'QuotaError') {
      const need = e.need ? t('quota_need', { need: megabytes(e.need), free: megabytes(Math.max(0, e.free)) }) : '';
      return this.say(`${t('quota_full')} ${need}`, 'bad');
    }
    if (e?.status === 401) return this.ctx.expired();
    const why = e?.status != null ? this.ctx.describe(e) : t('kept_cut', { m: e?.message || '' });
    this.say(why, 'bad');
  }

  async remove(record) {
    await keep.remove(record);
    this.say(this.ctx.t('kept_deleted', { title: record.title }));
    await this.load({ resume: false });
  }

  say(text, kind = '') {
    this.note.textContent = text;
    this.note.className = `status ${kind}`;
    if (text) this.section.hidden = false;
  }
}
