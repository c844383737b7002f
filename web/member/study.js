// The signed-in view: my hours this year against my requirement, lessons to continue where I
// stopped, and the published lessons by theme in my language.
import { el } from '../shared/api.js';
import { formatHours, formatClock } from '../shared/i18n.js';
import { Content, spoken } from './content.js';

const $ = (id) => document.getElementById(id);
const CONTINUE_MAX = 5;
const LEADER_POSTS = ['secretary', 'committee'];

export class Study {
  constructor(ctx) {
    this.ctx = ctx;
    this.content = new Content(ctx);
    ctx.content = this.content;
    this.year = null;
    this.next = null; // URL of the next page of courses
    this.refreshTimer = null;
    $('year').onchange = () => this.loadHours(Number($('year').value));
    $('more-courses').onclick = () => this.loadCourses(this.next);
  }

  async load() {
    const { t } = this.ctx;
    await this.step(this.content.loadTaxonomy(), $('theme-list'));
    // Each language name in its own script and direction, in order of preference.
    $('content-langs').replaceChildren(t('content_langs', { langs: '' }),
      ...this.content.prefs.map((l) => el('span', { class: 'badge', lang: l, text: this.content.name(l) })));
    await Promise.all([this.loadHours(), this.loadContinue(), this.loadCourses()]);
  }

  // Runs one request; on failure shows why in `where` (never silently) and resolves null.
  async step(promise, where) {
    try {
      return await promise;
    } catch (e) {
      if (e.status === 401) this.ctx.expired();
      else where.replaceChildren(el('p', { class: 'bad', role: 'alert', text: this.ctx.describe(e) }));
      return null;
    }
  }

