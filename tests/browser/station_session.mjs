// A station runs a group session with two members through its page: on a weak link the room
// chooses sound only; on a good one the best rendition; both members are checked in, the
// lesson plays full-screen to its end, the session is ended and the credits come back. Every
// operation is also sent a second time, as after a lost answer, and must change nothing. Then
// the dashboard (when that page exists) shows the members' credited time. Screenshots of the
// lesson list and the room in each language, and at 360 px.
import { scenario, shot, until, fixture, base } from './lib.mjs';
import {
  LANGS, check, signIn, lessons, enterRoom, outboxCount, checkEveryoneIn, playToEnd, endSession,
} from './station_steps.mjs';

const { token, lesson, members } = fixture;

// In the page: keeps a copy of every operation the outbox delivers (the page's own module).
async function recordDeliveries() {
  const outbox = await import('/ui/station/outbox.js');
  window.delivered = [];
  outbox.onDelivered((op) => window.delivered.push(op));
}

// In the page: queues again every delivered operation of these kinds, as a station does when
// an answer never arrived; returns how many.
async function resend(kinds) {
  const outbox = await import('/ui/station/outbox.js');
  const ops = window.delivered.filter((op) => kinds.includes(op.kind));
  for (const { queued, tries, ...op } of ops) await outbox.enqueue(op);
  return ops.length;
}

await scenario(async ({ context, page }) => {
  const scripts = new Set();
  page.on('request', (r) => { if (r.resourceType() === 'script') scripts.add(new URL(r.url()).pathname); });
  await signIn(page, token);
  // Every module the page loads is preloaded from its head (one round trip on a slow link).
  const preloaded = await page.$$eval('link[rel=modulepreload], script[type=module]', (l) => l.map((e) => new URL(e.href || e.src).pathname));
  const missing = [...scripts].filter((s) => !preloaded.includes(s));
  check(missing.length === 0, `modules loaded but not preloaded: ${missing.join(' ')}`);

  // A weak link: about 100 kbit/s. The probe is a real download of the lesson's smallest video.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 150, downloadThroughput: 12_500, uploadThroughput: 12_500,
  });
  const weak = await enterRoom(page, lesson);
  check(weak.reason === 'weak' && weak.rendition === 'audio', `weak link: ${JSON.stringify(weak)}`);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  await page.click('#back');
  await page.waitForSelector('#lessons-view', { state: 'visible' });

  for (const lang of LANGS) {
    await lessons(page, lang);
    await shot(page, `station-lessons-${lang}`);
    await enterRoom(page, lesson);
    await shot(page, `station-room-${lang}`);
    await page.click('#back');
    await page.waitForSelector('#lessons-view', { state: 'visible' });
  }

  await lessons(page, 'zh-Hans');
  await page.evaluate(recordDeliveries);
  const good = await enterRoom(page, lesson);
  check(good.reason === 'measured' && good.rendition === '360p', `loopback: ${JSON.stringify(good)}`);
  await checkEveryoneIn(page, members);
  await until('the check-ins are delivered', async () => (await outboxCount(page)) === 0);
  // Answers lost on the way back: the same open and check-ins are sent again.
  const again = await page.evaluate(resend, ['open', 'attendance']);
  check(again === 1 + members.length, `${again} operations sent again`);
  await until('the repeats are absorbed', async () => (await outboxCount(page)) === 0);
  await playToEnd(page);
  const playedMs = await endSession(page);
  await until('the credits come back', async () => (await page.$$('#credits [data-member]')).length === members.length, 20000);
  const credits = await page.$$eval('#credits [data-member]', (l) => l.map((e) => [e.dataset.member, Number(e.dataset.creditedMs)]));
  await until('the outbox is empty', async () => (await outboxCount(page)) === 0);
  // The end's answer lost too: sent again, it must change nothing and be refused nowhere.
  check(await page.evaluate(resend, ['end']) === 1, 'the end is sent again');
  await until('the repeated end is absorbed', async () => (await outboxCount(page)) === 0);
  check(await page.$eval('#refused', (e) => e.hidden), 'no repeat was refused');
  await shot(page, 'station-ended-zh-Hans');

  const phone = await context.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });
  await lessons(phone, 'ug-Arab');
  await shot(phone, 'station-lessons-ug-Arab-360');
  await enterRoom(phone, lesson);
  await shot(phone, 'station-room-ug-Arab-360');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  check(overflow <= 0, `the room fits 360 px (${overflow} px too wide)`);
  await phone.close();

  let dashboard = null;
  if (fixture.dashboard) {
    const dash = await context.newPage();
    await dash.goto(`${base}/ui/dashboard/?lang=zh-Hans`);
    await dash.fill('#token', fixture.manager);
    await dash.click('#sign-in [type=submit]');
    const rows = members.map((m) => `[data-member="${m}"][data-credited-ms]`).join(', ');
    await until('the dashboard lists the members', async () => (await dash.$$(rows)).length >= members.length, 20000);
    dashboard = await dash.$$eval('[data-member][data-credited-ms]', (l) => l.map((e) => [e.dataset.member, Number(e.dataset.creditedMs)]));
    await shot(dash, 'station-dashboard-zh-Hans');
  }
  return { weak, good, playedMs, credits, dashboard };
});
