// The room: one group session. The operator checks members in and out, plays the lesson
// full-screen (or filling the window where full screen is refused), and ends the session.
// The file played is the best the link sustains (rendition.js), or the downloaded one.
import { api, apiList, ApiError, el } from '/ui/shared/api.js';
import { formatClock } from '/ui/shared/i18n.js';
import { clock, iso, ltr, speed } from './format.js';
import * as catalogue from './catalogue.js';
import * as db from './store.js';
import * as outbox from './outbox.js';
import * as session from './session.js';
import { candidates, choose, fillSizes, measure, recentKbps } from '../shared/rendition.js';
import { keptUrls, tagged } from './offline.js';
import { langName, renditionName } from './lessons.js';

const $ = (id) => document.getElementById(id);
const video = $('player');

// The room's state; one room at a time.
let ctx = null;
let lesson = null;
let current = null; // the session record (session.js)
let members = [];
let untrack = () => {};
let choosing = 0;

export async function openRoom(context, chosenLesson, restored) {
  ctx = context;
  lesson = chosenLesson;
  ctx.show('room-view');
  $('summary').hidden = true;
  $('end-ask').hidden = true;
  const langs = catalogue.variantOrder(lesson, ctx.me.station);
  current = restored || await session.prepare(lesson, langs[0], ctx.token);
  $('lesson-title').textContent = `${lesson.courseTitle} · ${lesson.name}`;
  $('session-note').textContent = ctx.t('session_id', { id: ltr(current.id.slice(0, 8)) });
  const select = $('variant');
  select.replaceChildren(...langs.map((l) => new Option(langName(l), l, l === current.lang, l === current.lang)));
  select.disabled = current.opened || langs.length < 2;
  untrack();
  untrack = session.track(current, video, drawClock);
  drawClock();
  drawButtons();
  if (restored) {
    // Back where the lesson was when the page went away.
    video.addEventListener('loadedmetadata', () => { video.currentTime = current.position_ms / 1000; }, { once: true });
  }
  await Promise.all([loadMembers(), pickFile()]);
}

// ---- which file plays, and why

async function pickFile() {
  const { t } = ctx;
  const turn = ++choosing;
  const note = $('rendition');
  note.textContent = t('measuring');
  note.className = 'muted';
  try {
    const { files, online, thumbnail } = await catalogue.lessonFiles(ctx.catalogue, lesson, current.lang, ctx.token);
    if (online !== undefined) ctx.link(online);
    const list = candidates(files, lesson.duration_ms);
    if (online) await fillSizes(list, lesson.duration_ms);
    const kept = await keptUrls();
    let kbps = null;
    if (online && !list.some((c) => kept.has(c.url))) {
      // A fresh measurement on the smallest video file (or the sound): a real download.
      const probe = [...list].reverse().find((c) => c.video) || list[list.length - 1];
      kbps = probe ? await measure(probe.url) : null;
      kbps = kbps ?? recentKbps();
    }
    if (turn !== choosing) return;
    const choice = choose(list, kbps, kept, online);
    const r = choice.pick && renditionName(t, choice.pick);
    const reasons = {
      cached: () => t('why_cached', { r: iso(r) }),
      measured: () => t('why_measured', { kbps: speed(choice.kbps), r: iso(r), need: speed(choice.need) }),
      weak: () => t('why_weak', { kbps: speed(choice.kbps), need: speed(choice.need) }),
      'weak-video': () => t('why_weak_video', { kbps: speed(choice.kbps), r: iso(r) }),
      unmeasured: () => t('why_unmeasured', { r: iso(r) }),
      offline: () => t('why_offline'),
      none: () => t('why_none'),
    };
    note.textContent = reasons[choice.reason]();
    note.className = choice.pick ? 'muted' : 'bad';
    note.dataset.rendition = choice.pick?.name || '';
    note.dataset.reason = choice.reason;
    if (choice.pick) {
      video.poster = online && thumbnail && !kept.has(choice.pick.url) ? thumbnail : '';
      video.classList.toggle('audio-only', !choice.pick.video);
      const src = tagged(choice.pick.url); // the worker plays a kept copy by its path alone
      if (video.getAttribute('src') !== src) video.src = src;
    } else {
      video.removeAttribute('src');
    }
    drawButtons();
  } catch (err) {
    ctx.fail(err);
  }
}

$('variant').addEventListener('change', async () => {
  current.lang = $('variant').value;
  await db.put('meta', current, 'session');
  pickFile();
});

// ---- members

async function loadMembers() {
  const { t } = ctx;
  const note = $('members-note');
  note.textContent = '';
  try {
    members = await apiList('/api/v1/members', { token: ctx.token });
    await db.put('meta', members, 'members');
  } catch (err) {
    members = (await db.get('meta', 'members')) || [];
    if (err instanceof ApiError && err.offline) note.textContent = t('members_offline');
    else ctx.fail(err);
  }
  members = members.filter((m) => m.org === ctx.me.org)
    .sort((a, b) => a.name.localeCompare(b.name, ctx.lang) || a.id.localeCompare(b.id));
  drawMembers();
}

