// Reports that cannot be sent are kept and sent again with the same id. The server is cut off
// from the page (every POST /api/v1/watch fails as if the network were down) while the member
// plays ~3 s and pauses; the report waits in the outbox, survives a reload, and once the link is
// back it is delivered, every attempt carrying the same report id, and credited once.
import { scenario, fixture, until } from './lib.mjs';
import { signIn, signedIn, openLesson, playedPast, video, outboxEmpty, ledger } from './member-lib.mjs';

const outbox = (page) => page.evaluate((m) => JSON.parse(localStorage.getItem(`yj.member.outbox.${m}`) || '[]'), fixture.member);

await scenario(async ({ page }) => {
  const attempts = []; // report ids in every watch request, delivered or not
  let linkDown = true;
  await page.route('**/api/v1/watch', (route) => {
    const body = JSON.parse(route.request().postData() || '{}');
    attempts.push(...(body.reports || [body]).map((r) => r.id));
    return linkDown ? route.abort('internetdisconnected') : route.continue();
  });

  await signIn(page);
  await signedIn(page);
  await openLesson(page, fixture.course, fixture.video);
  await playedPast(page, 3000);
  await page.evaluate(() => document.getElementById('lesson-video').pause());
  const played = (await video(page)).ms;
  await until('the report is queued and its send failed', async () =>
    (await outbox(page)).length === 1 && attempts.length >= 1);
  const [queued] = await outbox(page);
  const shown = await page.$eval('#outbox-count', (e) => e.textContent);

  await page.reload({ waitUntil: 'domcontentloaded' });
  await signedIn(page);
  const afterReload = await outbox(page);

  linkDown = false;
  await outboxEmpty(page, 20000);
  const server = await ledger(page);
  return {
    played_ms: played,
    queued_id: queued.id,
    shown_count: shown,
    kept_after_reload: afterReload.map((r) => r.id),
    attempts,
    credited_ms: server.credited_ms,
    resume_ms: server.resume[fixture.video],
  };
});
