// The hours dashboard: a branch secretary or county manager signs in with their token and sees
// their organisation's year — every organisation below it with its completion rate, the
// members behind their requirement, the hours month by month, and the report as CSV.
// Choosing an organisation in the tree points the summary, chart, list and downloads at it.
import { api, apiList, ApiError, tokenStore, el } from '../shared/api.js';
import { setupPage, formatHours } from '../shared/i18n.js';
import { messages } from './messages.js';
import { drawTree, byId, rateCell } from './tree.js';
import { drawMembers, PAGE } from './members.js';
import { drawAnomalies } from './anomalies.js';
import { drawChart } from './chart.js';

const { lang, dir, t: plain } = setupPage(messages);
// In right-to-left text each filled-in value (a Chinese organisation name, a year, a number)
// is isolated, so that it cannot reorder the Uyghur around it.
const t = dir === 'rtl'
  ? (key, vars = {}) => plain(key, Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, `\u2068${v}\u2069`])))
  : plain;
document.title = t('dashboard');
const $ = (id) => document.getElementById(id);
const tokens = tokenStore('dashboard');
const enc = encodeURIComponent;

const state = {
  token: null, top: null, current: null, year: null, report: null, nodes: new Map(),
  focus: null, open: new Set(), members: null, months: null, anomalies: null,
  loads: 0, // bumped by every load, so an answer that arrives late is dropped
};

function say(text, tone = '') {
  $('status').textContent = text;
  $('status').className = `status ${tone}`;
}

function explain(e) {
  if (e instanceof ApiError) return e.offline ? t('offline') : t('server_said', { m: e.message || e.code });
  return `${t('error')}: ${e.message || e}`;
}

// Any failure is shown as the server put it; a token that stopped working signs out.
async function attempt(work) {
  try {
    await work();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signOut(t('session_expired'));
    else say(explain(e), 'bad');
  }
}

class NotManager extends Error {}

// The organisation a token looks after: a manager's own; for an admin, the top of the tree.
async function topOrg(token) {
  const me = await api('/api/v1/me', { token });
  if (me.role === 'manager') return me.org;
  if (me.role === 'admin') {
    const orgs = await apiList('/api/v1/orgs', { token });
    const ids = new Set(orgs.map((o) => o.id));
    const top = orgs.find((o) => !o.parent || !ids.has(o.parent));
    if (top) return top.id;
  }
  throw new NotManager(t('not_manager'));
}

async function start(token) {
  const top = await topOrg(token);
  // Asked without a year, the server answers for this year on its clock, in the ledger's zone.
  const report = await api(`/api/v1/reports/orgs/${enc(top)}`, { token });
  Object.assign(state, { token, top, focus: top, open: new Set([top]), current: report.year });
  const years = $('year');
  years.replaceChildren(...[0, 1, 2, 3, 4].map((back) => {
    const y = report.year - back;
    return new Option(String(y), String(y), back === 0, back === 0);
  }));
  $('scope').textContent = t('scope', { org: report.name });
  $('signin-view').hidden = true;
  $('dashboard-view').hidden = false;
  $('sign-out').hidden = false;
  await showYear(report.year, report);
}

async function showYear(year, known) {
  const load = ++state.loads;
  say(t('loading'));
  const report = known || await api(`/api/v1/reports/orgs/${enc(state.top)}?year=${year}`, { token: state.token });
  if (load !== state.loads) return;
  Object.assign(state, { year, report, nodes: byId(report) });
  if (!state.nodes.has(state.focus)) state.focus = state.top;
  redrawTree();
  await showFocus();
}

let markFocus = () => {};
function redrawTree() {
  markFocus = drawTree($('tree'), state.report, {
    t, lang, dir, open: state.open, focus: state.focus,
    onFocus: (org) => {
      state.focus = org;
      attempt(showFocus);
    },
  });
}

function drawSummary(node) {
  $('focus-title').textContent = t('focus_title', { org: node.name, year: state.year });
  const fact = (key, value) => el('div', {}, el('dt', { text: t(key) }), el('dd', {}, value));
  $('summary').replaceChildren(
    fact('summary_members', String(node.members)),
    fact('summary_met', String(node.met)),
    fact('summary_rate', rateCell(node.completion_rate, lang)),
    fact('summary_hours', formatHours(node.total_hours, lang)));
}

const orgNames = () => new Map([...state.nodes].map(([id, n]) => [id, n.name]));

// A page of the members in view, furthest behind first (only those behind, if asked).
function membersPage(offset) {
  const { focus: org, year, token } = state;
  const behind = $('only-behind').checked ? '&behind=true' : '';
  return api(`/api/v1/reports/orgs/${enc(org)}/members?year=${year}&offset=${offset}&limit=${PAGE}${behind}`, { token });
}

function redrawMembers() {
  if (!state.members) return;
  drawMembers($('members'), $('behind-count'), state.members, {
    t, lang, orgNames: orgNames(),
    loadMore: async (offset) => {
      let page = null;
      await attempt(async () => { page = await membersPage(offset); });
      return page;
    },
  });
}

