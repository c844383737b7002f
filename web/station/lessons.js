// The lesson list: the station's catalogue by course, each playable lesson with its length,
// languages, "group study", and "download for offline" with progress (or what is kept).
import { el } from '/ui/shared/api.js';
import { clock, iso, ltr } from './format.js';
import * as catalogue from './catalogue.js';
import * as db from './store.js';
import { candidates, fillSizes } from '../shared/rendition.js';
import { download, downloading, keptUrls, remove } from './offline.js';

const $ = (id) => document.getElementById(id);
const AUTONYM = { 'zh-Hans': '中文', 'ug-Arab': 'ئۇيغۇرچە', 'bo-Tibt': 'བོད་ཡིག' };
export const langName = (l) => AUTONYM[l] || l;
const mb = (bytes) => (bytes / 1048576).toFixed(1);

export const renditionName = (t, c) => (c.name === 'audio' ? t('r_audio') : c.name === 'source' ? t('r_source') : c.name);

let searchWired = false;

export async function showLessons(ctx) {
  ctx.show('lessons-view');
  await draw(ctx);
  if (!searchWired) {
    searchWired = true;
    $('search').addEventListener('input', () => filter($('search').value));
    $('refresh').addEventListener('click', async () => {
      await ctx.syncCatalogue();
      await draw(ctx);
    });
  }
  // Draw what is kept at once, then bring it up to date.
  if (await ctx.syncCatalogue()) await draw(ctx);
}

async function draw(ctx) {
  const { t, lang } = ctx;
  const cat = ctx.catalogue;
  const note = $('catalogue-note');
  const when = cat.synced ? new Date(cat.synced).toLocaleString(lang) : '';
  const linkDown = $('link').classList.contains('bad');
  note.textContent = !cat.synced ? t('catalogue_never')
    : linkDown ? t('catalogue_offline', { time: when }) : t('catalogue_synced', { time: when });
  const kept = await keptUrls();
  const partial = new Map((await db.entries('downloads')).map(([url, rec]) => [url, rec]));
  const courses = catalogue.playable(cat, lang);
  const list = $('courses');
  if (!courses.length) {
    list.replaceChildren(el('section', { class: 'card muted', text: t('no_lessons') }));
    return;
  }
  list.replaceChildren(...courses.map((course) => el('section', { class: 'card course' },
    el('h3', { text: course.title }),
    el('ul', { class: 'lessons' }, course.lessons.map((lesson) => lessonRow(ctx, lesson, kept, partial))))));
  filter($('search').value);
}

function filter(text) {
  const q = text.trim().toLowerCase();
  for (const row of document.querySelectorAll('#courses [data-lesson]')) {
    row.hidden = q !== '' && !row.dataset.search.includes(q);
  }
  for (const course of document.querySelectorAll('#courses .course')) {
    course.hidden = [...course.querySelectorAll('[data-lesson]')].every((r) => r.hidden);
  }
}

// The file "download for offline" keeps: the best video rendition of the station's first
// language (sound only when the lesson has no picture).
function downloadTarget(ctx, lesson, files) {
  const lang = catalogue.variantOrder(lesson, ctx.me.station)[0];
  const best = candidates(files ?? catalogue.filesOf(ctx.catalogue, lesson.variants[lang]), lesson.duration_ms)[0];
  return best && { lang, best };
}

function lessonRow(ctx, lesson, kept, partial) {
  const { t } = ctx;
  const langs = catalogue.variantOrder(lesson, ctx.me.station);
  const target = downloadTarget(ctx, lesson);
  const keptFile = langs.flatMap((l) => candidates(catalogue.filesOf(ctx.catalogue, lesson.variants[l]), lesson.duration_ms))
    .find((c) => kept.has(c.url));
  const state = el('span', { class: 'dl-state muted' });
  const bar = el('progress', { max: '1', value: '0', hidden: true });
  const actions = el('div', { class: 'row lesson-actions' },
    el('button', { type: 'button', class: 'primary', text: t('group_study'), onclick: () => ctx.room(lesson) }));
  if (keptFile) {
    state.textContent = t('downloaded', { r: iso(renditionName(t, keptFile)) });
    state.className = 'dl-state ok';
    actions.append(state, el('button', {
      type: 'button', text: t('remove_download'),
      onclick: async () => { await remove(keptFile.url); await draw(ctx); },
    }));
  } else if (target) {
    const half = partial.get(target.best.url);
    const label = half && !half.done
      ? t('download_resume', { p: Math.floor((100 * half.parts * 1048576) / half.size) })
      : target.best.size ? t('download_size', { r: iso(renditionName(t, target.best)), mb: ltr(mb(target.best.size)) }) : t('download');
    const button = el('button', { type: 'button', class: 'download', text: label });
    button.addEventListener('click', () => fetchForOffline(ctx, lesson, button, bar, state));
    actions.append(button, bar, state);
    if (downloading(target.best.url)) fetchForOffline(ctx, lesson, button, bar, state);
  }
  return el('li', {
    class: 'lesson', 'data-lesson': lesson.id,
    'data-search': `${lesson.name} ${lesson.courseTitle} ${lesson.id}`.toLowerCase(),
  },
  el('div', { class: 'lesson-text' },
    el('strong', { text: lesson.name }),
    el('span', { class: 'muted', text: `${t('duration', { t: clock(lesson.duration_ms) })} · ${langs.map(langName).join(' · ')}` })),
  actions);
}

async function fetchForOffline(ctx, lesson, button, bar, state) {
  const { t } = ctx;
  button.disabled = true;
  bar.hidden = false;
  state.className = 'dl-state muted';
  try {
    const lang = catalogue.variantOrder(lesson, ctx.me.station)[0];
    const { files } = await catalogue.lessonFiles(ctx.catalogue, lesson, lang, ctx.token);
    const { best } = downloadTarget(ctx, lesson, files);
    await fillSizes([best], lesson.duration_ms);
    if (!best.size) throw new Error(t('offline'));
    await download({ url: best.url, size: best.size, mime: best.mime, lesson: lesson.id, lang, name: best.name }, (f) => {
      bar.value = f;
      state.textContent = t('downloading', { p: Math.floor(f * 100) });
    });
    await draw(ctx);
  } catch (err) {
    state.textContent = t('download_failed', { message: err.message });
    state.className = 'dl-state bad';
    button.disabled = false;
    button.textContent = t('download');
  }
}
