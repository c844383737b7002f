// Offline study on a phone: with no room left, the page says so; then a member downloads a lesson for offline use; the link drops in the
// middle (the second part's request is cut), the page says so and keeps what came; after a
// reload the download goes on by itself and the kept file's sha256 equals the rendition's. The
// page is then taken offline and reloaded (its service worker has kept it): the kept lesson
// plays from storage and its reports wait; online again, they are sent and credited. Last, the
// page with a kept lesson and an open player is laid out in three languages on a 360-px phone.
import { scenario, fixture, until, shot, base } from './lib.mjs';
import { signIn, signedIn, openLesson, video, outboxEmpty, ledger } from './member-lib.mjs';

const kept = (page) => page.evaluate((m) => new Promise((resolve, reject) => {
  const open = indexedDB.open('yj-member');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const req = open.result.transaction('kept').objectStore('kept').getAll();
    req.onsuccess = () => resolve(req.result.filter((r) => r.member === m).map((r) => ({
      lesson: r.lesson, parts: r.parts, done: r.done, grant: r.grant, file: r.file, has_blob: !!r.blob,
    })));
    req.onerror = () => reject(req.error);
  };
}), fixture.member);

await scenario(async ({ page, context }) => {
  await signIn(page);
  await signedIn(page);
  await page.evaluate(() => navigator.serviceWorker.ready);

  // A phone whose browser has no room left: the member is told why, in their language.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(base).origin, quotaSize: 1000000 });
  await openLesson(page, fixture.course, fixture.video);
  await page.waitForSelector('#keep-lesson');
  await page.click('#keep-lesson');
  const quotaNote = await until('the page explains the full storage', () => page.$eval('#kept-note', (p) => (p.classList.contains('bad') ? p.textContent : '')));
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(base).origin });
  await page.click('#player-close');

  let cut = 0;
  await page.route('**/media/**', (route) => {
    const range = route.request().headers().range || '';
    if (/^bytes=[1-9]\d*-/.test(range) && route.request().url().includes('og=') && !cut) {
      cut += 1;
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await openLesson(page, fixture.course, fixture.video);
  await page.waitForSelector('#keep-lesson');
  await until('a rendition chosen', () => page.$eval('#lesson-video', (v) => v.dataset.rendition));
  await page.click('#player-close');
  await openLesson(page, fixture.course, fixture.video);
  await page.waitForSelector('#keep-lesson');
  const button = await page.$eval('#keep-lesson', (b) => b.textContent);
  await page.click('#keep-lesson');
  const cutNote = await until('the page says the download was cut', async () => {
    const note = await page.$eval('#kept-note', (p) => (p.classList.contains('bad') ? p.textContent : ''));
    return note;
  }, 60000);
  const partial = (await kept(page))[0];
  await page.unroute('**/media/**');
  await page.click('#player-close');

  await page.reload({ waitUntil: 'domcontentloaded' });
  await signedIn(page);
  await until('the download finished by itself', async () => (await kept(page))[0]?.done, 60000);
  const whole = (await kept(page))[0];
  const sha256 = await page.evaluate(async (m) => {
    const record = await new Promise((resolve) => {
      indexedDB.open('yj-member').onsuccess = (e) => {
        e.target.result.transaction('kept').objectStore('kept').getAll().onsuccess = (r) => resolve(r.target.result.find((x) => x.member === m));
      };
    });
    const digest = await crypto.subtle.digest('SHA-256', await record.blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }, fixture.member);
  const listed = await page.$eval(`#kept-list li[data-lesson="${fixture.video}"]`, (li) => li.textContent);

  // At home: no network at all, and the page opened afresh.
  await until('the service worker controls the page', () => page.evaluate(() => !!navigator.serviceWorker.controller));
  await context.setOffline(true);
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`#kept-list li[data-lesson="${fixture.video}"] button.primary`, { timeout: 20000 });
  const offlineNote = await page.$eval('#status', (p) => p.textContent);
  await page.click(`#kept-list li[data-lesson="${fixture.video}"] button.primary`);
  await page.waitForSelector('#player-kept');
  await until('the kept lesson plays', async () => (await video(page)).ms > 6000, 30000);
  const playedOffline = (await video(page)).ms;
  await page.click('#player-close');
  const waiting = await page.evaluate((m) => JSON.parse(localStorage.getItem(`yj.member.outbox.${m}`) || '[]'), fixture.member);
  await shot(page, 'member-keep-offline');

  await context.setOffline(false);
  await page.evaluate(() => dispatchEvent(new Event('online')));
  await outboxEmpty(page, 30000);
  const server = await ledger(page);

  const layouts = {};
  for (const lang of ['zh-Hans', 'ug-Arab', 'bo-Tibt']) {
    await page.goto(`${base}/ui/member/?lang=${lang}`, { waitUntil: 'domcontentloaded' });
    await signedIn(page);
    await page.waitForSelector('#kept-list li');
    await openLesson(page, fixture.course, fixture.video);
    await page.waitForSelector('#player-kept');
    await page.click('#player-close');
    await openLesson(page, 'member-reading', 'mr-1');
    await page.waitForSelector('#lesson-text p');
    layouts[lang] = await page.evaluate(() => ({
      dir: document.documentElement.dir,
      overflow: document.documentElement.scrollWidth - innerWidth,
      kept_title: document.getElementById('kept-title').textContent,
      saver: document.querySelector('.saver').textContent.trim(),
    }));
    layouts[lang].shot = await shot(page, `member-keep-${lang}-360`);
    await page.click('#player-close');
    await outboxEmpty(page, 30000);
  }
  return {
    quota_note: quotaNote, button, cut, cut_note: cutNote, partial, whole, sha256, listed, offline_note: offlineNote,
    played_offline_ms: playedOffline, waiting, server, layouts,
  };
}, { viewport: { width: 360, height: 740 } });
