// Sign-in refuses a wrong PIN and, after five, locks with a message saying how long to wait.
// A member signs in (after one wrong PIN), watches about 8 s of a video lesson, reloads the
// page, and continues: the continue list and the player are at the position watched, and the
// server credited what was played. The report made as the page unloads is what carries it.
import { scenario, fixture, until, base } from './lib.mjs';
import { signIn, signedIn, openLesson, video, playedPast, ledger, outboxEmpty } from './member-lib.mjs';

await scenario(async ({ page }) => {
  // Another member guesses until sign-in is locked: the sixth wrong PIN is told to wait.
  await page.goto(`${base}/ui/member/?lang=zh-Hans`, { waitUntil: 'domcontentloaded' });
  let locked = '';
  for (let i = 0; i < 6; i++) {
    await page.fill('#member-id', fixture.guessed_member);
    await page.fill('#pin', `00${i}0`);
    await page.$eval('#signin-error', (e) => { e.textContent = ''; });
    await page.click('#sign-in button[type=submit]');
    locked = await until('an answer to the guess', () =>
      page.$eval('#signin-error', (e) => e.textContent.trim()));
  }

  await signIn(page, { pin: '0000' });
  const wrong = await until('the wrong PIN is refused', () =>
    page.$eval('#signin-error', (e) => e.textContent.trim()));
  if (await page.evaluate(() => localStorage.getItem('yj.token.member'))) throw new Error('a token after a wrong PIN');

  await page.fill('#pin', fixture.pin);
  await page.click('#sign-in button[type=submit]');
  await signedIn(page);
  const start = await ledger(page);
  if (start.credited_ms !== 0) throw new Error(`credited before watching: ${JSON.stringify(start)}`);

  await openLesson(page, fixture.course, fixture.video);
  const first = await video(page);
  if (first.ms > 500) throw new Error(`a new lesson should start at 0, not ${first.ms} ms`);
  await playedPast(page, 8000);
  const played = (await video(page)).ms;
  await page.reload({ waitUntil: 'domcontentloaded' });

  await signedIn(page);
  const item = `#continue-list li[data-lesson="${fixture.video}"]`;
  await page.waitForSelector(item, { timeout: 15000 });
  const continuePosition = Number(await page.$eval(item, (li) => li.dataset.positionMs));
  await outboxEmpty(page);
  const server = await ledger(page);
  const pageCredited = Number(await page.$eval('#hours-figure', (e) => e.dataset.creditedMs));

  await page.click(`${item} button`);
  await until('the player opens at the resume position', async () => {
    const v = await video(page);
    return v.ready >= 1 && v.ms > 0;
  });
  const resumedAt = (await video(page)).ms;
  return {
    wrong_pin_message: wrong,
    locked_message: locked,
    played_ms: played,
    continue_position_ms: continuePosition,
    resumed_at_ms: resumedAt,
    server_resume_ms: server.resume[fixture.video],
    server_credited_ms: server.credited_ms,
    page_credited_ms: pageCredited,
  };
});
