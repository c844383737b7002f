// One course: a form for a new one, and the editor for an existing one — its texts per
// language (saved as a merge-patch of only the languages changed), its themes, audiences and
// programs, its lessons, publishing and retiring. Every change redraws from the course the
// server answers with, so what is shown is what is stored.
import { el } from '../shared/api.js';
import { field, MAIN_LANGS, contentAttrs, redraw } from './ui.js';
import { stateBadges } from './courses.js';
import { lessonsSection } from './lessons.js';

const ID_PATTERN = '[a-z0-9\\-]{1,64}';

function taxonFieldset(ctx, kind, chosen, required) {
  const items = ctx.taxonomy[kind];
  return el('fieldset', { class: 'choices', 'data-kind': kind },
    el('legend', { text: ctx.t(kind) + (required ? ` (${ctx.t('at_least_one')})` : '') }),
    ...items.map((item) => el('label', { class: 'check' },
      el('input', {
        type: 'checkbox', name: kind, value: item.code,
        checked: chosen.includes(item.code), 'data-key': `${kind}:${item.code}`,
      }),
      el('span', { text: ctx.taxonName(item) }))));
}

function checked(form, kind) {
  return [...form.querySelectorAll(`input[name="${kind}"]:checked`)].map((i) => i.value);
}

export function newCourseForm(ctx, root) {
  const { t } = ctx;
  const form = el('form', { class: 'card', id: 'new-course-form' },
    el('h2', { text: t('new_course') }),
    field(t('course_id'), el('input', {
      name: 'id', required: true, pattern: ID_PATTERN, maxlength: 64, autocomplete: 'off',
      spellcheck: 'false', dir: 'ltr',
    }), t('id_hint')),
    field(t('title_in', { lang: ctx.langName('zh-Hans') }),
      el('input', { name: 'title', required: true, lang: 'zh-Hans', dir: 'ltr' })),
    taxonFieldset(ctx, 'themes', [], true),
    taxonFieldset(ctx, 'audiences', [], true),
    taxonFieldset(ctx, 'programs', [], false),
    el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', text: t('create') })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      id: form.elements.id.value.trim(),
      title: { 'zh-Hans': form.elements.title.value.trim() },
      themes: checked(form, 'themes'),
      audiences: checked(form, 'audiences'),
      programs: checked(form, 'programs'),
    };
    const made = await ctx.act(() => ctx.call('/api/v1/courses', { method: 'POST', body }), e.submitter);
    if (!made) return;
    await ctx.act(() => ctx.list.refresh());
    location.hash = `course=${encodeURIComponent(made.id)}`;
  });
  root.replaceChildren(form);
  form.elements.id.focus();
}

