// Attention checks on the member page, in Uyghur (right to left). Checks come every 4 s here:
// the first pauses the playing video and asks in a modal dialog that Escape cannot dismiss;
// one tap answers and the video plays on; what was played is credited, and the answers went
// with the reports.
import { scenario, fixture, until } from './lib.mjs';
import { signIn, signedIn, openLesson, video, playedPast, outboxEmpty, ledger } from './member-lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dialogOpen = (page) => page.evaluate(() => !!document.querySelector('dialog#attention[open]'));

await scenario(async ({ page }) => {
  await signIn(page, { lang: 'ug-Arab' });
  await signedIn(page);
  await openLesson(page, fixture.course, fixture.video);
  await playedPast(page, 1000);

  await until('the attention check is asked', () => dialogOpen(page), 15000);
  const asked = await page.$eval('dialog#attention', (d) => ({
    role: d.getAttribute('role'),
    lang: d.lang,
    dir: d.dir,
    title: document.getElementById(d.getAttribute('aria-labelledby'))?.textContent,
    text: document.getElementById(d.getAttribute('aria-describedby'))?.textContent,
    focus: document.activeElement?.id,
    modal: d.matches(':modal'),
  }));
  await sleep(300);
  const pausedAt = await video(page);
  await page.keyboard.press('Escape');
  await sleep(1500);
  const afterEscape = { open: await dialogOpen(page), video: await video(page) };

  await page.click('#attention-confirm');
  const answeredOpen = await dialogOpen(page);
  await until('the video plays on', async () => !(await video(page)).paused, 5000);
  const from = (await video(page)).ms;
  await playedPast(page, from + 1000);
  await page.evaluate(() => document.getElementById('lesson-video').pause());
  // A later check may be asking by now: answer it too, so every check so far is answered.
  if (await dialogOpen(page)) await page.click('#attention-confirm');
  const played = (await video(page)).ms;
  await outboxEmpty(page);
  const end = await ledger(page);
  return {
    asked,
    paused_when_asked: pausedAt.paused,
    open_after_escape: afterEscape.open,
    moved_while_asked_ms: afterEscape.video.ms - pausedAt.ms,
    closed_on_answer: !answeredOpen,
    played_ms: played,
    credited_ms: end.credited_ms,
  };
});
