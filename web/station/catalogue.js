// The station's catalogue: GET /api/v1/sync/changes already holds only what this station may
// play (its languages, with their fallbacks, and its audiences), with every text in every
// language and the size of every file. It is followed page by page from the sequence number
// last applied and kept in IndexedDB, so the lesson list is there when the server is not.
import { api, ApiError } from '/ui/shared/api.js';
import * as db from './store.js';

const EMPTY = { seq: 0, courses: {}, blobs: {}, files: {}, synced: null, scope: '' };

// What the catalogue was synced for; a station moved to other languages starts again from 0.
const scopeOf = (station) => JSON.stringify([station.languages || [], station.audiences || []]);

export async function stored() {
  return (await db.get('meta', 'catalogue')) || EMPTY;
}

function apply(cat, page) {
  for (const change of page.changes) {
    if (change.action === 'put') {
      cat.courses[change.course.id] = change.course;
      Object.assign(cat.files, change.files || {});
    } else if (change.action === 'delete') {
      delete cat.courses[change.id];
    }
  }
  for (const b of page.blobs) cat.blobs[b.sha256] = { size: b.size, mime: b.mime };
  cat.seq = page.seq;
}

// Brings the stored catalogue up to date; throws ApiError (status 0 when unreachable) and
// then the stored one still stands.
export async function sync(token, station) {
  let cat = await stored();
  if (cat.scope !== scopeOf(station)) cat = { ...structuredClone(EMPTY), scope: scopeOf(station) };
  let url = `/api/v1/sync/changes?since=${cat.seq}`;
  while (url) {
    let page;
    try {
      page = await api(url, { token });
    } catch (err) {
      // The server's catalogue was rebuilt behind us: start again from nothing.
      if (err instanceof ApiError && err.code === 'resync' && cat.seq !== 0) {
        cat = { ...structuredClone(EMPTY), scope: scopeOf(station) };
        url = '/api/v1/sync/changes?since=0';
        continue;
      }
      throw err;
    }
    apply(cat, page);
    url = page.next;
  }
  cat.synced = new Date().toISOString();
  await db.put('meta', cat, 'catalogue');
  return cat;
}

// A text in the interface language, else Chinese, else any.
export function pick(texts, lang) {
  return texts?.[lang] ?? texts?.['zh-Hans'] ?? Object.values(texts || {})[0] ?? '';
}

// The variant languages of a lesson in the order this station prefers them.
export function variantOrder(lesson, station) {
  const have = Object.keys(lesson.variants);
  const wanted = [...(station.languages || []), 'zh-Hans'];
  return [...wanted.filter((l) => have.includes(l)), ...have.filter((l) => !wanted.includes(l))]
    .filter((l, i, all) => all.indexOf(l) === i);
}

// Courses with their playable (video or sound) lessons, titles in `lang`, sorted by title.
export function playable(cat, lang) {
  return Object.values(cat.courses)
    .map((course) => ({
      id: course.id,
      title: pick(course.title, lang),
      lessons: course.lessons
        .filter((l) => l.kind === 'video')
        .map((l) => ({ ...l, course: course.id, courseTitle: pick(course.title, lang), name: pick(l.title, lang) })),
    }))
    .filter((c) => c.lessons.length)
    .sort((a, b) => a.title.localeCompare(b.title, lang));
}

// Every file made from one variant, as the catalogue knows them: path → {url, size}.
export function filesOf(cat, variant) {
  const out = { '': { url: `/media/${variant.sha256}`, size: variant.size, mime: variant.mime } };
  for (const [path, blob] of Object.entries(cat.files[variant.sha256] || {})) {
    out[path] = { url: `/media/${variant.sha256}/${path}`, size: cat.blobs[blob]?.size };
  }
  return out;
}

// The files of a lesson's variant: what the catalogue knows, brought up to date by
// GET /api/v1/lessons/{id}/play when the server answers (renditions made since the last sync,
// or a variant replaced since). Offline, the catalogue's list stands.
export async function lessonFiles(cat, lesson, lang, token) {
  const variant = lesson.variants[lang];
  if (!variant) return { files: {}, online: undefined }; // nothing to ask the server about
  let files = filesOf(cat, variant);
  try {
    const play = await api(`/api/v1/lessons/${encodeURIComponent(lesson.id)}/play?lang=${encodeURIComponent(lang)}`, { token });
    if (play.sha256 !== variant.sha256) {
      files = { '': { url: play.url, size: play.size, mime: play.mime } };
    }
    for (const [path, url] of Object.entries(play.files || {})) {
      if (!files[path]) files[path] = { url, size: undefined };
    }
    return { files, online: true, thumbnail: play.thumbnail };
  } catch (err) {
    if (err instanceof ApiError && err.offline) return { files, online: false };
    throw err;
  }
}
