// The member study page: sign in with member id and PIN, then hours, lessons to continue,
// lessons by theme, and a player whose watch reports credit only what was really watched.
import { api, tokenStore } from '../shared/api.js';
import { setupPage } from '../shared/i18n.js';
import { messages } from './messages.js';
import { Outbox } from './outbox.js';
import { Study } from './study.js';
import { Player } from './player.js';
import { Kept } from './kept.js';
import { dataSaver, setDataSaver } from './adapt.js';

const { lang, dir, t } = setupPage(messages);
document.title = `${t('member')} · ${t('app')}`;
const tokens = tokenStore('member');
const $ = (id) => document.getElementById(id);
let session = null; // {token, member, outbox, study, player, kept} while signed in
// Who signed in last, so the page opens for offline study with no server in reach.
const ME_KEY = 'yj.member.me';

// The status line under the header: what just happened, or what went wrong and why.
function say(text, kind = '') {
  const line = $('status');
  line.textContent = text || '';
  line.className = `status ${kind}`;
}

// A server error in the interface language, with the server's own words after it.
function describe(e, t) {
  if (e.status === 0) return t('offline');
  const said = e.message ? ` (${t('server_said', { m: e.message })})` : '';
  return `${t('error')}${said}`;
}

function signInError(e) {
  const said = e.message ? ` ${t('server_said', { m: e.message })}` : '';
  if (e.code === 'sign-in-refused') return `${t('pin_wrong')}${said}`;
  if (e.code === 'sign-in-locked') {
    const s = /(\d+)\s*s\b/.exec(e.message || '')?.[1] ?? '?';
    return `${t('locked', { s })}${said}`;
  }
  return describe(e, t);
}

function showSignIn(note = '') {
  $('study-view').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('signin-view').hidden = false;
  $('signin-error').textContent = note;
  say('');
  $('member-id').focus();
}

async function boot() {
  const token = tokens.get();
  if (!token) return showSignIn();
  say(t('loading'));
  let me;
  try {
    me = await api('/api/v1/me', { token });
  } catch (e) {
    if (e.status === 401) {
      tokens.clear();
      return showSignIn(t('session_expired'));
    }
    const known = JSON.parse(localStorage.getItem(ME_KEY) || 'null');
    if (e.status === 0 && known) return start(token, known, { offline: true });
    say(describe(e, t), 'bad');
    const again = document.createElement('button');
    again.type = 'button';
    again.textContent = t('retry');
    again.addEventListener('click', boot);
    $('status').append(' ', again);
    return;
  }
  if (me?.role !== 'member' || !me.member) {
    tokens.clear();
    return showSignIn(t('not_member'));
  }
  localStorage.setItem(ME_KEY, JSON.stringify(me.member));
  await start(token, me.member);
}

async function start(token, member, { offline = false } = {}) {
  $('signin-view').hidden = true;
  $('study-view').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = t('hello', { name: member.name });
  say('');
  const ctx = { t, lang, dir, token, member, say, describe: (e) => describe(e, t), expired };
  ctx.outbox = new Outbox(member.id, token, (ev) => onOutbox(ctx, ev));
  ctx.study = new Study(ctx);
  ctx.player = new Player(ctx, $('player'));
  ctx.kept = new Kept(ctx, $('kept'));
  session = ctx;
  showOutboxCount(ctx.outbox.count);
  await ctx.kept.load();
  if (offline) return say(t('offline_kept'), 'warn');
  // Reports left from the last visit go first, so the resume positions shown include them.
  await ctx.outbox.send();
  await ctx.study.load();
}

function showOutboxCount(n) {
  $('outbox-count').textContent = n ? t('outbox_count', { n }) : t('outbox_empty');
}

function onOutbox(ctx, ev) {
  if (ev.kind === 'count') showOutboxCount(ev.count);
  else if (ev.kind === 'failed') say(`${t('report_failed')} ${describe(ev, t)}`, 'warn');
  else if (ev.kind === 'rejected') say(t('report_rejected', { reason: ev.reason }), 'bad');
  else if (ev.kind === 'auth') expired();
  else if (ev.kind === 'sent') {
    if ($('status').classList.contains('warn')) say('');
    if (ev.credited_ms > 0) ctx.study.refreshSoon();
  }
}

// The token stopped working (revoked or expired): back to the sign-in form, reports kept.
function expired() {
  if (!session) return;
  session.player.end();
  session.outbox.close();
  session = null;
  tokens.clear();
  showSignIn(t('session_expired'));
}

async function signOut() {
  const s = session;
  if (!s) return;
  session = null;
  s.player.end();
  await s.outbox.send();
  s.outbox.close();
  const left = s.outbox.count;
  let note = t('signed_out');
  try {
    await api('/api/v1/session', { method: 'DELETE', token: s.token });
  } catch (e) {
    if (e.status !== 401) note = describe(e, t);
  }
  tokens.clear();
  localStorage.removeItem(ME_KEY);
  s.study.clear();
  showSignIn(left ? `${note} ${t('sign_out_unsent', { n: left })}` : note);
}

$('sign-in').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = ev.target.querySelector('button[type=submit]');
  const member = $('member-id').value.trim();
  const pin = $('pin').value;
  $('signin-error').textContent = '';
  button.disabled = true;
  button.textContent = t('signing_in');
  try {
    const { token } = await api('/api/v1/session', { method: 'POST', body: { member, pin } });
    tokens.set(token);
    $('pin').value = '';
    await boot();
  } catch (e) {
    $('signin-error').textContent = signInError(e);
    $('pin').select();
  } finally {
    button.disabled = false;
    button.textContent = t('sign_in');
  }
});

$('sign-out').addEventListener('click', signOut);
$('data-saver').checked = dataSaver();
$('data-saver').addEventListener('change', (ev) => setDataSaver(ev.target.checked));
// The page itself, kept for opening with no network (kept lessons play from IndexedDB).
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/ui/member/sw.js', { scope: '/ui/member/' }).catch(() => {});

boot();
