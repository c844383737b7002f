// Which language lessons come in for this member, and how a fallback is shown. The interface
// language comes first, then the languages in the member's own record; the server negotiates
// each text and variant against that list and says when it had to fall back.
import { api, el } from '../shared/api.js';

export class Content {
  constructor(ctx) {
    this.ctx = ctx;
    this.prefs = [...new Set([ctx.lang, ...(ctx.member.languages || []), 'zh-Hans'])];
    this.acceptLanguage = this.prefs
      .map((l, i) => (i ? `${l};q=${(1 - i / 10).toFixed(1)}` : l))
      .join(', ');
    this.names = {}; // tag → autonym, from the taxonomy
    this.taxonomy = null;
    this.titles = new Map(); // lesson id → {title, lang, kind, duration_ms}
  }

  // GET with the member's token and language list.
  get(path, opts = {}) {
    return api(path, {
      ...opts, token: this.ctx.token,
      headers: { 'Accept-Language': this.acceptLanguage, ...(opts.headers || {}) },
    });
  }

  async loadTaxonomy() {
    if (this.taxonomy) return this.taxonomy;
    this.taxonomy = await this.get('/api/v1/taxonomy');
    for (const l of this.taxonomy.languages || []) this.names[l.tag] = l.name;
    return this.taxonomy;
  }

  name(tag) { return this.names[tag] || tag; }

  // A theme's name in the interface language: the page's own drafts for Uyghur and Tibetan,
  // the server's Chinese name otherwise.
  themeName(code) {
    const { t } = this.ctx;
    const key = `theme_${code.replaceAll('-', '_')}`;
    const own = t(key);
    if (own !== key && this.ctx.lang !== 'zh-Hans') return own;
    const found = this.taxonomy?.themes?.find((x) => x.code === code);
    return found?.['zh-Hans'] || code;
  }

  // The badge for a negotiated language: nothing when it is what was asked for.
  fallbackBadge(lang) {
    if (!lang?.fallback) return null;
    const want = this.name(lang.requested || this.prefs[0]);
    return el('span', {
      class: 'badge fallback', lang: this.ctx.lang,
      text: this.ctx.t('fallback', { want, got: this.name(lang.served) }),
    });
  }

  // A node holding text in the language it was served in, with its direction.
  inLang(tag, text, lang) {
    return el(tag, { lang: lang?.served, dir: lang?.dir || 'auto', text });
  }

  // Title and length of a lesson, looked up once.
  async lesson(id) {
    if (this.titles.has(id)) return this.titles.get(id);
    const l = await this.get(`/api/v1/lessons/${encodeURIComponent(id)}`);
    const info = { title: l.title, lang: l.lang, kind: l.kind, duration_ms: l.duration_ms };
    this.titles.set(id, info);
    return info;
  }

  remember(id, info) { this.titles.set(id, info); }
}

// 12 分 5 秒: a credited duration in words of the interface language.
export function spoken(ms, t) {
  const s = Math.round(ms / 1000);
  return t('time_min_sec', { m: Math.floor(s / 60), s: s % 60 });
}
