// A group session as the station keeps it. The station is the one that knows what happened in
// the room, so its record is the truth that the server is told about:
// - the session id is a uuid made here, so the session can be opened while the server is away;
// - open, every check-in and check-out, and the end with the playback go through the outbox,
//   in that order, whenever the link allows;
// - the state (who is present, what was played and when) is written to IndexedDB as it
//   changes (every 2 s while playing, and when the page goes away), so a reload or a power
//   cut mid-lesson loses at most a couple of seconds of playback.
// The server credits each present member the overlap of their presence with the playback when
// the end arrives, so crediting needs nothing else from the station.
import { uuid } from '/ui/shared/api.js';
import * as db from './store.js';
import * as outbox from './outbox.js';

const SAVE_EVERY_MS = 2000;

export const load = () => db.get('meta', 'session');
const save = (s) => db.put('meta', s, 'session');
export const forget = () => db.del('meta', 'session');

// A session being prepared for `lesson` in variant `lang`; opened on the server at the first
// check-in or when playback starts, whichever comes first.
export async function prepare(lesson, lang, token) {
  const s = {
    id: uuid(), lesson: lesson.id, lang, token, title: lesson.name, courseTitle: lesson.courseTitle,
    duration_ms: lesson.duration_ms, opened: false, present: {}, played: [], wall: [null, null],
    position_ms: 0, ended: null,
  };
  await save(s);
  return s;
}

// Each change is queued for the server before it is saved here: a power cut in between then
// leaves the server told and this record behind, which the operator sees and repeats, and a
// repeat is harmless (a second open is `exists`, a second check-in at once changes nothing,
// a second end is `ended`). The other order could lose a check-in the room saw happen.
export async function open(s) {
  if (s.opened) return;
  await outbox.enqueue({
    kind: 'open', path: '/api/v1/group-sessions', token: s.token,
    body: { id: s.id, lesson: s.lesson, lang: s.lang },
  });
  s.opened = true;
  await save(s);
}

// Checks a member in (true) or out (false) now.
export async function check(s, member, present) {
  await open(s);
  await outbox.enqueue({
    kind: 'attendance', path: `/api/v1/group-sessions/${s.id}/attendance`, token: s.token, clock: true,
    body: { events: [{ member, action: present ? 'in' : 'out', at: new Date().toISOString() }] },
  });
  s.present[member] = present;
  await save(s);
}

export const presentCount = (s) => Object.values(s.present).filter(Boolean).length;
export const playedMs = (s) => s.played.reduce((sum, [a, b]) => sum + (b - a), 0);

// Adds [a, b) to a sorted list of disjoint intervals.
export function addInterval(list, a, b) {
  if (b <= a) return list;
  const out = [];
  let [from, to] = [a, b];
  for (const [x, y] of list) {
    if (y < from || x > to) out.push([x, y]);
    else { from = Math.min(from, x); to = Math.max(to, y); }
  }
  out.push([from, to]);
  return out.sort((p, q) => p[0] - q[0]);
}

// Follows a <video> playing this session: media time that advanced at (about) the pace of the
// wall clock while playing is added to `played`; seeking, stalls and jumps add nothing.
// The wall interval runs from the first played moment to the last.
export function track(s, video, onChange = () => {}) {
  let last = null;
  let savedAt = 0;
  const clip = (ms) => Math.max(0, Math.min(Math.round(ms), s.duration_ms));
  const advance = () => {
    const now = { media: video.currentTime * 1000, wall: Date.now() };
    if (last) {
      const dm = now.media - last.media;
      const dw = now.wall - last.wall;
      if (dm > 0 && dm <= dw * 1.5 + 1000) {
        s.played = addInterval(s.played, clip(last.media), clip(now.media));
        if (s.wall[0] == null) s.wall[0] = last.wall;
        s.wall[1] = now.wall;
      }
    }
    s.position_ms = clip(now.media);
    last = now;
    if (now.wall - savedAt > SAVE_EVERY_MS) { savedAt = now.wall; save(s); }
    onChange(s);
  };
  const start = () => { last = { media: video.currentTime * 1000, wall: Date.now() }; };
  const stop = () => {
    if (last && !video.seeking) advance();
    last = null;
    save(s);
    onChange(s);
  };
  const handlers = {
    playing: start,
    // After a seek no 'playing' need come: the first update after it starts a new stretch.
    timeupdate: () => {
      if (video.paused || video.seeking) return;
      if (last) advance();
      else start();
    },
    pause: stop, ended: stop, waiting: stop, seeking: () => { last = null; },
  };
  // A reload or a closed window keeps what was played up to that moment.
  const leaving = () => { if (last && !video.paused) advance(); save(s); };
  for (const [name, fn] of Object.entries(handlers)) video.addEventListener(name, fn);
  addEventListener('pagehide', leaving);
  return () => {
    for (const [name, fn] of Object.entries(handlers)) video.removeEventListener(name, fn);
    removeEventListener('pagehide', leaving);
  };
}

// Ends the session with its playback; the credits come back when the outbox delivers it.
export async function end(s) {
  await open(s);
  const now = Date.now();
  // Nothing played still ends the session (crediting nobody); the wall must not be empty.
  const from = s.wall[0] ?? now - 1000;
  const to = Math.max(s.wall[1] ?? now, from + 1);
  await outbox.enqueue({
    kind: 'end', path: `/api/v1/group-sessions/${s.id}/end`, token: s.token, clock: true,
    body: {
      played: s.played, wall: [new Date(from).toISOString(), new Date(to).toISOString()],
      position_ms: s.position_ms,
    },
  });
  s.ended = { at: new Date(now).toISOString(), results: null };
  await save(s);
}

// Keeps what the server answered to the end (each member's credit), once it arrives.
export async function noteResults(sessionId, results) {
  const s = await load();
  if (s?.id !== sessionId || !s.ended) return null;
  s.ended.results = results;
  await save(s);
  return s;
}
