// A hidden tab earns nothing. The member plays a lesson for ~4 s; the page is hidden; the page
// pauses and reports what was watched. Then the video is made to play on while hidden (as a
// browser that keeps background media going would) for ~6 s: the server's credited ms must not
// move by a single millisecond and no report may be sent. Visible again, ~3 s of playing earns.
import { scenario, fixture, until } from './lib.mjs';
import {
  signIn, signedIn, openLesson, video, playedPast, setHidden, outboxEmpty, ledger, countReports,
} from './member-lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await scenario(async ({ page }) => {
  await signIn(page);
  await signedIn(page);
  await openLesson(page, fixture.course, fixture.video);
  await playedPast(page, 4000);

  await setHidden(page, true);
  const pausedOnHide = await until('paused when hidden', async () => (await video(page)).paused, 5000);
  const hiddenAt = (await video(page)).ms;
  await outboxEmpty(page);
  const beforeHiding = await ledger(page);

  // Hidden, with media really playing.
  const reports = countReports(page);
  await page.evaluate(() => document.getElementById('lesson-video').play());
  await sleep(6000);
  const hiddenPlayed = (await video(page)).ms - hiddenAt;
  await page.evaluate(() => document.getElementById('lesson-video').pause());
  await sleep(500);
  await setHidden(page, false);
  await sleep(1500);
  await outboxEmpty(page);
  const afterHidden = await ledger(page);
  const reportsWhileHidden = reports.n;

  // Visible again: about 3 s more.
  const from = (await video(page)).ms;
  await page.evaluate(() => document.getElementById('lesson-video').play());
  await playedPast(page, from + 3000);
  await page.evaluate(() => document.getElementById('lesson-video').pause());
  const to = (await video(page)).ms;
  // The pause event comes a moment later; its report is what is waited for.
  await until('the second stretch is credited', async () =>
    (await ledger(page)).credited_ms > afterHidden.credited_ms, 10000);
  await outboxEmpty(page);
  const end = await ledger(page);

  return {
    visible_played_ms: hiddenAt,
    paused_on_hide: pausedOnHide,
    credited_before_hiding: beforeHiding.credited_ms,
    hidden_media_ms: hiddenPlayed,
    credited_after_hidden: afterHidden.credited_ms,
    resume_after_hidden: afterHidden.resume[fixture.video],
    reports_while_hidden: reportsWhileHidden,
    second_visible_ms: to - from,
    credited_at_end: end.credited_ms,
  };
});
