// The station page: a village operator signs in once with the station's token, picks a lesson
// from the station's catalogue, checks members in and out, plays the lesson full-screen and
// ends the session; the hours are credited through the group-session API. Everything sent to
// the server goes through the outbox (outbox.js), so a dropped link delays it, never loses it.
import { api, ApiError, tokenStore } from '/ui/shared/api.js';
import { setupPage } from '/ui/shared/i18n.js';
import { messages } from './messages.js';
import * as db from './store.js';
import * as outbox from './outbox.js';
import * as catalogue from './catalogue.js';
import * as session from './session.js';
import { registerWorker, setDeliveryTag } from './offline.js';
import { iso } from './format.js';
import { showLessons } from './lessons.js';
import { openRoom } from './room.js';

const { lang, t } = setupPage(messages);
document.title = `${t('app')} · ${t('station')}`;
const $ = (id) => document.getElementById(id);
const tokens = tokenStore('station');
const VIEWS = ['sign-in-view', 'lessons-view', 'room-view'];
const REFRESH_MS = 60_000;

// What every view shares.
const ctx = {
  lang, t, token: null, me: null, catalogue: null,
  show(view) { for (const v of VIEWS) $(v).hidden = v !== view; },
  status(text, kind = '') {
    $('status').textContent = text;
    $('status').className = `status ${kind}`;
  },
  // Shows an error with the server's own message (or that it cannot be reached).
  fail(err) {
    if (err instanceof ApiError && err.offline) { ctx.link(false); ctx.status(t('offline'), 'warn'); return; }
    ctx.status(t('error_msg', { message: err.message || String(err) }), 'bad');
  },
  link(ok) {
    const badge = $('link');
    badge.hidden = false;
    badge.textContent = ok ? t('link_ok') : t('link_down');
    badge.className = `badge ${ok ? 'ok' : 'bad'}`;
  },
  lessons: () => showLessons(ctx),
  room: (lesson, restored) => openRoom(ctx, lesson, restored),
  async syncCatalogue() {
    try {
      ctx.catalogue = await catalogue.sync(ctx.token, ctx.me.station);
      ctx.link(true);
      return true;
    } catch (err) {
      ctx.catalogue = ctx.catalogue || await catalogue.stored();
      if (!(err instanceof ApiError && err.offline)) ctx.fail(err);
      else ctx.link(false);
      return false;
    }
  },
};

function drawOutbox({ waiting, refused, error }) {
  const count = $('outbox-count');
  count.textContent = t('outbox', { n: waiting });
  count.dataset.count = String(waiting);
  count.classList.toggle('warn', waiting > 0);
  if (error instanceof ApiError && error.offline) ctx.link(false);
  else if (error) ctx.status(t('error_msg', { message: error.message }), 'bad');
  $('refused').hidden = refused.length === 0;
  $('refused-title').textContent = t('outbox_refused', { n: refused.length });
  $('refused-list').replaceChildren(...refused.map((op) => {
    const li = document.createElement('li');
    li.textContent = t('refused_item', { kind: t(`kind_${op.kind}`), message: op.message });
    return li;
  }));
}

outbox.onChange(drawOutbox);
outbox.onDelivered(() => ctx.link(true));
$('send-again').addEventListener('click', () => outbox.retryRefused());

async function start(token, me, note = '') {
  ctx.token = token;
  ctx.me = me;
  setDeliveryTag(me.delivery_tag);
  const st = me.station || {};
  $('station-name').textContent = t('station_of', { name: st.name || st.id || '', org: iso(me.org) });
  $('station-name').hidden = false;
  $('sign-out').hidden = false;
  ctx.status(note, note ? 'warn' : '');
  ctx.catalogue = await catalogue.stored();
  const current = await session.load();
  if (current && !current.ended) {
    // A lesson gone from the catalogue since still gets its room, so the session can be ended
    // and its members credited.
    const lesson = findLesson(current.lesson) || {
      id: current.lesson, name: current.title, courseTitle: current.courseTitle,
      duration_ms: current.duration_ms, variants: {},
    };
    ctx.status(t('session_restored'), 'warn');
    ctx.room(lesson, current);
    return;
  }
  if (current) {
    await session.forget();
  }
  ctx.lessons();
}

function findLesson(id) {
  for (const course of catalogue.playable(ctx.catalogue, lang)) {
    const hit = course.lessons.find((l) => l.id === id);
    if (hit) return hit;
  }
  return null;
}

$('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  try {
    const me = await api('/api/v1/me', { token });
    if (me.role !== 'terminal') {
      ctx.status(t('not_a_station', { role: me.role }), 'bad');
      return;
    }
    tokens.set(token);
    await db.put('meta', { token, me }, 'me');
    $('token').value = '';
    ctx.link(true);
    await start(token, me);
  } catch (err) {
    ctx.fail(err);
  }
});

$('sign-out').addEventListener('click', async () => {
  tokens.clear();
  await db.del('meta', 'me');
  location.reload();
});

async function boot() {
  registerWorker().catch((err) => ctx.fail(err));
  drawOutbox({ waiting: await outbox.waiting(), refused: (await db.entries('refused')).map(([, v]) => v) });
  outbox.flush();
  const token = tokens.get();
  if (!token) { ctx.show('sign-in-view'); return; }
  try {
    const me = await api('/api/v1/me', { token });
    await db.put('meta', { token, me }, 'me');
    ctx.link(true);
    await start(token, me);
  } catch (err) {
    const kept = await db.get('meta', 'me');
    if (err instanceof ApiError && err.offline && kept?.token === token) {
      ctx.link(false);
      await start(token, kept.me, t('signed_in_offline'));
    } else {
      if (err instanceof ApiError && err.status === 401) tokens.clear();
      ctx.show('sign-in-view');
      ctx.fail(err);
    }
  }
  setInterval(() => { if (ctx.token) outbox.flush(); }, REFRESH_MS);
}

boot().catch((err) => ctx.fail(err));
