// Which file of a lesson to play (station and member pages): the best rendition the link can
// sustain, measured by timing a real download, or what is already downloaded. The progressive
// MP4 renditions are used (not HLS, which Chromium-based browsers do not all play natively) so
// that one file is what is measured, played and kept for offline use.

// A rendition must fit in this share of the measured throughput, so playback does not stall
// when the link wobbles.
const HEADROOM = 0.8;
const PROBE_BYTES = 256 * 1024;
const PROBE_MS = 4000;
const HISTORY = 'yj.link.kbps';
const HISTORY_FRESH_MS = 10 * 60 * 1000;

// The files of a variant as candidates, best first: video renditions by height, then the
// sound-only one; the source only while no rendition exists yet (still processing).
// `files` is path → {url, size, mime}, path '' being the source.
export function candidates(files, durationMs) {
  const kbps = (size) => (size && durationMs ? Math.ceil((size * 8) / durationMs) : null);
  const list = [];
  for (const [path, f] of Object.entries(files)) {
    const m = /^(\d+)p\.mp4$/.exec(path);
    if (m) list.push({ name: `${m[1]}p`, path, video: true, height: +m[1], url: f.url, size: f.size, kbps: kbps(f.size), mime: 'video/mp4' });
    else if (path === 'audio.m4a') list.push({ name: 'audio', path, video: false, height: 0, url: f.url, size: f.size, kbps: kbps(f.size), mime: 'audio/mp4' });
  }
  const source = files[''];
  if (!list.some((c) => c.video) && source) {
    const video = !/^audio\//.test(source.mime || '');
    list.push({ name: 'source', path: '', video, height: video ? 1 : 0, url: source.url, size: source.size, kbps: kbps(source.size), mime: source.mime });
  }
  return list.sort((a, b) => b.height - a.height);
}

// Sizes the catalogue did not know (files made after the last sync), from HEAD.
export async function fillSizes(list, durationMs) {
  await Promise.all(list.filter((c) => !c.size).map(async (c) => {
    try {
      const res = await fetch(c.url, { method: 'HEAD' });
      const n = Number(res.headers.get('content-length'));
      if (res.ok && n > 0) { c.size = n; c.kbps = Math.ceil((n * 8) / durationMs); }
    } catch { /* unreachable: the size stays unknown */ }
  }));
  return list;
}

// Throughput seen lately (downloads for offline use feed it too), if recent.
export function recentKbps() {
  try {
    const h = JSON.parse(localStorage.getItem(HISTORY) || 'null');
    return h && Date.now() - h.at < HISTORY_FRESH_MS ? h.kbps : null;
  } catch { return null; }
}

// Records one transfer; the history is a moving average that leans on the newest.
export function noteTransfer(bytes, ms) {
  if (bytes < 32 * 1024 || ms <= 0) return;
  const kbps = (bytes * 8) / ms;
  const old = recentKbps();
  const next = old ? old * 0.5 + kbps * 0.5 : kbps;
  localStorage.setItem(HISTORY, JSON.stringify({ kbps: Math.round(next), at: Date.now() }));
}

// Times the first bytes of `url` (a Range request, never from a cache). A transfer cut off by
// the time limit still counts what arrived. Resolves to kbit/s, or null when unreachable.
// A smaller probe (`bytes`, `ms`) checks the link while a lesson plays without starving it.
export async function measure(url, { bytes = PROBE_BYTES, ms: limit = PROBE_MS } = {}) {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), limit);
  const started = performance.now();
  let got = 0;
  try {
    // ?probe tells the service worker to let this through to the network even when the file
    // is kept (the server ignores the query).
    const res = await fetch(`${url}${url.includes('?') ? '&' : '?'}probe`, {
      headers: { Range: `bytes=0-${bytes - 1}` }, cache: 'no-store', signal: stop.signal,
    });
    if (!res.ok) return null;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.byteLength;
    }
  } catch (err) {
    if (err.name !== 'AbortError') return null;
  } finally {
    clearTimeout(timer);
  }
  const ms = Math.max(performance.now() - started, 1);
  const kbps = Math.round((got * 8) / ms);
  noteTransfer(got, ms);
  return kbps;
}

// The choice and why: {pick, reason, kbps, need}. `cached` is the set of downloaded URLs;
// `kbps` null means the link could not be measured: with the server away nothing else can
// play; with it there, the lightest picture is the safe start.
export function choose(list, kbps, cached, online = true) {
  const kept = list.filter((c) => cached.has(c.url));
  if (kept.length) return { pick: kept[0], reason: 'cached' };
  if (!list.length) return { pick: null, reason: 'none' };
  if (kbps == null && !online) return { pick: null, reason: 'offline' };
  if (kbps == null) return { pick: [...list].reverse().find((c) => c.video) || list[0], reason: 'unmeasured' };
  const fits = (c) => c.kbps != null && c.kbps <= kbps * HEADROOM;
  const video = list.filter((c) => c.video);
  const best = video.find(fits);
  if (best) return { pick: best, reason: 'measured', kbps, need: best.kbps };
  const audio = list.find((c) => !c.video);
  if (audio) return { pick: audio, reason: 'weak', kbps, need: audio.kbps };
  const lowest = video[video.length - 1];
  return { pick: lowest, reason: 'weak-video', kbps, need: lowest.kbps };
}
