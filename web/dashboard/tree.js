// The organisation tree as a table: a row per organisation with its members, how many met the
// year's requirement, the completion rate and the hours. A row with children has a real button
// that shows or hides them (aria-expanded); the name is a button that makes that organisation
// the one the summary, the chart and the member list look at (aria-pressed).
import { el } from '../shared/api.js';
import { formatHours } from '../shared/i18n.js';

export function percent(rate, lang) {
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

// Organisation id → its summary node, for every organisation of the report.
export function byId(summary) {
  const found = new Map();
  const visit = (node) => { found.set(node.org, node); node.children.forEach(visit); };
  visit(summary);
  return found;
}

// A completion rate as a bar and a figure; the bar is decorative, the figure is the value.
export function rateCell(rate, lang) {
  const bar = el('span', { class: 'rate-bar', 'aria-hidden': 'true' }, el('span'));
  bar.firstChild.style.inlineSize = `${Math.round(rate * 100)}%`;
  const level = rate >= 1 ? 'ok' : rate >= 0.6 ? 'warn' : 'bad';
  return el('span', { class: `rate ${level}` }, bar, el('span', { text: percent(rate, lang) }));
}

// Draws the tree into `table`. `open` (a Set of organisation ids) is kept by the caller, so
// what was opened survives a change of year. Returns a function that marks another
// organisation as the one in view without redrawing (keyboard focus stays where it is).
export function drawTree(table, summary, { t, lang, dir, open, focus, onFocus }) {
  const rows = [];
  const rowId = (org) => `org-${org}`;
  const visit = (node, ancestors) => {
    const name = node.name;
    const cell = el('div', { class: 'org-cell' });
    cell.style.setProperty('--depth', String(ancestors.length));
    let toggle = null;
    if (node.children.length) {
      toggle = el('button', {
        type: 'button', class: 'toggle',
        'aria-controls': node.children.map((c) => rowId(c.org)).join(' '),
        onclick: () => {
          if (open.has(node.org)) open.delete(node.org); else open.add(node.org);
          refresh();
        },
      });
      cell.append(toggle);
    } else {
      cell.append(el('span', { class: 'toggle-space', 'aria-hidden': 'true' }));
    }
    cell.append(el('button', {
      type: 'button', class: 'org-name', 'aria-pressed': String(node.org === focus),
      onclick: () => onFocus(node.org),
    }, name));
    const tr = el('tr', { id: rowId(node.org), 'data-org': node.org },
      el('th', { scope: 'row' }, cell),
      el('td', { class: 'num', text: String(node.members) }),
      el('td', { class: 'num', text: String(node.met) }),
      el('td', {}, rateCell(node.completion_rate, lang)),
      el('td', { class: 'num', text: formatHours(node.total_hours, lang) }));
    rows.push({ tr, node, ancestors, toggle });
    for (const child of node.children) visit(child, [...ancestors, node.org]);
  };
  visit(summary, []);

  function refresh() {
    for (const { tr, node, ancestors, toggle } of rows) {
      tr.hidden = ancestors.some((a) => !open.has(a));
      if (toggle) {
        const isOpen = open.has(node.org);
        toggle.setAttribute('aria-expanded', String(isOpen));
        toggle.setAttribute('aria-label', t(isOpen ? 'collapse' : 'expand', { org: node.name }));
        // A closed row points the way the text runs: right in Chinese and Tibetan, left in Uyghur.
        toggle.textContent = isOpen ? '▾' : dir === 'rtl' ? '◂' : '▸';
      }
    }
  }
  refresh();

  const th = (key, cls) => el('th', { scope: 'col', class: cls, text: t(key) });
  table.replaceChildren(
    el('thead', {}, el('tr', {},
      th('col_org'), th('col_members', 'num'), th('col_met', 'num'), th('col_rate'), th('col_hours', 'num'))),
    el('tbody', {}, rows.map((r) => r.tr)));
  return (org) => {
    for (const { tr, node } of rows) {
      tr.querySelector('.org-name').setAttribute('aria-pressed', String(node.org === org));
    }
  };
}
