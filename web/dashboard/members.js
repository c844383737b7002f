// Members of the organisation in view as the server orders them — those behind their
// requirement first, the furthest behind at the top — each with hours against what they owe
// and what they lack. Rows carry data-member and data-credited-ms (the exact credited
// milliseconds) for other tools and tests. The server sends a page at a time: a county can
// hold a hundred thousand members, too many for a phone on a weak link.
import { el } from '../shared/api.js';
import { formatHours } from '../shared/i18n.js';

export const PAGE = 100;

function status(row, t, lang) {
  if (row.met) return el('span', { class: 'ok', text: t('status_met') });
  const short = Math.max(0, row.required_hours - row.hours);
  // Enough hours but not met: a secretary or committee member without centralised training.
  if (short === 0) return el('span', { class: 'warn', text: t('status_no_training') });
  return el('span', { class: 'bad', text: t('status_short', { h: formatHours(Math.round(short * 100) / 100, lang) }) });
}

function posts(row, t) {
  return row.posts.split(';').filter(Boolean).map((p) => t(`post_${p}`)).join('、');
}

function memberRow(row, { t, lang, orgNames }) {
  const share = row.required_hours ? Math.min(1, row.hours / row.required_hours) : 1;
  const bar = el('span', { class: 'rate-bar', 'aria-hidden': 'true' }, el('span'));
  bar.firstChild.style.inlineSize = `${Math.round(share * 100)}%`;
  const label = (key) => ({ 'data-label': t(key) });
  return el('tr', {
    'data-member': row.member, 'data-credited-ms': String(row.credited_ms),
    class: row.met ? 'met' : 'behind',
  },
  el('th', { scope: 'row', tabindex: '-1', ...label('col_member') }, el('span', { class: 'name', text: row.name }),
    el('span', { class: 'muted id', dir: 'ltr', text: row.member })),
  el('td', { ...label('col_org'), text: orgNames.get(row.org) || row.org }),
  el('td', { ...label('col_posts'), text: posts(row, t) }),
  el('td', { ...label('col_progress'), class: 'progress' }, el('span', {},
    // A figure against a figure reads left to right in every script, like the numbers.
    el('span', { class: 'hours', dir: 'ltr', text: `${formatHours(row.hours, lang)} / ${formatHours(row.required_hours, lang)}` }),
    bar)),
  el('td', { ...label('col_status') }, status(row, t, lang)));
}

// Draws the first page (the members endpoint's answer) into `box` and the count of those
// behind into `countEl`; `loadMore(offset)` fetches the next page, or null if that failed.
export function drawMembers(box, countEl, first, { t, lang, orgNames, loadMore }) {
  countEl.textContent = t('behind_count', { total: first.total, behind: first.behind });
  if (!first.members.length) {
    box.replaceChildren(el('p', { class: 'muted', text: t('no_members') }));
    return;
  }
  const th = (key) => el('th', { scope: 'col', text: t(key) });
  const body = el('tbody');
  const table = el('table', { class: 'members' },
    el('thead', {}, el('tr', {}, th('col_member'), th('col_org'), th('col_posts'), th('col_progress'), th('col_status'))),
    body);
  const more = el('button', { type: 'button', class: 'more' });
  let shown = 0;
  const add = (page) => {
    body.append(...page.members.map((r) => memberRow(r, { t, lang, orgNames })));
    shown += page.members.length;
    const left = page.matching - shown;
    more.hidden = left <= 0;
    more.textContent = t('show_more', { n: Math.min(PAGE, left) });
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    const next = await loadMore(shown);
    more.disabled = false;
    if (!next) return;
    const at = shown;
    add(next);
    // Keyboard users continue from the first newly shown member.
    body.rows[at]?.querySelector('th')?.focus();
  });
  add(first);
  box.replaceChildren(table, more);
}
