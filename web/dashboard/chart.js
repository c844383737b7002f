// Credited hours per month as an SVG bar chart built with DOM calls, followed by the same
// figures as a table (for screen readers, and for reading exact values).
// Time runs the way the text does: January at the left in Chinese and Tibetan, at the right in
// Uyghur, with the hours axis on the side where a line begins. The SVG is laid out left to
// right (direction="ltr") and mirrored here by hand, so text anchors mean the same in every
// language; each label's own text still shapes and orders itself as Uyghur.
import { el } from '../shared/api.js';
import { formatHours } from '../shared/i18n.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

// Round steps (1, 2 or 5 × 10^k) from 0 to at least `max`, at most `most` intervals.
export function ticks(max, most = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / most;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const list = [];
  for (let n = 0; list.length === 0 || list[list.length - 1] < max; n += 1) list.push(Number((n * step).toPrecision(12)));
  return list;
}

export function monthName(n, t) { return t(`month_${n}`); }

// Draws `data` (the months endpoint's answer) into `box`, sized to its current width.
export function drawChart(box, data, { t, lang, dir, orgName }) {
  const width = Math.max(280, Math.floor(box.clientWidth || 600));
  const height = 230;
  const side = 44, far = 10, top = 22, bottom = 28;
  const plotW = width - side - far, plotH = height - top - bottom;
  const hours = data.months_hours;
  const scale = ticks(Math.max(...hours));
  const ceiling = scale[scale.length - 1];
  const y = (h) => top + plotH - (h / ceiling) * plotH;
  const slot = plotW / 12;
  const barW = Math.max(4, slot * 0.62);
  const rtl = dir === 'rtl';
  // Distances are measured from the axis; this turns one into an x coordinate.
  const x = (fromAxis) => (rtl ? width - side - fromAxis : side + fromAxis);
  const narrow = slot < 40;
  const number = new Intl.NumberFormat(lang);
  const total = formatHours(data.total_hours, lang);
  const desc = t('chart_desc', { org: orgName, year: data.year, total });

  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, direction: 'ltr',
    role: 'img', 'aria-labelledby': 'chart-svg-title', class: 'months',
  },
  // The description is the paragraph above the chart, read before it.
  svg('title', { id: 'chart-svg-title' }, t('chart_title')));

  for (const v of scale) {
    chart.append(svg('line', { class: 'grid', x1: x(0), x2: x(plotW), y1: y(v), y2: y(v) }));
    chart.append(svg('text', {
      class: 'tick', x: rtl ? width - side + 6 : side - 6, y: y(v) + 4,
      'text-anchor': rtl ? 'start' : 'end',
    }, formatHours(v, lang)));
  }
  hours.forEach((h, i) => {
    const month = i + 1;
    const name = monthName(month, t);
    const from = i * slot + (slot - barW) / 2;
    const left = rtl ? x(from) - barW : x(from);
    const bar = svg('rect', {
      class: 'bar', x: left, y: y(h), width: barW, height: Math.max(0, y(0) - y(h)),
      'data-month': month, 'data-ms': data.months_ms[i],
    }, svg('title', {}, `${name}: ${t('hours_n', { h: formatHours(h, lang) })}`));
    chart.append(bar);
    const middle = x(i * slot + slot / 2);
    chart.append(svg('text', { class: 'month', x: middle, y: height - 8, 'text-anchor': 'middle' },
      narrow ? number.format(month) : name));
    if (h > 0 && !narrow) {
      chart.append(svg('text', { class: 'value', x: middle, y: y(h) - 5, 'text-anchor': 'middle' }, formatHours(h, lang)));
    }
  });
  chart.append(svg('line', { class: 'axis', x1: x(0), x2: x(plotW), y1: y(0), y2: y(0) }));

  const table = el('table', { class: 'month-table' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: t('col_month') }), el('th', { scope: 'col', class: 'num', text: t('col_hours') }))),
    el('tbody', {}, hours.map((h, i) => el('tr', { 'data-month': String(i + 1), 'data-ms': String(data.months_ms[i]) },
      el('th', { scope: 'row', text: monthName(i + 1, t) }),
      el('td', { class: 'num', text: formatHours(h, lang) })))),
    el('tfoot', {}, el('tr', {}, el('th', { scope: 'row', text: t('summary_hours') }), el('td', { class: 'num', text: total }))));
  const details = el('details', { class: 'chart-table' }, el('summary', { text: t('chart_table') }), table);
  // Keep the table open or closed across redraws (resizing, another organisation).
  details.open = box.querySelector('details.chart-table')?.open ?? false;
  box.replaceChildren(el('p', { class: 'muted', text: desc }), chart, details);
}