let chartWidth = 0;
function redrawChart() {
  if (!state.months) return;
  chartWidth = $('chart').clientWidth;
  const org = state.nodes.get(state.months.org)?.name || state.months.org;
  drawChart($('chart'), state.months, { t, lang, dir, orgName: org });
}

function redrawAnomalies() {
  if (!state.anomalies) return;
  drawAnomalies($('anomalies'), state.anomalies, { t, lang, orgNames: orgNames() });
}

// The organisation in view: its summary at once, then its members and months.
async function showFocus() {
  const load = ++state.loads;
  const { focus: org, year, token } = state;
  const node = state.nodes.get(org);
  markFocus(org);
  drawSummary(node);
  say(t('loading'));
  const [members, months, anomalies] = await Promise.all([
    membersPage(0),
    api(`/api/v1/reports/orgs/${enc(org)}/months?year=${year}`, { token }),
    api(`/api/v1/reports/orgs/${enc(org)}/anomalies?year=${year}`, { token }),
  ]);
  if (load !== state.loads) return;
  state.members = members;
  state.months = months;
  state.anomalies = anomalies;
  redrawMembers();
  redrawChart();
  redrawAnomalies();
  // What the lists and chart now show, for anyone (or any test) waiting on them.
  for (const box of [$('members'), $('chart'), $('anomalies')]) Object.assign(box.dataset, { org, year: String(year) });
  say('');
}

// The report of the organisation in view as the server writes it (UTF-8 with a BOM), saved
// through a Blob: a plain link could not carry the Authorization header.
// The members file is the list as shown: furthest behind first, only those behind if asked.
async function download(kind) {
  const { focus: org, year, token } = state;
  const behind = $('only-behind').checked ? '&behind=true' : '';
  const path = {
    members: `/api/v1/reports/orgs/${enc(org)}/members?year=${year}${behind}`,
    anomalies: `/api/v1/reports/orgs/${enc(org)}/anomalies?year=${year}`,
  }[kind] || `/api/v1/reports/orgs/${enc(org)}?year=${year}`;
  const name = `${kind}-${org}-${year}.csv`;
  say(t('downloading'));
  let res;
  try {
    res = await fetch(path, {
      headers: { Accept: 'text/csv', Authorization: `Bearer ${token}` }, cache: 'no-cache',
    });
  } catch {
    throw new ApiError(0, 'offline', 'the server cannot be reached');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new ApiError(res.status, body?.code || `http-${res.status}`, body?.message || res.statusText);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = el('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  say(t('downloaded', { name }), 'ok');
}

function signOut(message) {
  tokens.clear();
  state.loads += 1;
  Object.assign(state, { token: null, report: null, members: null, months: null, anomalies: null });
  // Nothing of the last manager's stays in the page for the next one.
  for (const id of ['tree', 'chart', 'members', 'anomalies', 'summary', 'focus-title', 'behind-count']) $(id).replaceChildren();
  for (const id of ['members', 'chart', 'anomalies']) { delete $(id).dataset.org; delete $(id).dataset.year; }
  $('dashboard-view').hidden = true;
  $('sign-out').hidden = true;
  $('scope').textContent = '';
  $('signin-view').hidden = false;
  say(message);
  $('token').focus();
}

$('sign-in').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = $('token').value.trim();
  const button = ev.target.querySelector('button[type=submit]');
  $('signin-error').textContent = '';
  button.disabled = true;
  say(t('signing_in'));
  try {
    await start(token);
    tokens.set(token);
    $('token').value = '';
    $('focus-title').focus();
  } catch (e) {
    say('');
    $('signin-error').textContent = e instanceof NotManager ? e.message : explain(e);
  } finally {
    button.disabled = false;
  }
});
$('sign-out').addEventListener('click', () => signOut(t('signed_out')));
$('year').addEventListener('change', () => attempt(() => showYear(Number($('year').value))));
$('only-behind').addEventListener('change', () => attempt(showFocus));
$('download-orgs').addEventListener('click', () => attempt(() => download('report')));
$('download-members').addEventListener('click', () => attempt(() => download('members')));
$('download-anomalies').addEventListener('click', () => attempt(() => download('anomalies')));
// The chart is drawn to its box's width, so that its text stays legible on a phone.
new ResizeObserver(() => {
  if ($('chart').clientWidth !== chartWidth) redrawChart();
}).observe($('chart'));

const saved = tokens.get();
if (saved) {
  start(saved).catch((e) => {
    if (e instanceof ApiError && e.status === 401) signOut(t('session_expired'));
    else if (e instanceof NotManager) signOut(e.message);
    else {
      $('signin-view').hidden = false;
      say(e instanceof NotManager ? e.message : explain(e), 'bad');
    }
  });
} else {
  $('signin-view').hidden = false;
}
