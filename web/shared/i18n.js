// Interface languages and layout direction. Every page passes its own messages, keyed by
// language; a missing key falls back to Chinese, then to the key itself (visible, never blank).

export const LANGS = ['zh-Hans', 'ug-Arab', 'bo-Tibt'];
const AUTONYM = { 'zh-Hans': '中文', 'ug-Arab': 'ئۇيغۇرچە', 'bo-Tibt': 'བོད་ཡིག' };
const DIR = { 'ug-Arab': 'rtl' };
const STORE = 'yj.lang';

// ?lang= first, then this browser's last choice, then its languages, then Chinese.
export function chooseLang() {
  const asked = new URLSearchParams(location.search).get('lang');
  const wants = [asked, localStorage.getItem(STORE), ...(navigator.languages || [])];
  for (const w of wants) {
    const hit = w && LANGS.find((l) => l === w || l.split('-')[0] === w.split('-')[0]);
    if (hit) return hit;
  }
  return 'zh-Hans';
}

export function dirOf(lang) { return DIR[lang] || 'ltr'; }

// t(key, {n: 3}) fills {n} in the message.
export function translator(messages, lang) {
  return (key, vars = {}) => {
    const text = messages[lang]?.[key] ?? messages['zh-Hans']?.[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
  };
}

// Fills [data-i18n="key"] text and [data-i18n-attr="attr:key;attr:key"] attributes under root.
export function applyText(root, t) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of node.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) node.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

// Sets <html lang dir>, fills the static text and the #lang-picker; returns {lang, dir, t}.
// Changing language reloads the page, so every part is drawn once in one direction.
export function setupPage(messages) {
  const lang = chooseLang();
  localStorage.setItem(STORE, lang);
  const root = document.documentElement;
  root.lang = lang;
  root.dir = dirOf(lang);
  const t = translator(messages, lang);
  applyText(document, t);
  const picker = document.getElementById('lang-picker');
  if (picker) {
    const select = document.createElement('select');
    select.setAttribute('aria-label', t('language'));
    for (const l of LANGS) {
      const o = new Option(AUTONYM[l], l, l === lang, l === lang);
      o.lang = l;
      select.append(o);
    }
    select.addEventListener('change', () => {
      localStorage.setItem(STORE, select.value);
      const url = new URL(location.href);
      url.searchParams.delete('lang');
      location.replace(url);
    });
    picker.replaceChildren(select);
  }
  return { lang, dir: dirOf(lang), t };
}

// Hours with two decimals in the interface language's digits and separators.
export function formatHours(hours, lang) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(hours);
}

// m:ss or h:mm:ss for media positions.
export function formatClock(ms) {
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}
