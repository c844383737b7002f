// What every browser scenario shares: Debian's headless Chromium driven by playwright-core,
// a guard that fails the run if a page asks any host but the server, screenshots into the
// artefacts folder, and one JSON line on stdout for the Rust test that started the scenario.
// Inputs come from the environment: YJ_BASE (server URL), YJ_ARTIFACTS (folder), YJ_FIXTURE (JSON).
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const base = process.env.YJ_BASE;
export const artifacts = process.env.YJ_ARTIFACTS || '.';
export const fixture = JSON.parse(process.env.YJ_FIXTURE || '{}');
mkdirSync(artifacts, { recursive: true });

// playwright-core lives with the other test clients in tests/clients/node_modules.
const { chromium } = createRequire(new URL('../clients/package.json', import.meta.url))('playwright-core');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required', '--mute-audio',
];

// A browser with one context; `foreign` collects every request to a host other than the server.
export async function launch({ viewport = { width: 1024, height: 768 }, locale = 'zh-CN' } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.YJ_CHROMIUM || '/usr/bin/chromium',
    args: FLAGS,
  });
  const context = await browser.newContext({ viewport, locale, serviceWorkers: 'allow' });
  const origin = new URL(base).origin;
  const foreign = [];
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return { browser, context, page, foreign, consoleErrors };
}

export async function shot(page, name) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// Bytes on the wire for a cold load of `path` (fresh context: no cache, no service worker),
// excluding media (video, audio and /media/ files), which the page budget does not count.
export async function coldWeight(browser, path, setup = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const page = await context.newPage();
  await setup(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map();
  let bytes = 0;
  const files = [];
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response));
  cdp.on('Network.loadingFinished', (e) => {
    const r = urls.get(e.requestId);
    if (!r) return;
    const media = /^(video|audio)\//.test(r.mimeType) || new URL(r.url).pathname.startsWith('/media/');
    if (!media) { bytes += e.encodedDataLength; files.push([new URL(r.url).pathname, e.encodedDataLength]); }
  });
  await page.goto(base + path, { waitUntil: 'networkidle' });
  await context.close();
  return { path, bytes, files };
}

// Waits until `check()` is truthy (polling), or throws `what` after `ms`.
export async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Runs a scenario: prints {"ok":true,...result} or {"ok":false,"error"} and exits accordingly.
export async function scenario(body, options = {}) {
  let env;
  try {
    env = await launch(options);
    const result = await body(env);
    if (env.foreign.length) throw new Error(`requests to other hosts: ${env.foreign.join(' ')}`);
    if (env.consoleErrors.length) throw new Error(`page errors: ${env.consoleErrors.join(' | ')}`);
    console.log(JSON.stringify({ ok: true, ...result }));
    await env.browser.close();
    process.exit(0);
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e?.stack || e) }));
    await env?.browser.close().catch(() => {});
    process.exit(1);
  }
}
