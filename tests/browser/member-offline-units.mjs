// The member page's offline pieces, run in Node against what the server computes: its SHA-256
// (web/shared/sha256.js) against node:crypto fed in odd pieces; an offline grant's attention
// checks drawn by offlinePlan against the server's (the fixture's `checks`, from Rust); and a
// text lesson's Markdown picture rendered as a lazily loaded image only for this server's media.
// No browser is needed.
import { createHash } from 'node:crypto';
import { fixture } from './lib.mjs';
import { Sha256 } from '../../web/shared/sha256.js';

// Just enough of a document for el() and renderText.
globalThis.document = {
  createElement: (tag) => ({
    tag, attrs: {}, children: [], textContent: '',
    setAttribute(k, v) { this.attrs[k] = v; }, addEventListener() {},
    append(...c) { this.children.push(...c); }, replaceChildren(...c) { this.children = c; },
  }),
};
const { offlinePlan } = await import('../../web/member/attention.js');
const { renderText } = await import('../../web/member/text.js');

const out = { hashes: 0 };
for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 1 << 20]) {
  const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
  const h = new Sha256();
  for (let i = 0; i < n; i += 977) h.update(bytes.subarray(i, i + 977));
  const want = createHash('sha256').update(bytes).digest('hex');
  if (h.hex() !== want) throw new Error(`sha256 of ${n} bytes differs`);
  out.hashes += 1;
}

// The page asked at `now` (server clock): the last check due before now first, then the rest.
const g = fixture.grant;
const now = g.issued_ms + fixture.now_after_ms;
const realNow = Date.now;
Date.now = () => now;
const plan = offlinePlan(g, 0, 0);
Date.now = realNow;
out.plan = plan.checks.map((c) => [c.n, c.code, now + c.after_ms]);

const article = document.createElement('article');
renderText(article, '# 标题\n\n正文。\n\n![图一 会场](/media/' + 'ab'.repeat(32) + '/thumbnail.jpg)\n\n![外链](https://example.com/x.png)');
out.text = article.children.map((c) => ({
  tag: c.tag, text: c.textContent, img: c.children.find((x) => x?.tag === 'img')?.attrs || null,
}));
console.log(JSON.stringify({ ok: true, ...out }));
