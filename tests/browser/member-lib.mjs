// Steps the member page scenarios share: signing in through the form, opening a lesson from
// the theme list, hiding and showing the page, and asking the server for the member's ledger.
import { base, fixture, until } from './lib.mjs';

export async function signIn(page, { lang = 'zh-Hans', pin = fixture.pin } = {}) {
  await page.goto(`${base}/ui/member/?lang=${lang}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#sign-in', { state: 'visible' });
  await page.fill('#member-id', fixture.member);
  await page.fill('#pin', pin);
  await page.click('#sign-in button[type=submit]');
}

export async function signedIn(page) {
  await page.waitForSelector('#hours-figure', { timeout: 20000 });
}

// Expands the course in the theme list and presses the lesson's play (or read) button.
export async function openLesson(page, course, lesson) {
  const box = `details.course[data-course="${course}"]`;
  await page.waitForSelector(box);
  if (!(await page.$eval(box, (d) => d.open))) await page.click(`${box} > summary`);
  await page.click(`${box} li[data-lesson="${lesson}"] button`);
}

export async function video(page) {
  await page.waitForSelector('#lesson-video');
  return page.$eval('#lesson-video', (v) => ({
    ms: Math.round(v.currentTime * 1000), paused: v.paused, ready: v.readyState, error: v.error?.message,
  }));
}

export async function playedPast(page, ms, timeout = 30000) {
  await until(`video past ${ms} ms`, async () => (await video(page)).ms >= ms, timeout);
}

// Headless Chromium keeps every page visible and offers no protocol call to change that, so
// the page is told it is hidden the way a browser tells it: visibilityState and the event.
export async function setHidden(page, hidden) {
  await page.evaluate((hidden) => {
    if (hidden) {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    } else {
      delete document.visibilityState;
      delete document.hidden;
    }
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

export async function outboxEmpty(page, timeout = 15000) {
  await until('the outbox is empty', () => page.evaluate(
    (m) => localStorage.getItem(`yj.member.outbox.${m}`) === null, fixture.member), timeout);
}

// The member's credited ms this year and resume positions, asked with the page's own token.
export async function ledger(page) {
  return page.evaluate(async (m) => {
    const token = localStorage.getItem('yj.token.member');
    const get = async (p) => (await fetch(p, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' })).json();
    const hours = await get(`/api/v1/members/${m}/hours`);
    const resume = await get(`/api/v1/members/${m}/resume`);
    const at = Object.fromEntries(resume.lessons.map((l) => [l.lesson, l.position_ms]));
    return { credited_ms: hours.credited_ms, resume: at };
  }, fixture.member);
}

// Counts watch reports the page sends (POST /api/v1/watch) from now on.
export function countReports(page) {
  const seen = { n: 0 };
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/watch') seen.n += 1;
  });
  return seen;
}
