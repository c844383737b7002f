// Playback that adapts by itself, on a phone-sized page: with the link throttled through the
// DevTools protocol to 64 kbit/s and 300 ms, the page measures it and starts the lesson as sound
// only, saying why; at 2 Mbit/s it switches up to a picture by itself, at the position reached.
// When the link collapses under a picture, it steps down to sound after the stalls. The sizes of every rendition are shown before playing. A forced choice is remembered. The
// data saver starts sound only and fetches nothing before play.
import { scenario, fixture, until, shot } from './lib.mjs';
import { signIn, signedIn, openLesson, video, outboxEmpty, ledger } from './member-lib.mjs';

const rendition = (page) => page.$eval('#lesson-video', (v) => v.dataset.rendition || '');

await scenario(async ({ page, context }) => {
  await signIn(page);
  await signedIn(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const link = (bytesPerSecond, latency) => cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency, downloadThroughput: bytesPerSecond, uploadThroughput: bytesPerSecond,
  });
  await page.evaluate(() => localStorage.removeItem('yj.link.kbps'));
  await link(8000, 300); // 64 kbit/s
  await openLesson(page, fixture.course, fixture.video);
  await until('the page picked a file', async () => (await rendition(page).catch(() => '')) !== '', 40000);
  const started = await rendition(page);
  const sizes = await page.$eval('#sizes', (p) => p.textContent);
  const why = await page.$eval('#player-status', (p) => p.textContent);
  await until('sound plays on the slow link', async () => (await video(page)).ms > 2500, 40000);
  await shot(page, 'member-adapt-slow');
  await link(250000, 20); // 2 Mbit/s
  const before = (await video(page)).ms;
  await until('a picture, once the link recovered', async () => (await rendition(page)) !== started, 45000);
  const switched = await rendition(page);
  await until('the new file playing', async () => { const v = await video(page); return v.ready >= 2 && !v.paused; }, 20000);
  const after = (await video(page)).ms;
  const note = await page.$eval('#player-status', (p) => p.textContent);
  await shot(page, 'member-adapt-recovered');
  await page.click('#player-close');
  await outboxEmpty(page, 30000);

  // The link measures well but cannot carry the picture (the probe is answered at once, the
  // lesson's file itself crawls at 64 kbit/s): after the stalls, sound only, at the position.
  await page.route(/[?&]probe/, (route) => route.fulfill({
    status: 206, body: Buffer.alloc(256 * 1024),
    headers: { 'Content-Type': 'video/mp4', 'Content-Range': 'bytes 0-262143/9999999' },
  }));
  await link(8000, 300);
  await openLesson(page, fixture.course, fixture.video);
  await until('a picture, as the probe promised', async () => (await rendition(page).catch(() => '')) === '240p', 30000);
  const beforeDown = (await video(page)).ms;
  await until('sound only after the stalls', async () => (await rendition(page)) === 'audio', 60000);
  await page.unroute(/[?&]probe/);
  await until('the sound playing', async () => { const v = await video(page); return v.ready >= 2 && !v.paused; }, 40000);
  const down = { before_ms: beforeDown, after_ms: (await video(page)).ms, note: await page.$eval('#player-status', (p) => p.textContent) };
  await link(250000, 20);
  await page.click('#player-close');

  // Forcing sound only is remembered on this device.
  await openLesson(page, fixture.course, fixture.video);
  await page.waitForSelector('#quality');
  await page.selectOption('#quality', 'audio');
  await page.click('#player-close');
  await openLesson(page, fixture.course, fixture.video);
  await until('the forced choice again', async () => (await rendition(page).catch(() => '')) === 'audio');
  const forced = await page.$eval('#quality', (s) => s.value);
  await page.selectOption('#quality', 'auto');
  await page.click('#player-close');

  // The data saver: sound only, and nothing of the lesson fetched until the member presses play.
  await page.check('#data-saver');
  const fetched = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/media/')) fetched.push(r.url()); });
  await openLesson(page, fixture.course, fixture.video);
  await until('the saver picked a file', async () => (await rendition(page).catch(() => '')) !== '');
  await page.waitForTimeout(2000);
  const saver = {
    rendition: await rendition(page),
    fetched_before_play: fetched.length,
    preload: await page.$eval('#lesson-video', (v) => v.preload),
    why: await page.$eval('#player-status', (p) => p.textContent),
  };
  await page.$eval('#lesson-video', (v) => v.play());
  await until('it plays once asked', async () => (await video(page)).ms > 1000, 20000);
  saver.fetched_after_play = fetched.length;
  await page.click('#player-close');
  await page.uncheck('#data-saver');
  await outboxEmpty(page, 30000);
  return { started, sizes, why, before_ms: before, switched, after_ms: after, note, down, forced, saver, server: await ledger(page) };
}, { viewport: { width: 360, height: 740 } });