  // Hours again shortly after reports were credited (one small request, coalesced); the
  // continue list too once the player is closed, since it does not change what is playing.
  refreshSoon({ lessons = false } = {}) {
    this.refreshLessons ||= lessons;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.loadHours(this.year);
      if (this.refreshLessons) this.loadContinue();
      this.refreshLessons = false;
    }, 800);
  }

  clear() {
    clearTimeout(this.refreshTimer);
    for (const id of ['hours-body', 'continue-list', 'theme-list']) $(id).replaceChildren();
    $('player').replaceChildren();
  }

  async loadHours(year) {
    const q = year ? `?year=${year}` : '';
    const member = encodeURIComponent(this.ctx.member.id);
    const h = await this.step(this.content.get(`/api/v1/members/${member}/hours${q}`), $('hours-body'));
    if (!h) return;
    if (!this.year) this.fillYears(h.year);
    this.year = h.year;
    this.drawHours(h);
  }

  fillYears(thisYear) {
    const select = $('year');
    select.replaceChildren(...[0, 1, 2].map((back) => new Option(String(thisYear - back), thisYear - back)));
  }

  drawHours(h) {
    const { t, lang } = this.ctx;
    const leader = (this.ctx.member.posts || []).some((p) => LEADER_POSTS.includes(p));
    const left = Math.max(0, h.required_hours - h.hours);
    const bar = el('progress', {
      class: `hours-bar${h.met ? ' met' : ''}`, max: h.required_hours,
      value: Math.min(h.hours, h.required_hours), 'aria-labelledby': 'hours-title',
      'data-credited-ms': h.credited_ms,
    });
    const facts = el('p', { class: 'hours-facts' },
      el('span', {
        class: h.met ? 'ok' : 'warn',
        text: h.met ? t('hours_met') : t('hours_left', { left: formatHours(left, lang) }),
      }),
      el('span', {
        text: t(leader ? 'centralised_leader' : 'centralised', { n: h.centralised_trainings }),
      }),
      h.registered_ms > 0 ? el('span', { text: t('registered', { time: spoken(h.registered_ms, t) }) }) : null,
    );
    const list = el('ul', { class: 'plain' });
    const details = el('details', {}, el('summary', { text: t('lesson_detail') }), list);
    details.addEventListener('toggle', () => details.open && this.fillLessonHours(list, h.lessons), { once: true });
    $('hours-body').replaceChildren(
      el('p', {
        id: 'hours-figure', class: 'hours-figure', 'data-credited-ms': h.credited_ms,
        text: t('hours_of', { hours: formatHours(h.hours, lang), required: formatHours(h.required_hours, lang) }),
      }),
      bar, facts,
      h.lessons.length ? details : el('p', { class: 'muted', text: t('no_lessons_yet') }),
    );
  }

  async fillLessonHours(list, lessons) {
    const { t } = this.ctx;
    const rows = await Promise.all(lessons.map(async (l) => {
      const info = await this.content.lesson(l.lesson).catch(() => null);
      const title = info ? this.content.inLang('span', info.title, info.lang) : el('span', { text: t('lesson_gone') });
      const of = l.duration_ms ? ` / ${formatClock(l.duration_ms)}` : '';
      return el('li', { class: 'item', 'data-lesson': l.lesson },
        el('span', { class: 'what' }, title),
        el('span', { class: 'muted', text: `${spoken(l.credited_ms, t)}${of}` }));
    }));
    list.replaceChildren(...rows);
  }

  async loadContinue() {
    const member = encodeURIComponent(this.ctx.member.id);
    const r = await this.step(this.content.get(`/api/v1/members/${member}/resume`), $('continue-list'));
    if (!r) return;
    // Looked up together; finished lessons drop out, so a few more than are shown.
    const recent = [...r.lessons].sort((a, b) => b.at_ms - a.at_ms).slice(0, CONTINUE_MAX * 2);
    const found = await this.step(Promise.all(recent.map((e) => this.continueItem(e))), $('continue-list'));
    if (!found) return;
    const items = found.filter(Boolean).slice(0, CONTINUE_MAX);
    const { t } = this.ctx;
    $('continue-list').replaceChildren(...(items.length ? items : [el('li', { class: 'muted', text: t('continue_none') })]));
  }

  // One lesson to continue, or null when it is finished.
  async continueItem(entry) {
    const { t } = this.ctx;
    let info;
    try {
      info = await this.content.lesson(entry.lesson);
    } catch (e) {
      if (e.status !== 404) throw e;
      return el('li', { class: 'muted', text: `${t('lesson_gone')} (${e.message})` });
    }
    const total = info.duration_ms;
    if (total && entry.position_ms >= total - 2000) return null;
    const line = el('span', { class: 'progress-line', 'aria-hidden': 'true' }, el('span'));
    line.firstChild.style.inlineSize = `${total ? Math.min(100, (100 * entry.position_ms) / total) : 0}%`;
    return el('li', { class: 'item', 'data-lesson': entry.lesson, 'data-position-ms': entry.position_ms },
      el('span', { class: 'what' },
        this.content.inLang('span', info.title, info.lang),
        el('small', { text: t('stopped_at', { at: formatClock(entry.position_ms), total: formatClock(total) }) }),
        line),
      el('button', { type: 'button', class: 'primary', text: t('continue_btn'), onclick: () => this.ctx.player.open(entry.lesson) }));
  }

  async loadCourses(url) {
    const more = $('more-courses');
    more.hidden = true;
    const page = await this.step(this.content.get(url || '/api/v1/courses?limit=50'), $('theme-list'));
    if (!page) return;
    if (!url) $('theme-list').replaceChildren();
    if (!url && !page.courses.length) {
      $('theme-list').append(el('p', { class: 'muted', text: this.ctx.t('no_courses') }));
    }
    for (const course of page.courses) {
      for (const theme of course.themes.length ? course.themes : ['']) this.themeBox(theme).append(this.courseBox(course));
    }
    this.next = page.next;
    more.hidden = !page.next;
  }

  // The section of one theme, made when its first course arrives (in the taxonomy's order).
  themeBox(code) {
    const id = `theme-${code || 'none'}`;
    let box = document.getElementById(id);
    if (box) return box;
    box = el('section', { id, class: 'theme', 'data-theme': code, 'aria-labelledby': `${id}-h` },
      el('h3', { id: `${id}-h`, text: code ? this.content.themeName(code) : '—' }));
    const order = (this.content.taxonomy?.themes || []).map((x) => x.code);
    const list = $('theme-list');
    const after = [...list.children].find((s) => order.indexOf(s.dataset.theme) > order.indexOf(code));
    list.insertBefore(box, after || null);
    return box;
  }

  courseBox(course) {
    const { t } = this.ctx;
    const want = this.content.prefs[0];
    const missing = !course.languages.includes(want)
      ? el('span', { class: 'badge fallback', text: t('course_missing_lang', { want: this.content.name(want) }) })
      : null;
    const body = el('div', {}, el('p', { class: 'muted', text: t('loading') }));
    const box = el('details', { class: 'course', 'data-course': course.id },
      el('summary', {},
        this.content.inLang('span', course.title, course.lang),
        el('span', { class: 'count', text: t('lessons_count', { n: course.lessons }) }),
        missing ? ' ' : null, missing),
      body);
    box.addEventListener('toggle', () => box.open && this.fillCourse(course.id, body), { once: true });
    return box;
  }

  async fillCourse(id, body) {
    const { t } = this.ctx;
    const c = await this.step(this.content.get(`/api/v1/courses/${encodeURIComponent(id)}`), body);
    if (!c) return;
    // The description is in the title's language when it has one; otherwise its language is
    // not said, and the browser finds its direction.
    const descLang = c.descriptions?.[c.lang.served] === c.description ? c.lang : null;
    const description = c.description ? this.content.inLang('p', c.description, descLang) : null;
    const items = c.lessons.map((l) => {
      this.content.remember(l.id, { title: l.title, lang: l.lang, kind: l.kind, duration_ms: l.duration_ms });
      const kind = l.kind === 'text' ? t('kind_text') : t('kind_video');
      return el('li', { class: 'item', 'data-lesson': l.id },
        el('span', { class: 'what' },
          this.content.inLang('span', l.title, l.lang),
          el('small', {}, `${kind} · ${formatClock(l.duration_ms)} `, this.content.fallbackBadge(l.lang))),
        el('button', {
          type: 'button', text: l.kind === 'text' ? t('read') : t('play'),
          onclick: () => this.ctx.player.open(l.id),
        }));
    });
    description?.classList.add('muted', 'small');
    body.replaceChildren(...[description, el('ul', { class: 'plain' }, ...items)].filter(Boolean));
  }
}
