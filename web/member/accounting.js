// What a member really watched, as watch reports that never claim more than happened.
//
// The player samples the media position while the media is advancing AND the page is visible;
// anything else (paused, stalled, seeking, hidden) stops the current segment. A segment is
// credited at most the wall time between its first and last sample, so a report's played time
// can never exceed its wall interval, whatever the playback rate. No DOM here: the clocks are
// injected, so the rules can be run in Node.

// A jump forward beyond the wall time since the last sample plus this much is a seek, not play.
const JUMP_SLACK_MS = 1500;

export class Accountant {
  constructor({ now = () => performance.now(), epoch = () => Date.now(), reportEveryMs = 15000 } = {}) {
    this.now = now;
    this.epoch = epoch;
    this.reportEveryMs = reportEveryMs;
    this.seg = null; // {from, to, at, last}: media ms, monotonic ms of the first and last sample
    this.report = null; // {perfStart, epochStart, played: [[from, to)]}
    this.position = 0; // last known media position, ms
    this.lastWallEnd = 0; // epoch ms where the previous report's wall interval ended
  }

  // The media is at `posMs`, advancing, on a visible page.
  sample(posMs) {
    const pos = Math.max(0, Math.round(posMs));
    const t = this.now();
    this.position = pos;
    const s = this.seg;
    if (s && pos >= s.to && pos - s.to <= t - s.last + JUMP_SLACK_MS) {
      s.to = pos;
      s.last = t;
      return;
    }
    if (s) this.stop();
    if (!this.report) {
      this.report = { perfStart: t, epochStart: Math.max(this.epoch(), this.lastWallEnd), played: [] };
    }
    this.seg = { from: pos, to: pos, at: t, last: t };
  }

  // The position changed without playing (a seek while paused): remembered for the resume point.
  moved(posMs) {
    this.position = Math.max(0, Math.round(posMs));
  }

  // The media stopped advancing or the page was hidden: the open segment ends at its last sample.
  stop() {
    const s = this.seg;
    this.seg = null;
    if (!s || !this.report) return;
    const to = Math.min(s.to, s.from + Math.floor(s.last - s.at));
    if (to > s.from) this.report.played.push([s.from, to]);
  }

  // True when the open report has run long enough to be sent.
  due() {
    return !!this.report && this.now() - this.report.perfStart >= this.reportEveryMs;
  }

  // Ends the open report and returns {played, wall, position_ms}, or null if nothing was played.
  // With `keepGoing`, accounting continues seamlessly into the next report from this moment.
  cut({ keepGoing = false } = {}) {
    const open = this.seg;
    this.stop();
    const r = this.report;
    this.report = null;
    // Going on, the report ends at the last sample, exactly where the next one begins.
    const t = keepGoing && open ? open.last : this.now();
    const end = r ? r.epochStart + Math.ceil(t - r.perfStart) : Math.max(this.epoch(), this.lastWallEnd);
    let out = null;
    if (r && r.played.length) {
      this.lastWallEnd = end;
      out = {
        played: r.played,
        wall: [new Date(r.epochStart).toISOString(), new Date(end).toISOString()],
        position_ms: this.position,
      };
    }
    if (keepGoing && open) {
      this.report = { perfStart: t, epochStart: Math.max(end, this.lastWallEnd), played: [] };
      this.seg = { from: open.to, to: open.to, at: t, last: t };
    }
    return out;
  }

  // Media ms played in the open report so far (closed segments and the open one).
  pendingMs() {
    if (!this.report) return 0;
    const closed = this.report.played.reduce((n, [a, b]) => n + b - a, 0);
    const s = this.seg;
    return closed + (s ? Math.min(s.to - s.from, Math.floor(s.last - s.at)) : 0);
  }
}

// Sum of played ms and the wall ms of a report, for checks and display.
export function playedMs(report) {
  return report.played.reduce((n, [a, b]) => n + b - a, 0);
}

export function wallMs(report) {
  return Date.parse(report.wall[1]) - Date.parse(report.wall[0]);
}
