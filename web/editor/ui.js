// Small pieces the console's views share: labelled fields, number formats, the languages a
// course can be written in, and redrawing a view without losing focus or unsaved typing.
import { el } from '../shared/api.js';
import { formatClock } from '../shared/i18n.js';

// The interface languages come first; the others a course may have sit behind "more".
export const MAIN_LANGS = ['zh-Hans', 'ug-Arab', 'bo-Tibt'];

export function field(label, input, hint) {
  return el('label', {}, el('span', { text: label }), input, hint ? el('small', { class: 'muted', text: hint }) : null);
}

export function bytes(n, lang) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  const digits = i === 0 ? 0 : 1;
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n)} ${units[i]}`;
}

export const clock = formatClock;

export function percent(part, whole, lang) {
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 })
    .format(whole ? part / whole : 0);
}

// One line from a probe: "6.0 s · h264 640×360 25 fps · aac 1 ch 48 kHz".
export function probeLine(probe, lang) {
  if (!probe) return '';
  const n = (x, d = 0) => new Intl.NumberFormat(lang, { maximumFractionDigits: d }).format(x);
  const parts = [`${formatClock(probe.duration_ms)} (${n(probe.duration_ms / 1000, 1)} s)`];
  for (const s of probe.streams || []) {
    const bits = [s.codec];
    if (s.width) bits.push(`${s.width}×${s.height}`);
    if (s.frame_rate) bits.push(`${n(s.frame_rate, 2)} fps`);
    if (s.channels) bits.push(`${s.channels} ch`);
    if (s.sample_rate) bits.push(`${n(s.sample_rate / 1000, 1)} kHz`);
    if (s.bit_rate) bits.push(`${n(s.bit_rate / 1000)} kbit/s`);
    if (s.language) bits.push(`[${s.language}]`);
    parts.push(bits.join(' '));
  }
  return parts.join(' · ');
}

// The language a content field is written in, with its direction, whatever the interface is.
export function contentAttrs(tag, languages) {
  const info = languages.find((l) => l.tag === tag);
  return { lang: tag, dir: info?.dir || 'ltr' };
}

// Redraws `root` with `draw()` keeping what the person was doing: the focused control and any
// field they changed but did not save, matched by data-key.
// A control disabled while its request runs loses focus before the redraw, so the last control
// that had focus is remembered here.
let lastKey = null;
addEventListener('focusin', (e) => { lastKey = e.target.closest?.('[data-key]')?.dataset.key ?? null; });

export function redraw(root, draw) {
  const active = document.activeElement;
  const focused = active && active !== document.body
    ? active.closest?.('[data-key]')?.dataset.key : lastKey;
  const typed = new Map();
  for (const input of root.querySelectorAll('[data-key]')) {
    if (input.type === 'checkbox') {
      if (input.checked !== input.defaultChecked) typed.set(input.dataset.key, input.checked);
    } else if (input.tagName === 'SELECT') {
      const initial = [...input.options].find((o) => o.defaultSelected)?.value ?? input.options[0]?.value;
      if (input.value !== initial) typed.set(input.dataset.key, input.value);
    } else if ('value' in input && input.type !== 'file' && input.tagName !== 'BUTTON'
               && input.value !== input.defaultValue) {
      typed.set(input.dataset.key, input.value);
    }
  }
  draw();
  for (const [key, value] of typed) {
    const input = root.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!input) continue;
    if (input.type === 'checkbox') input.checked = value; else input.value = value;
  }
  if (!focused) return;
  // A button that is now disabled (a lesson moved to the top cannot move up) hands focus to
  // the next control beside it.
  const target = root.querySelector(`[data-key="${CSS.escape(focused)}"]`);
  const usable = target?.disabled ? target.parentElement.querySelector('[data-key]:not([disabled])') : target;
  usable?.focus();
}
