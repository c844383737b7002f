// Steps the station scenarios share: signing in, opening a lesson's room, waiting for the
// rendition choice, and reading the outbox count and the played time off the page.
import { base, until } from './lib.mjs';

export const LANGS = ['zh-Hans', 'ug-Arab', 'bo-Tibt'];

export function check(cond, what) {
  if (!cond) throw new Error(what);
}

export async function signIn(page, token, lang = 'zh-Hans') {
  await page.goto(`${base}/ui/station/?lang=${lang}`);
  await page.waitForSelector('#sign-in #token', { state: 'visible' });
  await page.fill('#token', token);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#lessons-view [data-lesson]', { state: 'visible' });
}

// Opens the lesson list in `lang` (already signed in) and waits until it is drawn.
export async function lessons(page, lang) {
  await page.goto(`${base}/ui/station/?lang=${lang}`);
  await page.waitForSelector('#lessons-view [data-lesson]', { state: 'visible' });
}

// Enters the room of `lesson` and waits for the rendition choice: {reason, rendition, text}.
export async function enterRoom(page, lesson) {
  await page.click(`[data-lesson="${lesson}"] button.primary`);
  await page.waitForSelector('#room-view #members li', { state: 'visible' });
  await until('the rendition choice', () => page.$eval('#rendition', (e) => !!e.dataset.reason), 20000);
  await page.waitForLoadState('networkidle');
  return page.$eval('#rendition', (e) => ({
    reason: e.dataset.reason, rendition: e.dataset.rendition, text: e.textContent,
  }));
}

export async function outboxCount(page) {
  const { count, text } = await page.$eval('#outbox-count', (e) => ({ count: Number(e.dataset.count), text: e.textContent }));
  check(text.includes(String(count)), `the outbox count ${count} is visible in ${JSON.stringify(text)}`);
  return count;
}

export async function checkEveryoneIn(page, members) {
  await page.click('#all-in');
  await until('everyone checked in', async () => (await page.$$('#members li.present')).length === members.length);
  for (const m of members) {
    const pressed = await page.$eval(`#members [data-member="${m}"] button`, (b) => b.getAttribute('aria-pressed'));
    check(pressed === 'true', `${m} shows as checked in`);
  }
}

// Plays the lesson to its end through the page's own button; returns the video's state.
export async function playToEnd(page, onProgress = async () => {}) {
  await page.click('#play');
  await until('playback starts', () => page.$eval('#player', (v) => v.currentTime > 0.2 && !v.paused), 15000);
  const big = await page.evaluate(() => !!document.fullscreenElement || document.getElementById('stage').classList.contains('theatre'));
  check(big, 'the stage is full screen (or fills the window where full screen is refused)');
  await onProgress();
  await until('the lesson plays to its end', () => page.$eval('#player', (v) => v.ended), 60000);
}

export async function endSession(page) {
  await page.click('#end');
  await page.click('#end-yes');
  await page.waitForSelector('#summary', { state: 'visible' });
  return Number(await page.$eval('#played', (e) => e.dataset.playedMs));
}