function drawMembers() {
  const { t } = ctx;
  const ended = !!current.ended;
  $('members').replaceChildren(...(members.length ? members.map((m) => {
    const present = !!current.present[m.id];
    return el('li', { 'data-member': m.id, class: present ? 'present' : '' },
      el('span', { class: 'who' }, el('strong', { text: m.name }), ' ', el('span', { class: 'muted', text: m.id })),
      el('span', { class: 'ok', text: present ? t('is_present') : '' }),
      el('button', {
        type: 'button', 'aria-pressed': String(present), disabled: ended,
        'aria-label': `${present ? t('check_out') : t('check_in')} ${m.name}`,
        text: present ? t('check_out') : t('check_in'),
        onclick: () => checkMember(m.id, !present),
      }));
  }) : [el('li', { class: 'muted', text: t('no_members') })]));
  $('present-count').textContent = t('present_count', { n: session.presentCount(current) });
  $('all-in').disabled = ended || members.every((m) => current.present[m.id]);
}

async function checkMember(id, present) {
  try {
    await session.check(current, id, present);
    $('variant').disabled = true;
  } catch (err) {
    ctx.fail(err);
  }
  drawMembers();
  document.querySelector(`#members [data-member="${CSS.escape(id)}"] button`)?.focus();
}

$('all-in').addEventListener('click', async () => {
  for (const m of members) if (!current.present[m.id]) await checkMember(m.id, true);
});

// ---- playing, full screen

function drawClock() {
  if (!current) return;
  const { t } = ctx;
  const played = session.playedMs(current);
  // A <bdi dir=ltr> element, not only isolate characters: Chromium still ordered the two
  // times right to left inside a Uyghur sentence with those alone.
  $('clock').replaceChildren(
    el('bdi', { dir: 'ltr', text: `${formatClock(current.position_ms)} / ${formatClock(lesson.duration_ms)}` }),
    ` · ${t('played', { t: clock(played) })}`,
  );
  $('played').textContent = t('played', { t: clock(played) });
  $('played').dataset.playedMs = String(played);
}

function drawButtons() {
  const playing = !video.paused && !video.ended;
  const big = !!document.fullscreenElement || $('stage').classList.contains('theatre');
  $('play').hidden = playing || !!current?.ended;
  $('play').disabled = !video.getAttribute('src');
  $('play').textContent = big ? ctx.t('play') : ctx.t('fullscreen');
  $('pause').hidden = !playing;
  $('leave-fullscreen').hidden = !big;
  $('end').hidden = !!current?.ended;
  $('back').disabled = !!current?.opened && !current?.ended;
}

// Full screen where the browser allows it; otherwise the stage fills the window, which is
// what a refused request (kiosk settings, headless browsers) still leaves possible.
async function enlarge() {
  const stage = $('stage');
  if (document.fullscreenElement) return;
  try {
    if (!document.fullscreenEnabled) throw new Error('refused');
    await stage.requestFullscreen();
  } catch {
    stage.classList.add('theatre');
  }
  drawButtons();
}

function shrink() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  $('stage').classList.remove('theatre');
  drawButtons();
}

$('play').addEventListener('click', async () => {
  const big = enlarge(); // first, while the click still counts as the operator's gesture
  try {
    await session.open(current);
    $('variant').disabled = true;
    // After a media error the element plays nothing more until it loads again (from the
    // start: time already played is not credited twice).
    if (video.error) video.load();
    await video.play();
  } catch (err) {
    ctx.fail(err);
  }
  await big;
  drawButtons();
});
$('pause').addEventListener('click', () => video.pause());
$('leave-fullscreen').addEventListener('click', shrink);
document.addEventListener('fullscreenchange', drawButtons);
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') shrink(); });
for (const name of ['play', 'pause', 'ended', 'loadedmetadata', 'emptied']) video.addEventListener(name, drawButtons);
// At the end the room comes back, with the members and the button to end the session.
video.addEventListener('ended', shrink);
// The browser's own reason, shown as it is (the operator may need to tell the county).
video.addEventListener('playing', () => { if ($('status').classList.contains('bad')) ctx.status(''); });
video.addEventListener('error', () => {
  if (video.error && ctx) ctx.status(ctx.t('error_msg', { message: video.error.message || `media error ${video.error.code}` }), 'bad');
});

// ---- ending

$('end').addEventListener('click', () => { $('end-ask').hidden = false; $('end-yes').focus(); });
$('end-no').addEventListener('click', () => { $('end-ask').hidden = true; $('end').focus(); });
$('end-yes').addEventListener('click', async () => {
  $('end-ask').hidden = true;
  video.pause();
  shrink();
  try {
    await session.end(current);
  } catch (err) {
    ctx.fail(err);
    return;
  }
  drawMembers();
  drawButtons();
  drawSummary();
  $('summary').focus?.();
});

function drawSummary() {
  const { t } = ctx;
  $('summary').hidden = false;
  drawClock();
  const results = current.ended?.results;
  $('summary-note').textContent = results ? '' : t('ended_wait');
  const name = (id) => members.find((m) => m.id === id)?.name || id;
  $('credits').replaceChildren(...(results || []).map((r) => el('li', {
    'data-member': r.member, 'data-credited-ms': String(r.credited_ms),
    text: t('credited', { name: iso(name(r.member)), t: clock(r.credited_ms) }),
  })));
}

outbox.onDelivered(async (op, answer) => {
  if (op.kind !== 'end' || !answer) return;
  const saved = await session.noteResults(answer.session, answer.results);
  if (saved && current?.id === saved.id) {
    current.ended = saved.ended;
    drawSummary();
  }
});

$('back').addEventListener('click', async () => {
  if (current?.opened && !current.ended) return;
  untrack();
  video.pause();
  video.removeAttribute('src');
  video.load();
  await session.forget();
  current = null;
  ctx.status('');
  ctx.lessons();
});
