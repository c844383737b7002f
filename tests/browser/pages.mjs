// Every page under web/ (each folder with an index.html, and the landing page): a cold load in
// each interface language, its bytes on the wire before media, and a screenshot per language.
import { scenario, coldWeight, shot } from './lib.mjs';
import { base, fixture } from './lib.mjs';

await scenario(async ({ browser, page }) => {
  const weights = [];
  for (const path of fixture.pages) {
    weights.push(await coldWeight(browser, path));
    for (const lang of ['zh-Hans', 'ug-Arab', 'bo-Tibt']) {
      await page.goto(`${base}${path}?lang=${lang}`, { waitUntil: 'networkidle' });
      const html = await page.evaluate(() => ({
        lang: document.documentElement.lang, dir: document.documentElement.dir,
      }));
      if (html.lang !== lang) throw new Error(`${path}: html lang ${html.lang}, wanted ${lang}`);
      const want = lang === 'ug-Arab' ? 'rtl' : 'ltr';
      if (html.dir !== want) throw new Error(`${path} in ${lang}: dir ${html.dir}, wanted ${want}`);
      const name = path === '/' ? 'home' : path.split('/').filter(Boolean).pop();
      await shot(page, `cold-${name}-${lang}`);
    }
  }
  return { weights };
});