// The texts of a course in every language it may be written in; the three interface
// languages are open, the others folded away.
function textsForm(ctx, course, save) {
  const { t } = ctx;
  const langs = ctx.taxonomy.languages.map((l) => l.tag);
  const block = (tag) => {
    const attrs = contentAttrs(tag, ctx.taxonomy.languages);
    return el('fieldset', { class: 'lang-block', 'data-lang': tag },
      el('legend', { text: ctx.langName(tag), lang: tag }),
      field(t('title'), el('input', {
        name: `title:${tag}`, value: course.title[tag] || '', 'data-key': `title:${tag}`, ...attrs,
      })),
      field(t('description'), el('textarea', {
        name: `description:${tag}`, rows: 2, 'data-key': `description:${tag}`, ...attrs,
      }, course.description[tag] || '')),
      // How this language's texts were made, e.g. a machine-assisted draft awaiting review.
      tag === 'zh-Hans' ? null : field(t('translation'), el('input', {
        name: `translation:${tag}`, value: course.translation?.[tag] || '', 'data-key': `translation:${tag}`,
      }), t('translation_hint')));
  };
  const others = langs.filter((l) => !MAIN_LANGS.includes(l));
  const form = el('form', { class: 'card', id: 'course-texts' },
    el('h3', { text: t('texts') }),
    el('div', { class: 'lang-grid' }, ...MAIN_LANGS.map(block)),
    others.length ? el('details', {}, el('summary', { text: t('more_languages') }),
      el('div', { class: 'lang-grid' }, ...others.map(block))) : null,
    el('div', { class: 'row' },
      el('button', { type: 'submit', class: 'primary', text: t('save_texts'), 'data-key': 'save-texts' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const patch = {};
    for (const what of ['title', 'description', 'translation']) {
      for (const tag of langs) {
        const input = form.elements[`${what}:${tag}`];
        if (!input) continue;
        const now = input.value.trim();
        const was = course[what]?.[tag] || '';
        // Merge-patch per language: only what changed, and null removes a language.
        if (now !== was) (patch[what] ||= {})[tag] = now || null;
      }
    }
    if (!Object.keys(patch).length) { ctx.note(t('nothing_changed')); return; }
    save(patch, e.submitter);
  });
  return form;
}

function tagsForm(ctx, course, save) {
  const { t } = ctx;
  const form = el('form', { class: 'card', id: 'course-tags' },
    el('h3', { text: t('who_and_what') }),
    el('div', { class: 'tag-grid' },
      taxonFieldset(ctx, 'themes', course.themes, true),
      taxonFieldset(ctx, 'audiences', course.audiences, true),
      taxonFieldset(ctx, 'programs', course.programs, false)),
    el('div', { class: 'row' },
      el('button', { type: 'submit', class: 'primary', text: t('save_tags'), 'data-key': 'save-tags' })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save({
      themes: checked(form, 'themes'),
      audiences: checked(form, 'audiences'),
      programs: checked(form, 'programs'),
    }, e.submitter);
  });
  return form;
}

export function courseEditor(ctx, root, id) {
  const { t } = ctx;
  let course = null;
  let closed = false;
  const path = `/api/v1/courses/${encodeURIComponent(id)}`;

  // After any change: the course as the server now has it, and the list's view of it.
  async function settle(changed) {
    if (!changed || closed) return;
    course = changed;
    await ctx.act(() => ctx.list.refresh());
    ctx.list.mark(id);
    draw();
  }

  const patchCourse = async (patch, button) =>
    settle(await ctx.act(() => ctx.call(path, { method: 'PATCH', body: patch }), button));

  function head() {
    const entry = ctx.list.entry(id) || {};
    const publish = el('button', { type: 'button', class: 'primary', id: 'publish', 'data-key': 'publish', text: t('publish') });
    const retire = el('button', { type: 'button', id: 'retire', 'data-key': 'retire', text: t('retire') });
    publish.addEventListener('click', async () => {
      const done = await ctx.act(() => ctx.call(`${path}/publish`, { method: 'POST' }), publish);
      if (done) {
        await settle(done);
        ctx.note(t('published_now', { v: done.version }));
      }
    });
    retire.addEventListener('click', async () => {
      if (!confirm(t('confirm_retire'))) return;
      const done = await ctx.act(() => ctx.call(`${path}/retire`, { method: 'POST' }), retire);
      if (done) await settle(await ctx.act(() => ctx.call(`${path}/draft`)) || done);
    });
    return el('section', { class: 'card course-head', 'data-course-edit': id },
      el('h2', { text: ctx.pick(course.title) || id }),
      el('p', { class: 'row' },
        el('bdi', { class: 'muted', text: id }),
        el('span', { class: 'muted', text: t('version_n', { v: course.version }) }),
        ...stateBadges(ctx, entry)),
      el('div', { class: 'row' }, publish, retire),
      el('p', { class: 'muted', text: t('publish_hint') }));
  }

  function draw() {
    redraw(root, () => root.replaceChildren(
      head(),
      lessonsSection(ctx, course, { settle, patchCourse }),
      textsForm(ctx, course, patchCourse),
      tagsForm(ctx, course, patchCourse)));
  }

  async function load() {
    root.replaceChildren(el('p', { class: 'card muted', text: t('loading') }));
    const found = await ctx.act(() => ctx.call(`${path}/draft`));
    if (found && !closed) { course = found; draw(); }
  }

  load();
  return {
    close() { closed = true; },
    // Called when an upload was attached to one of this course's lessons.
    async reload() { if (!closed) await settle(await ctx.act(() => ctx.call(`${path}/draft`))); },
    has(lesson) { return course?.lessons.some((l) => l.id === lesson); },
  };
}
