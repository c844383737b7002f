// The lessons of a course: their order (moved one step at a time), kind, nominal duration and
// titles per language, deleting one, adding one; and under each, its variants and uploads.
import { el } from '../shared/api.js';
import { field, MAIN_LANGS, contentAttrs, clock } from './ui.js';
import { variantsBlock } from './uploads.js';

const ID_PATTERN = '[a-z0-9\\-]{1,64}';

function minutesInput(ctx, name, ms, key) {
  return el('input', {
    name, type: 'number', min: '0.01', max: '1440', step: 'any', required: true, dir: 'ltr',
    value: ms ? String(Math.round(ms / 600) / 100) : '', 'data-key': key,
  });
}

function kindSelect(ctx, name, kind, key) {
  const select = el('select', { name, 'data-key': key });
  for (const k of ['video', 'text']) select.append(new Option(ctx.t(`kind_${k}`), k, k === kind, k === kind));
  return select;
}

function lessonForm(ctx, lesson, save) {
  const { t } = ctx;
  const key = (what) => `lesson:${lesson.id}:${what}`;
  const titleField = (tag) => field(t('title_in', { lang: ctx.langName(tag) }), el('input', {
    name: `title:${tag}`, value: lesson.title[tag] || '', 'data-key': key(`title:${tag}`),
    ...contentAttrs(tag, ctx.taxonomy.languages),
  }));
  const others = ctx.taxonomy.languages.map((l) => l.tag).filter((l) => !MAIN_LANGS.includes(l));
  const form = el('form', { class: 'lesson-form' },
    el('div', { class: 'lang-grid' },
      field(t('kind'), kindSelect(ctx, 'kind', lesson.kind, key('kind'))),
      field(t('duration_min'), minutesInput(ctx, 'minutes', lesson.duration_ms, key('minutes')), t('duration_hint'))),
    el('div', { class: 'lang-grid' }, ...MAIN_LANGS.map(titleField)),
    others.length ? el('details', {}, el('summary', { text: t('more_languages') }),
      el('div', { class: 'lang-grid' }, ...others.map(titleField))) : null,
    el('div', { class: 'row' }, el('button', { type: 'submit', text: t('save_lesson'), 'data-key': key('save') })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const patch = {};
    const kind = form.elements.kind.value;
    if (kind !== lesson.kind) patch.kind = kind;
    const ms = Math.round(Number(form.elements.minutes.value) * 60000);
    if (ms !== lesson.duration_ms) patch.duration_ms = ms;
    for (const { tag } of ctx.taxonomy.languages) {
      const now = form.elements[`title:${tag}`].value.trim();
      if (now !== (lesson.title[tag] || '')) (patch.title ||= {})[tag] = now || null;
    }
    if (!Object.keys(patch).length) { ctx.note(t('nothing_changed')); return; }
    save(patch, e.submitter);
  });
  return form;
}

function lessonCard(ctx, course, lesson, index, { settle, patchCourse }) {
  const { t } = ctx;
  const path = `/api/v1/lessons/${encodeURIComponent(lesson.id)}`;
  const order = course.lessons.map((l) => l.id);
  const move = (step, button) => {
    const to = index + step;
    [order[index], order[to]] = [order[to], order[index]];
    return patchCourse({ lessons: order }, button);
  };
  const button = (text, label, key, onclick, disabled) => el('button', {
    type: 'button', text, 'aria-label': label, title: label, 'data-key': `lesson:${lesson.id}:${key}`,
    disabled, onclick,
  });
  const up = button('↑', t('move_up'), 'up', (e) => move(-1, e.currentTarget), index === 0);
  const down = button('↓', t('move_down'), 'down', (e) => move(1, e.currentTarget), index === course.lessons.length - 1);
  const remove = button(t('delete'), t('delete_lesson'), 'delete', async (e) => {
    if (!confirm(t('confirm_delete', { id: lesson.id }))) return;
    settle(await ctx.act(() => ctx.call(path, { method: 'DELETE' }), e.currentTarget));
  });
  const save = async (patch, submitter) =>
    settle(await ctx.act(() => ctx.call(path, { method: 'PATCH', body: patch }), submitter));
  return el('li', { class: 'lesson', 'data-lesson-edit': lesson.id },
    el('div', { class: 'lesson-head' },
      el('h4', {},
        el('span', { class: 'lesson-n', text: `${index + 1}.` }), ' ',
        el('span', { text: ctx.pick(lesson.title) || lesson.id })),
      el('span', { class: 'badge', text: t(`kind_${lesson.kind}`) }),
      el('span', { class: 'badge', dir: 'ltr', text: clock(lesson.duration_ms) }),
      el('bdi', { class: 'muted', text: lesson.id }),
      el('span', { class: 'lesson-tools' }, up, down, remove)),
    el('details', { class: 'lesson-edit' },
      el('summary', { text: t('edit_lesson') }),
      lessonForm(ctx, lesson, save)),
    variantsBlock(ctx, course, lesson, { settle, save }));
}

function addLessonForm(ctx, course, settle) {
  const { t } = ctx;
  const suggested = `${course.id}-${course.lessons.length + 1}`.slice(0, 64);
  const form = el('form', { class: 'add-lesson', id: 'add-lesson' },
    el('h4', { text: t('add_lesson') }),
    el('div', { class: 'lang-grid' },
      field(t('lesson_id'), el('input', {
        name: 'id', required: true, pattern: ID_PATTERN, value: suggested, dir: 'ltr',
        autocomplete: 'off', spellcheck: 'false', 'data-key': 'new-lesson:id',
      }), t('lesson_id_hint')),
      field(t('kind'), kindSelect(ctx, 'kind', 'video', 'new-lesson:kind')),
      field(t('duration_min'), minutesInput(ctx, 'minutes', 0, 'new-lesson:minutes')),
      field(t('title_in', { lang: ctx.langName('zh-Hans') }), el('input', {
        name: 'title', required: true, lang: 'zh-Hans', dir: 'ltr', 'data-key': 'new-lesson:title',
      }))),
    el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', text: t('add'), 'data-key': 'new-lesson:add' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      id: form.elements.id.value.trim(),
      kind: form.elements.kind.value,
      duration_ms: Math.round(Number(form.elements.minutes.value) * 60000),
      title: { 'zh-Hans': form.elements.title.value.trim() },
    };
    const path = `/api/v1/courses/${encodeURIComponent(course.id)}/lessons`;
    const changed = await ctx.act(() => ctx.call(path, { method: 'POST', body }), e.submitter);
    if (changed) {
      form.reset(); // the new lesson's fields are not "unsaved typing" for the redraw
      await settle(changed);
    }
  });
  return form;
}

export function lessonsSection(ctx, course, actions) {
  const { t } = ctx;
  return el('section', { class: 'card', id: 'lessons' },
    el('h3', { text: t('lessons_n', { n: course.lessons.length }) }),
    course.lessons.length
      ? el('ol', { class: 'lessons' }, ...course.lessons.map((l, i) => lessonCard(ctx, course, l, i, actions)))
      : el('p', { class: 'muted', text: t('no_lessons') }),
    addLessonForm(ctx, course, actions.settle));
}
