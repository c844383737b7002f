// The editor console's layout: a course with an upload stuck on a bad link, in Chinese, Uyghur
// (right to left: the course list on the right) and Tibetan at 1024×768, and in Chinese on a
// 360-px phone; every control labelled, every text translated, reachable by keyboard; the cold
// weight of the page signed out and signed in.
import { scenario, base, fixture, shot, until, coldWeight } from './lib.mjs';
import { messages } from '../../web/editor/messages.js';

const LANGS = ['zh-Hans', 'ug-Arab', 'bo-Tibt'];
const COURSE = fixture.course;

// Each language has every key the console uses.
for (const lang of LANGS) {
  const missing = Object.keys(messages['zh-Hans']).filter((k) => !messages[lang][k]);
  if (missing.length) throw new Error(`${lang} lacks ${missing.join(', ')}`);
}

async function checkPage(page, lang, width) {
  const report = await page.evaluate(() => {
    const visible = (e) => e.offsetParent !== null || e.getClientRects().length > 0;
    const unlabelled = [...document.querySelectorAll('input, select, textarea')]
      .filter((e) => !(e.labels?.length || e.getAttribute('aria-label')))
      .map((e) => e.outerHTML.slice(0, 80));
    const nameless = [...document.querySelectorAll('button')]
      .filter((b) => visible(b) && !(b.textContent.trim() || b.getAttribute('aria-label')))
      .map((b) => b.outerHTML.slice(0, 80));
    const nav = document.querySelector('nav.courses').getBoundingClientRect();
    const pane = document.getElementById('pane').getBoundingClientRect();
    return {
      lang: document.documentElement.lang,
      dir: document.documentElement.dir,
      scrollWidth: document.documentElement.scrollWidth,
      text: document.body.innerText,
      unlabelled, nameless,
      navLeft: nav.left, paneLeft: pane.left, navTop: nav.top, paneTop: pane.top,
    };
  });
  const fail = (what) => { throw new Error(`${lang} at ${width}px: ${what}`); };
  if (report.lang !== lang) fail(`html lang ${report.lang}`);
  if (report.dir !== (lang === 'ug-Arab' ? 'rtl' : 'ltr')) fail(`dir ${report.dir}`);
  if (report.scrollWidth > width) fail(`wider than the screen: ${report.scrollWidth}px`);
  if (report.unlabelled.length) fail(`controls without a label: ${report.unlabelled.join(' ')}`);
  if (report.nameless.length) fail(`buttons without a name: ${report.nameless.join(' ')}`);
  const raw = Object.keys(messages['zh-Hans']).filter((k) => new RegExp(`(^|\\s)${k.replace('.', '\\.')}(\\s|$)`).test(report.text));
  if (raw.length) fail(`untranslated keys shown: ${raw.join(', ')}`);
  if (width > 760) {
    // Side by side, the course list at the start of the line: left, or right in Uyghur.
    const listFirst = lang === 'ug-Arab' ? report.navLeft > report.paneLeft : report.navLeft < report.paneLeft;
    if (!listFirst) fail(`course list on the wrong side (${report.navLeft} vs ${report.paneLeft})`);
  } else if (report.navTop >= report.paneTop) {
    fail('on a phone the course list comes first, above the course');
  }
}

await scenario(async ({ browser, context, page }) => {
  const weights = [
    await coldWeight(browser, '/ui/editor/'),
    await coldWeight(browser, `/ui/editor/#course=${COURSE}`, (p) =>
      p.addInitScript((t) => localStorage.setItem('yj.token.editor', t), fixture.token)),
  ];
  weights[1].path += ' (signed in, course open)';
  // Every module the page loads is preloaded from its head, so none waits for its importer.
  const html = await (await fetch(`${base}/ui/editor/`)).text();
  const preloaded = [...html.matchAll(/rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1]);
  const late = weights[0].files.map(([path]) => path)
    .filter((path) => path.endsWith('.js') && path !== '/ui/editor/main.js' && !preloaded.includes(path));
  if (late.length) throw new Error(`modules not preloaded: ${late.join(', ')}`);

  await context.addInitScript((t) => localStorage.setItem('yj.token.editor', t), fixture.token);
  // A bad link: four chunks get through, then every PATCH is cut off.
  let patches = 0;
  await page.route((url) => url.pathname.startsWith('/uploads/'), (route) => {
    if (route.request().method() === 'PATCH' && ++patches > 4) return route.abort('connectionreset');
    return route.continue();
  });
  const open = async (p, lang) => {
    await p.goto(`${base}/ui/editor/?lang=${lang}&chunk=262144#course=${COURSE}`);
    await p.waitForSelector(`[data-course-edit="${COURSE}"]`);
    await p.waitForSelector(`[data-lesson-edit="${COURSE}-2"] .variant`);
    await p.evaluate(() => scrollTo(0, 0));
  };

  await open(page, 'zh-Hans');
  await page.setInputFiles(`[data-lesson-edit="${COURSE}-1"] input[type=file]`, fixture.video);
  await until('the upload stuck retrying', () => page.$('.upload[data-state=retrying]'), 20000);
  // Keyboard: from the top of the page, Tab reaches the publish button.
  await page.evaluate(() => document.activeElement?.blur());
  let tabs = 0;
  while (!(await page.evaluate(() => document.activeElement?.id === 'publish'))) {
    if (++tabs > 30) throw new Error('Tab never reaches the publish button');
    await page.keyboard.press('Tab');
  }
  const focusRing = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  if (focusRing === 'none') throw new Error('the focused button shows no focus ring');
  await checkPage(page, 'zh-Hans', 1024);
  if (await page.isVisible('#sign-in-card')) throw new Error('signed in, the sign-in form is hidden');
  await shot(page, 'editor-course-zh-Hans');

  for (const lang of ['ug-Arab', 'bo-Tibt']) {
    await open(page, lang);
    // After the reload the upload is listed as interrupted, with how to go on.
    await page.waitForSelector('.upload[data-state=interrupted]');
    await checkPage(page, lang, 1024);
    await shot(page, `editor-course-${lang}`);
  }

  const phone = await context.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });
  await open(phone, 'zh-Hans');
  await checkPage(phone, 'zh-Hans', 360);
  await shot(phone, 'editor-course-phone-zh-Hans');
  await phone.close();

  // Giving the interrupted upload up removes it on the server too.
  const url = await page.evaluate(() => Object.values(JSON.parse(localStorage.getItem('yj.tus')))[0].url);
  await page.click('.upload[data-state=interrupted] button.discard');
  await until('the row gone', async () => !(await page.$('.upload')));
  // The row goes at once; the DELETE behind it may still be on its way.
  const head = () => page.evaluate(async ([u, t]) => (await fetch(u, {
    method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${t}` },
  })).status, [url, fixture.token]);
  await until('the discarded upload gone on the server', async () => (await head()) === 404);
  if (await page.evaluate(() => localStorage.getItem('yj.tus')) !== '{}') throw new Error('still remembered');

  // Signed out: the sign-in form in Uyghur.
  const fresh = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const signIn = await fresh.newPage();
  await signIn.goto(`${base}/ui/editor/?lang=ug-Arab`);
  await signIn.waitForSelector('#sign-in-card:not([hidden])');
  if (await signIn.isVisible('#console')) throw new Error('signed out, the console is hidden');
  await shot(signIn, 'editor-signin-ug-Arab');
  await fresh.close();
  return { weights, tabs };
});
