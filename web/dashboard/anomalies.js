// Members of the organisation in view whose year looks wrong (GET …/anomalies), each reason
// in words with its evidence, for the secretary to look into. Rows carry data-anomaly-member and
// data-kinds (the reasons' kinds) for other tools and tests.
import { el } from '../shared/api.js';

const hours = (ms, lang) => new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(ms / 3_600_000);

function reason(r, { t, lang, names }) {
  const key = `anomaly_${r.kind.replaceAll('-', '_')}`;
  switch (r.kind) {
    case 'long-day': return t(key, { date: r.date, h: hours(r.played_ms, lang), days: r.days });
    case 'night': return t(key, { share: Math.round((100 * r.night_ms) / r.played_ms) });
    case 'no-evidence':
    case 'missed-checks': return t(key, { n: r.rejected });
    case 'shared-device': return t(key, { with: r.with.map((m) => names.get(m) || m).join('、') });
    default: return r.kind;
  }
}

export function drawAnomalies(box, found, { t, lang, orgNames }) {
  if (!found.members.length) {
    box.replaceChildren(el('p', { class: 'muted', text: t('no_anomalies') }));
    return;
  }
  const names = new Map(found.members.map((m) => [m.member, m.name]));
  const th = (key) => el('th', { scope: 'col', text: t(key) });
  const rows = found.members.map((m) => el('tr', {
    'data-anomaly-member': m.member, 'data-kinds': m.reasons.map((r) => r.kind).join(' '),
  },
  el('th', { scope: 'row', 'data-label': t('col_member') }, el('span', { class: 'name', text: m.name }),
    el('span', { class: 'muted id', dir: 'ltr', text: m.member })),
  el('td', { 'data-label': t('col_org'), text: orgNames.get(m.org) || m.org }),
  el('td', { 'data-label': t('col_reasons') },
    el('ul', { class: 'reasons' }, ...m.reasons.map((r) => el('li', { text: reason(r, { t, lang, names }) }))))));
  box.replaceChildren(el('table', { class: 'members anomalies' },
    el('thead', {}, el('tr', {}, th('col_member'), th('col_org'), th('col_reasons'))),
    el('tbody', {}, ...rows)));
}
