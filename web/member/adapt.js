// Playback that adapts by itself: the member page picks the file a lesson starts with (the
// member's forced choice, sound only under the data saver, else the best rendition a timed
// Range request of the lesson's own media says the link sustains), then, while playing, steps
// down a rung on stalls and up when a small probe says the link has recovered. A switch keeps
// the position; the player's reports go on in media time as before.
import { candidates, choose, measure } from '../shared/rendition.js';

export const QUALITY_KEY = 'yj.member.quality'; // 'auto' or a rendition name, per device
const SAVER_KEY = 'yj.member.saver';
// A stall this long, or two within STALL_WINDOW_MS, means the link no longer carries the file.
const STALL_MS = 2500;
const STALL_WINDOW_MS = 20000;
// How often to ask whether the next rung up would fit, and the buffer it needs first (so the
// probe never starves the play): a 64 KB probe cut off after 3 s.
const UP_EVERY_MS = 12000;
const UP_AHEAD_S = 8;
const UP_PROBE = { bytes: 64 * 1024, ms: 3000 };
const HEADROOM = 0.8;
const SWITCH_QUIET_MS = 8000;

// The data saver: on or off as the member set it; else on when the browser says the member
// saves data or the connection is slow.
export function dataSaver() {
  const set = localStorage.getItem(SAVER_KEY);
  if (set) return set === 'on';
  const c = navigator.connection;
  return !!(c && (c.saveData || /(^|-)2g$/.test(c.effectiveType || '')));
}
export const setDataSaver = (on) => localStorage.setItem(SAVER_KEY, on ? 'on' : 'off');

// GET /play's files and sizes as the candidates, best first (video by height, then sound).
export function ladder(play) {
  const files = { '': { url: play.url, size: play.size, mime: play.mime } };
  for (const [path, url] of Object.entries(play.files || {})) {
    files[path] = { url, size: play.sizes?.[path], mime: path.endsWith('.m4a') ? 'audio/mp4' : 'video/mp4' };
  }
  return candidates(files, play.duration_ms);
}

// {pick, reason, kbps}: what to start with. reason: 'forced', 'saver', or rendition.js's.
export async function firstChoice(list, saver) {
  const forced = localStorage.getItem(QUALITY_KEY);
  const chosen = list.find((c) => c.name === forced);
  if (chosen) return { pick: chosen, reason: 'forced' };
  const audio = list.find((c) => !c.video);
  if (saver) return { pick: audio || list[list.length - 1], reason: 'saver' };
  // The lightest file is measured: at worst it is what plays.
  const lightest = list[list.length - 1];
  const kbps = lightest ? await measure(lightest.url) : null;
  return choose(list, kbps, new Set());
}

// Watches a playing video in automatic mode and calls switchTo(candidate) when it should move.
export class Adaptive {
  constructor(video, list, current, switchTo) {
    this.video = video;
    this.list = list;
    this.current = current;
    this.switchTo = switchTo;
    this.stalls = [];
    this.stallTimer = null;
    this.probing = false;
    this.quietUntil = 0;
    this.onWaiting = () => this.waiting();
    this.onPlaying = () => clearTimeout(this.stallTimer);
    video.addEventListener('waiting', this.onWaiting);
    video.addEventListener('playing', this.onPlaying);
    this.upTimer = setInterval(() => this.maybeUp(), UP_EVERY_MS);
  }

  index() { return this.list.indexOf(this.current); }

  waiting() {
    const now = performance.now();
    if (now < this.quietUntil) return; // the new file loading after a switch is no stall
    this.stalls = this.stalls.filter((t) => now - t < STALL_WINDOW_MS);
    this.stalls.push(now);
    if (this.stalls.length >= 2) return this.down('stalls');
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.down('stall'), STALL_MS);
  }

  down(why) {
    clearTimeout(this.stallTimer);
    const lower = this.list[this.index() + 1];
    this.stalls = [];
    if (lower) this.move(lower, 'down', why);
  }

  async maybeUp() {
    const v = this.video;
    const higher = this.list[this.index() - 1];
    if (!higher || this.probing || v.paused || higher.kbps == null) return;
    const end = v.buffered.length ? v.buffered.end(v.buffered.length - 1) : 0;
    const whole = v.duration && end >= v.duration - 0.5;
    if (!whole && end - v.currentTime < UP_AHEAD_S) return;
    this.probing = true;
    try {
      const kbps = await measure(higher.url, UP_PROBE);
      if (kbps != null && higher.kbps <= kbps * HEADROOM && this.list[this.index() - 1] === higher) {
        this.move(higher, 'up', kbps);
      }
    } finally {
      this.probing = false;
    }
  }

  move(to, direction, why) {
    this.current = to;
    this.quietUntil = performance.now() + SWITCH_QUIET_MS;
    this.switchTo(to, direction, why);
  }

  stop() {
    clearTimeout(this.stallTimer);
    clearInterval(this.upTimer);
    this.video.removeEventListener('waiting', this.onWaiting);
    this.video.removeEventListener('playing', this.onPlaying);
  }
}
