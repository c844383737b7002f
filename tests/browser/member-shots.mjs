// The signed-in member page in each interface language at 1024×768 and 360×740, saved as
// member-study-<lang>[-phone]; a text lesson in Uyghur (right to left) and the player in
// Tibetan (a fallback to Chinese); signing out; and the page's cold weight signed out and in.
import { scenario, fixture, base, shot, coldWeight } from './lib.mjs';
import { signIn, signedIn, openLesson } from './member-lib.mjs';

const DESK = { width: 1024, height: 768 };
const PHONE = { width: 360, height: 740 };

async function view(page, lang) {
  await page.goto(`${base}/ui/member/?lang=${lang}`, { waitUntil: 'domcontentloaded' });
  await signedIn(page);
  await page.waitForSelector(`#continue-list li[data-lesson="${fixture.text}"]`);
  const box = `details.course[data-course="${fixture.course}"]`;
  await page.click(`${box} > summary`);
  await page.waitForSelector(`${box} li[data-lesson]`);
  await page.evaluate(() => document.fonts.ready);
}

await scenario(async ({ browser, page }) => {
  await signIn(page);
  await signedIn(page);
  const token = await page.evaluate(() => localStorage.getItem('yj.token.member'));
  const views = {};
  for (const lang of ['zh-Hans', 'ug-Arab', 'bo-Tibt']) {
    await page.setViewportSize(DESK);
    await view(page, lang);
    const facts = await page.evaluate((course) => ({
      dir: document.documentElement.dir,
      credited_ms: Number(document.getElementById('hours-figure').dataset.creditedMs),
      fallback_badges: document.querySelectorAll(`details.course[data-course="${course}"] li .badge.fallback`).length,
    }), fixture.course);
    await shot(page, `member-study-${lang}`);
    await page.setViewportSize(PHONE);
    await view(page, lang);
    facts.phone_overflow_px = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    await shot(page, `member-study-${lang}-phone`);
    views[lang] = facts;
  }

  // A text lesson in Uyghur: its own direction, on a phone.
  await view(page, 'ug-Arab');
  await openLesson(page, fixture.course, fixture.text);
  await page.waitForSelector('#lesson-text p');
  const text = await page.$eval('#lesson-text', (a) => ({ dir: a.dir, lang: a.lang }));
  await shot(page, 'member-text-ug-Arab-phone');

  // In Chinese, markup in a text lesson is shown as the characters it is.
  await page.setViewportSize(DESK);
  await view(page, 'zh-Hans');
  await openLesson(page, fixture.course, fixture.text);
  await page.waitForSelector('#lesson-text p');
  const zhTextHasTagAsText = await page.$eval('#lesson-text', (a) =>
    a.textContent.includes('<b>这不是标记</b>') && !a.querySelector('b'));

  // The player in Tibetan: the video has no Tibetan variant, so Chinese, marked.
  await view(page, 'bo-Tibt');
  await openLesson(page, fixture.course, fixture.video);
  await page.waitForSelector('#player .badge.fallback');
  await page.waitForFunction(() => document.getElementById('lesson-video')?.readyState >= 2);
  await page.evaluate(() => document.getElementById('lesson-video').pause());
  await shot(page, 'member-player-bo-Tibt');

  const weights = [
    await coldWeight(browser, '/ui/member/'),
    { ...(await coldWeight(browser, '/ui/member/', (p) => p.addInitScript((t) => {
      localStorage.setItem('yj.token.member', t);
    }, token))), signed_in: true },
  ];
  if (!weights[1].files.some(([path]) => path.endsWith('/hours'))) throw new Error('the signed-in cold load did not sign in');
  // Signing out ends the token on the server, not only in this browser.
  await page.click('#sign-out');
  await page.waitForSelector('#sign-in', { state: 'visible' });
  const signedOut = await page.evaluate(async (old) => ({
    stored: localStorage.getItem('yj.token.member'),
    me: (await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${old}` } })).status,
  }), token);

  return { views, text, zh_text_has_tag_as_text: zhTextHasTagAsText, signed_out: signedOut, weights };
});
