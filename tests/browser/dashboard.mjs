// The hours dashboard in a real browser, against a county the Rust test credited through the
// API (tests/dashboard/world.rs). A county manager signs in; the scenario reads what the page
// shows — the tree's rates, the member rows in order with their exact credited ms, the chart's
// bars — downloads both CSVs, drives the tree and the year by keyboard, and takes screenshots
// in each language and on a phone. The Rust test checks the numbers.
// Fixture: the county manager's token and an admin's.
import { readFileSync } from 'node:fs';
import { scenario, shot, until, coldWeight, base, fixture } from './lib.mjs';

const url = (lang) => `${base}/ui/dashboard/?lang=${lang}`;

// What the page shows: tree rows, member rows (in order) and chart bars.
const read = (page) => page.evaluate(() => {
  const text = (n) => n?.textContent.trim() ?? '';
  const tree = [...document.querySelectorAll('#tree tbody tr')].map((tr) => ({
    org: tr.dataset.org,
    hidden: tr.hidden,
    members: Number(text(tr.cells[1])),
    met: Number(text(tr.cells[2])),
    rate: text(tr.cells[3]),
    hours: text(tr.cells[4]),
  }));
  const members = [...document.querySelectorAll('[data-member]')].map((tr) => ({
    member: tr.dataset.member, credited_ms: Number(tr.dataset.creditedMs), text: text(tr),
  }));
  const bars = [...document.querySelectorAll('#chart rect.bar')].map((r) => ({
    month: Number(r.dataset.month), ms: Number(r.dataset.ms), x: Number(r.getAttribute('x')),
  }));
  const anomalies = [...document.querySelectorAll('#anomalies tr[data-anomaly-member]')].map((tr) => ({
    member: tr.dataset.anomalyMember, kinds: tr.dataset.kinds, text: text(tr),
  }));
  const drawn = (id) => ({ ...document.getElementById(id).dataset });
  return {
    tree, members, bars, anomalies, focus: text(document.getElementById('focus-title')),
    drawn: [drawn('members'), drawn('chart'), drawn('anomalies')],
  };
});

// Waits until the member list and the chart both show `org` in `year`.
const shownFor = (page, org, year = '2026') => until(`${org} in ${year}`, async () => {
  const shown = await read(page);
  const done = shown.drawn.every((d) => d.org === org && d.year === year);
  return done && shown.bars.length === 12 ? shown : null;
});

async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const bytes = readFileSync(await file.path());
  return { name: file.suggestedFilename(), base64: bytes.toString('base64') };
}

await scenario(async ({ browser, page }) => {
  const started = Date.now();
  const result = {};

  // A wrong token: the server's reason is shown, and nothing else happens.
  await page.goto(url('zh-Hans'));
  await page.fill('#token', 'not-a-token');
  await page.click('#sign-in button[type=submit]');
  result.bad_token = await until('the sign-in error', async () => (await page.textContent('#signin-error')).trim());

  // The county manager signs in with the keyboard.
  await page.fill('#token', fixture.county);
  await page.press('#token', 'Enter');
  const county = await shownFor(page, 'county');
  Object.assign(result, {
    tree: county.tree, members: county.members, bars: county.bars, focus: county.focus, anomalies: county.anomalies,
  });
  result.stored_token = await page.evaluate(() => localStorage.getItem('yj.token.dashboard'));

  // Both reports as files, as a spreadsheet would get them.
  result.orgs_csv = await download(page, '#download-orgs');
  result.members_csv = await download(page, '#download-members');
  result.anomalies_csv = await download(page, '#download-anomalies');
  await shot(page, 'dashboard-main-zh-Hans');

  // Only those behind, asked of the server with the keyboard, and back.
  await page.focus('#only-behind');
  await page.keyboard.press('Space');
  result.only_behind = await until('only members behind', async () => {
    const ids = (await read(page)).members.map((m) => m.member);
    return ids.length === 3 ? ids : null;
  });
  await page.keyboard.press('Space');
  await until('every member again', async () => (await read(page)).members.length === 4);

  // Keyboard: close and reopen the county's branches, then look at branch b1 alone.
  const toggle = '#tree tr[data-org="county"] button.toggle';
  await page.focus(toggle);
  await page.keyboard.press('Enter');
  result.closed = {
    expanded: await page.getAttribute(toggle, 'aria-expanded'),
    hidden: (await read(page)).tree.filter((r) => r.hidden).map((r) => r.org),
  };
  await page.keyboard.press('Space');
  result.reopened = await page.getAttribute(toggle, 'aria-expanded');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  result.tabbed_to = await page.evaluate(() => document.activeElement.closest('tr')?.dataset.org);
  await page.keyboard.press('Enter');
  const b1 = await shownFor(page, 'b1');
  result.b1 = { members: b1.members, bars: b1.bars, focus: b1.focus };

  // Last year, still looking at b1: only M1's five minutes before midnight on New Year's Eve.
  await page.selectOption('#year', '2025');
  const lastYear = await shownFor(page, 'b1', '2025');
  result.last_year = { bars: lastYear.bars, tree: lastYear.tree };

  // Each language, signed in from the stored token; the county again, this year.
  result.languages = {};
  for (const lang of ['ug-Arab', 'bo-Tibt', 'zh-Hans']) {
    await page.goto(url(lang));
    const shown = await shownFor(page, 'county');
    const html = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
    result.languages[lang] = { ...html, bars: shown.bars, members: shown.members.map((m) => m.member) };
    if (lang !== 'zh-Hans') await shot(page, `dashboard-main-${lang}`);
  }

  // A phone: nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 740 });
  await until('the chart redrawn for the phone', async () => (await page.$eval('#chart svg', (s) => Number(s.getAttribute('width')))) < 360);
  result.phone = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  await shot(page, 'dashboard-phone-zh-Hans');

  // Signing out forgets the token; an admin signs in and sees the top of the tree.
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.click('#sign-out');
  result.after_sign_out = {
    token: await page.evaluate(() => localStorage.getItem('yj.token.dashboard')),
    form: await page.isVisible('#sign-in'),
    rows_left: await page.$$eval('[data-member], #tree tr', (rows) => rows.length),
  };
  await page.fill('#token', fixture.admin);
  await page.press('#token', 'Enter');
  result.admin = (await shownFor(page, 'county')).focus;

  // Cold loads: the sign-in page, and the signed-in dashboard with every API answer it needs.
  result.cold = await coldWeight(browser, '/ui/dashboard/');
  result.cold_signed_in = await coldWeight(browser, '/ui/dashboard/', (p) => p.addInitScript((token) => {
    localStorage.setItem('yj.token.dashboard', token);
  }, fixture.county));
  result.elapsed_ms = Date.now() - started;
  return result;
});
