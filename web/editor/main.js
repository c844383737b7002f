// The editor console: sign in with an editor token, then the course list beside the course
// being edited (#course=<id>) or a new one (#new). Whatever the server refuses is shown with
// its code and message in one alert that stays in view.
import { api, ApiError, tokenStore } from '../shared/api.js';
import { setupPage } from '../shared/i18n.js';
import { withCommon } from '../shared/messages.js';
import { messages, taxa } from './messages.js';
import { courseList } from './courses.js';
import { courseEditor, newCourseForm } from './course.js';
import { restoreRows, showPending } from './uploads.js';

const { lang, t } = setupPage(withCommon(messages));
document.title = `${t('editor')} · ${t('app')}`;
const $ = (id) => document.getElementById(id);
const tokens = tokenStore('editor');
const params = new URLSearchParams(location.search);

const ctx = {
  t, lang,
  token: tokens.get(),
  // ?chunk=<bytes> lets a test (or a very bad link) use smaller PATCHes.
  chunkSize: Math.max(Number(params.get('chunk')) || 2 * 1024 * 1024, 16 * 1024),
  taxonomy: null,
  call(path, options = {}) { return api(path, { ...options, token: ctx.token }); },
  // Runs one action: clears the old alert, disables `button` meanwhile, shows any failure.
  async act(fn, button) {
    hideAlert();
    if (button) button.disabled = true;
    try {
      return await fn();
    } catch (e) {
      fail(e);
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  },
  fail,
  note(text) { showAlert('note', text); },
  taxonName(item) { return taxa[lang]?.[item.code] || item['zh-Hans']; },
  langName(tag) { return ctx.taxonomy?.languages.find((l) => l.tag === tag)?.name || tag; },
  // Titles are shown in the interface language where the course has one, else in Chinese.
  pick(texts) { return texts?.[lang] || texts?.['zh-Hans'] || ''; },
  list: null,
  editor: null,
};

function showAlert(kind, ...parts) {
  const box = $('alert');
  box.className = `alert ${kind}`;
  box.replaceChildren(...parts);
  box.hidden = false;
}

function hideAlert() { $('alert').hidden = true; }

// The server's words are always shown; a known code also gets an explanation in the
// interface language.
function fail(e) {
  if (!(e instanceof Error)) e = new Error(String(e));
  if (e.name === 'AbortError') return;
  if (e instanceof ApiError && e.offline) { showAlert('bad', t('offline')); return; }
  if (e instanceof ApiError && e.status === 401) { signOut(t('token_refused')); return; }
  const known = e.code && t(`code.${e.code}`) !== `code.${e.code}` ? t(`code.${e.code}`) : t('refused');
  const code = document.createElement('code');
  code.textContent = e.code || e.name;
  const strong = document.createElement('strong');
  strong.textContent = known;
  showAlert('bad', strong, ' ', code, ` ${e.message || ''}`);
}

function signOut(why) {
  tokens.clear();
  ctx.token = null;
  $('console').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in-card').hidden = false;
  if (why) showAlert('bad', why); else hideAlert();
  $('token').focus();
}

async function enter(token) {
  const me = await api('/api/v1/me', { token });
  if (me?.role !== 'editor' && me?.role !== 'admin') {
    throw Object.assign(new Error(t('not_editor')), { code: 'not-editor' });
  }
  ctx.token = token;
  tokens.set(token);
  ctx.taxonomy = await ctx.call('/api/v1/taxonomy');
  $('sign-in-card').hidden = true;
  $('console').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = t(`role_${me.role}`);
  ctx.list = courseList(ctx, $('course-list'));
  await ctx.list.refresh();
  restoreRows(ctx);
  showPending(ctx, $('pending'));
  route();
}

function route() {
  if (!ctx.token || !ctx.list) return;
  const hash = decodeURIComponent(location.hash.slice(1));
  const pane = $('pane');
  ctx.editor?.close();
  ctx.editor = null;
  if (hash === 'new') {
    newCourseForm(ctx, pane);
  } else if (hash.startsWith('course=')) {
    ctx.editor = courseEditor(ctx, pane, hash.slice('course='.length));
  } else {
    pane.replaceChildren();
    const hint = document.createElement('p');
    hint.className = 'card muted';
    hint.textContent = t('choose_course');
    pane.append(hint);
  }
  ctx.list.mark(hash.startsWith('course=') ? hash.slice(7) : null);
}

$('sign-in').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  const ok = await ctx.act(() => enter(token).then(() => true), e.submitter);
  if (ok) $('token').value = '';
});
$('sign-out').addEventListener('click', () => signOut());
$('new-course').addEventListener('click', () => { location.hash = 'new'; });
addEventListener('hashchange', route);

if (ctx.token) {
  ctx.act(() => enter(ctx.token)).then(() => { if (!ctx.list) $('sign-in-card').hidden = false; });
} else {
  $('sign-in-card').hidden = false;
}
