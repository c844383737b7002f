// The member page's watch accounting (web/member/accounting.js) run in Node with fake clocks:
// worked cases, then thousands of random sessions (playing at any rate, seeking, stalling,
// hiding, cutting reports, the device clock stepping back) in which no report may claim more media time than its wall time,
// and reports must follow one another on one timeline. No browser is needed.
import { Accountant, playedMs, wallMs } from '../../web/member/accounting.js';

function clocks(epoch0 = Date.parse('2026-03-01T08:00:00Z')) {
  const c = { perf: 1000.5, epochOffset: epoch0 - 1000 };
  c.acct = new Accountant({ now: () => c.perf, epoch: () => Math.floor(c.perf + c.epochOffset) });
  return c;
}

// Plays `ms` of wall time at `rate` from media `pos`, sampled every `step` ms; returns the end.
function play(c, pos, ms, { rate = 1, step = 250 } = {}) {
  c.acct.sample(pos);
  for (let t = step; t <= ms; t += step) {
    c.perf += step;
    pos += step * rate;
    c.acct.sample(pos);
  }
  return pos;
}

function expect(what, got, want) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

const cases = {};

{ // Ten seconds at normal speed: ten seconds played, in ten seconds.
  const c = clocks();
  play(c, 0, 10000);
  const r = c.acct.cut();
  expect('played', r.played, [[0, 10000]]);
  expect('wall', wallMs(r), 10000);
  expect('position', r.position_ms, 10000);
  cases.normal = r;
}
{ // Twice as fast: no more media than wall time.
  const c = clocks();
  play(c, 0, 10000, { rate: 2 });
  const r = c.acct.cut();
  if (playedMs(r) > wallMs(r)) throw new Error(`fast: ${JSON.stringify(r)}`);
  expect('fast played', playedMs(r), 10000);
}
{ // A seek forward inside one report: two intervals, the skipped part not played.
  const c = clocks();
  play(c, 0, 3000);
  c.acct.stop(); // seeking
  c.perf += 400;
  play(c, 20000, 2000);
  const r = c.acct.cut();
  expect('seek', r.played, [[0, 3000], [20000, 22000]]);
  expect('seek wall', wallMs(r), 5400);
}
{ // Hidden for five seconds while the media ran on: the hidden part is never sampled, and the
  // first sample after it starts a new segment rather than bridging the gap.
  const c = clocks();
  let pos = play(c, 0, 4000);
  c.acct.stop(); // hidden
  c.perf += 5000;
  pos += 5000;
  play(c, pos, 2000);
  const r = c.acct.cut();
  expect('hidden', r.played, [[0, 4000], [9000, 11000]]);
}
{ // Reports every 15 s while playing on: contiguous media, adjacent wall intervals.
  const c = clocks();
  c.acct.reportEveryMs = 15000;
  const out = [];
  let pos = 0;
  c.acct.sample(pos);
  for (let i = 0; i < 160; i++) {
    c.perf += 250;
    pos += 250;
    c.acct.sample(pos);
    if (c.acct.due()) out.push(c.acct.cut({ keepGoing: true }));
  }
  out.push(c.acct.cut());
  expect('chunks', out.map((r) => r.played), [[[0, 15000]], [[15000, 30000]], [[30000, 40000]]]);
  for (let i = 1; i < out.length; i++) expect(`adjacent ${i}`, out[i].wall[0], out[i - 1].wall[1]);
  cases.chunks = out.length;
}
{ // Nothing played, nothing reported.
  const c = clocks();
  c.acct.moved(5000);
  expect('nothing', c.acct.cut(), null);
}

// Random sessions.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
let reports = 0;
for (let session = 0; session < 3000; session++) {
  const c = clocks();
  c.acct.reportEveryMs = 1000 + Math.floor(rand() * 20000);
  let pos = Math.floor(rand() * 60000);
  let playing = false;
  const out = [];
  for (let step = 0; step < 200; step++) {
    const dt = Math.floor(rand() * 600);
    const rate = [0.5, 1, 1, 1, 1.25, 2, 4][Math.floor(rand() * 7)];
    c.perf += dt + rand() * 0.9;
    if (rand() < 0.02) c.epochOffset -= Math.floor(rand() * 3000); // the device clock steps back
    if (playing) pos += dt * rate * (0.9 + rand() * 0.2); // media clock jitter
    const roll = rand();
    if (roll < 0.6) { playing = true; c.acct.sample(pos); }
    else if (roll < 0.7) { playing = false; c.acct.stop(); }
    else if (roll < 0.78) { pos = Math.floor(rand() * 120000); c.acct.stop(); c.acct.moved(pos); }
    else if (roll < 0.85) { c.acct.stop(); } // hidden or stalled: media may run on unseen
    else if (roll < 0.95) { if (c.acct.due()) { const r = c.acct.cut({ keepGoing: true }); if (r) out.push(r); } }
    else { const r = c.acct.cut(); if (r) out.push(r); }
  }
  const last = c.acct.cut();
  if (last) out.push(last);
  for (const [i, r] of out.entries()) {
    reports++;
    const wall = wallMs(r);
    if (!(wall > 0)) throw new Error(`empty wall: ${JSON.stringify(r)}`);
    if (playedMs(r) > wall) throw new Error(`played ${playedMs(r)} > wall ${wall}: ${JSON.stringify(r)}`);
    for (const [a, b] of r.played) {
      if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b > a)) throw new Error(`bad interval ${a}-${b}`);
    }
    if (i > 0 && Date.parse(r.wall[0]) < Date.parse(out[i - 1].wall[1])) {
      throw new Error(`walls overlap: ${JSON.stringify(out[i - 1].wall)} then ${JSON.stringify(r.wall)}`);
    }
  }
}
console.log(JSON.stringify({ ok: true, cases, random_reports: reports }));
