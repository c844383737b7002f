// The server dies mid-lesson: the station downloads the lesson for offline use (with visible
// progress), runs a group session, and the server process is killed while the lesson plays.
// The video keeps playing from the browser's own storage (the service worker answers <video>'s
// Range requests with 206 cut from the kept file), the end of the session waits in the outbox
// with its count visible, survives a reload of the page with the server still gone, and is
// delivered once the server is back on the same port, leaving the outbox empty.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenario, shot, until, fixture, base } from './lib.mjs';
import {
  check, signIn, enterRoom, outboxCount, checkEveryoneIn, playToEnd, endSession,
} from './station_steps.mjs';

const { token, lesson, members, signals } = fixture;

// Asks the Rust test to stop or start the server, and waits until it has.
async function server(action, done) {
  writeFileSync(join(signals, action), '');
  await until(`the server to be ${done}`, () => existsSync(join(signals, done)), 40000);
}

// What the service worker answers for a Range request of a kept file.
const rangeFrom = (page, url) => page.evaluate(async (u) => {
  const res = await fetch(u, { headers: { Range: 'bytes=100-199' } });
  return {
    status: res.status, range: res.headers.get('content-range'), bytes: (await res.arrayBuffer()).byteLength,
  };
}, url);

await scenario(async ({ page }) => {
  await signIn(page, token);
  await page.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 15000 });

  const row = `[data-lesson="${lesson}"]`;
  const progress = [];
  await page.click(`${row} button.download`);
  await until('the download finishes', async () => {
    const state = await page.$eval(row, (r) => ({
      value: r.querySelector('progress')?.value, ok: !!r.querySelector('.dl-state.ok'),
    }));
    if (state.value != null) progress.push(state.value);
    return state.ok;
  }, 30000);

  const room = await enterRoom(page, lesson);
  check(room.reason === 'cached', `a downloaded lesson plays from this computer: ${JSON.stringify(room)}`);
  const src = await page.$eval('#player', (v) => v.getAttribute('src'));
  await checkEveryoneIn(page, members);
  await until('check-ins delivered', async () => (await outboxCount(page)) === 0);

  let positionAtStop = 0;
  let kept = null;
  await playToEnd(page, async () => {
    await until('some seconds played', () => page.$eval('#player', (v) => v.currentTime > 4), 15000);
    await server('stop', 'stopped');
    positionAtStop = await page.$eval('#player', (v) => v.currentTime);
    kept = await rangeFrom(page, src);
    await shot(page, 'station-offline-playing-zh-Hans');
  });
  check(kept.status === 206 && kept.bytes === 100 && /^bytes 100-199\/\d+$/.test(kept.range),
    `a Range request for the kept file, server gone: ${JSON.stringify(kept)}`);
  const error = await page.$eval('#player', (v) => v.error?.message || null);
  check(!error, `the video played on without error: ${error}`);

  const playedMs = await endSession(page);
  const waitingOffline = await outboxCount(page);
  check(waitingOffline > 0, 'the end of the session waits in the outbox');
  await shot(page, 'station-offline-ended-zh-Hans');

  // The page itself opens with the server gone, and the queue is still there.
  await page.goto(`${base}/ui/station/?lang=zh-Hans`);
  await page.waitForSelector('#lessons-view [data-lesson]', { state: 'visible' });
  check((await outboxCount(page)) === waitingOffline, 'the queue survived the reload');
  check(await page.$eval('#link', (e) => e.classList.contains('bad')), 'the page says the server is unreachable');
  await shot(page, 'station-offline-reloaded-zh-Hans');

  await server('start', 'started');
  await until('the outbox is delivered', async () => (await outboxCount(page)) === 0, 40000);
  const refused = await page.$eval('#refused', (e) => !e.hidden);
  check(!refused, 'nothing was refused');
  return { playedMs, waitingOffline, positionAtStop, kept, progress: progress.length };
});
