// The player: a video (or its audio, or a text lesson) opened at the member's resume position,
// with watch reports every ~15 s of playing and on pause, seek, hiding and closing the page.
// Only time played while the page is visible counts; hiding the page pauses the lesson.
import { el, uuid } from '../shared/api.js';
import { formatClock } from '../shared/i18n.js';
import { Accountant, playedMs } from './accounting.js';
import { Attention } from './attention.js';
import { spoken } from './content.js';
import { renderText } from './text.js';

const QUALITY_KEY = 'yj.member.quality';
const TEXT_TICK_MS = 1000;
const visible = () => document.visibilityState === 'visible';

export class Player {
  constructor(ctx, section) {
    this.ctx = ctx;
    this.section = section;
    this.acct = new Accountant();
    this.play = null; // the open lesson's GET /play answer
    this.media = null;
    this.timer = null; // text lessons: the reading clock
    this.countedMs = 0; // played ms reported since the lesson was opened
    this.onVisibility = () => this.visibility();
    this.onPageHide = () => {
      if (this.media && !this.media.paused) this.catchUp();
      this.report({ closing: true });
    };
    document.addEventListener('visibilitychange', this.onVisibility);
    addEventListener('pagehide', this.onPageHide);
  }

  async open(id) {
    const { t, content } = this.ctx;
    this.close();
    this.opener = document.activeElement;
    this.section.hidden = false;
    this.section.replaceChildren(el('p', { class: 'muted', text: t('loading') }));
    this.section.scrollIntoView({ block: 'start' });
    let play;
    try {
      const lang = encodeURIComponent(this.ctx.lang);
      play = await content.get(`/api/v1/lessons/${encodeURIComponent(id)}/play?lang=${lang}`);
    } catch (e) {
      if (e.status === 401) return this.ctx.expired();
      this.section.replaceChildren(
        el('p', { class: 'bad', role: 'alert', text: this.ctx.describe(e) }),
        el('button', { type: 'button', text: t('close'), onclick: () => this.close() }));
      return;
    }
    this.play = play;
    this.countedMs = 0;
    this.acct = new Accountant();
    this.acct.lastWallEnd = this.lastWallEnd || 0;
    const title = el('h2', { id: 'player-title', lang: play.lang.served, dir: play.lang.dir, text: play.title });
    const head = el('div', { class: 'head' }, title,
      content.fallbackBadge(play.lang)
        || el('span', { class: 'badge', lang: play.lang.served, text: content.name(play.lang.served) }),
      el('button', { type: 'button', id: 'player-close', text: t('close'), onclick: () => this.close() }));
    this.status = el('p', { id: 'player-status', class: 'status', 'aria-live': 'polite' });
    this.counter = el('p', { id: 'player-counted', class: 'muted small' });
    this.section.replaceChildren(head);
    if (play.mime.startsWith('text/')) await this.openText(play);
    else this.openVideo(play);
    this.section.append(this.status, this.counter);
    this.attention = new Attention(this.ctx, play.attention, {
      hold: () => this.hold(),
      go: () => this.go(),
    });
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }

  // The files a member can choose from: the smallest rendition first (a weak link), the
  // original, and the sound alone.
  sources(play) {
    const files = play.files || {};
    const renditions = Object.keys(files)
      .map((k) => /^(\d+)p\.mp4$/.exec(k)).filter(Boolean)
      .sort((a, b) => a[1] - b[1]);
    const out = [];
    if (renditions[0]) out.push({ key: 'q_low', url: files[renditions[0][0]] });
    if (renditions[1]) out.push({ key: 'q_std', url: files[renditions[1][0]] });
    out.push({ key: 'q_orig', url: play.url });
    if (files['audio.m4a']) out.push({ key: 'q_audio', url: files['audio.m4a'] });
    return out;
  }

  openVideo(play) {
    const { t } = this.ctx;
    const sources = this.sources(play);
    const chosen = sources.find((s) => s.key === localStorage.getItem(QUALITY_KEY)) || sources[0];
    const video = el('video', {
      id: 'lesson-video', controls: true, playsinline: true, preload: 'metadata',
      poster: play.thumbnail, src: chosen.url, 'aria-labelledby': 'player-title',
    });
    this.media = video;
    const mine = (f) => (...a) => { if (this.media === video) f(...a); };
    const pos = () => video.currentTime * 1000;
    video.addEventListener('timeupdate', mine(() => this.tick(video)));
    video.addEventListener('playing', mine(() => this.tick(video)));
    // The media advanced up to the moment it paused or ended (if the page is still visible).
    const stopped = mine(() => {
      if (visible()) this.catchUp();
      this.report();
    });
    video.addEventListener('pause', stopped);
    video.addEventListener('ended', stopped);
    // currentTime is already the target here: the report ends at the last sample before it.
    video.addEventListener('seeking', mine(() => this.report()));
    video.addEventListener('seeked', mine(() => this.acct.moved(pos())));
    video.addEventListener('waiting', mine(() => this.acct.stop()));
    video.addEventListener('error', mine(() => this.note(t('media_error', { m: video.error?.message || video.error?.code || '' }), 'bad')));
    video.addEventListener('loadedmetadata', mine(() => this.startAt(video, play.resume_ms)), { once: true });

    const select = el('select', { id: 'quality' },
      ...sources.map((s) => new Option(t(s.key), s.key, false, s === chosen)));
    select.addEventListener('change', () => this.switchSource(video, sources.find((s) => s.key === select.value)));
    this.section.append(video,
      el('div', { class: 'row' }, el('label', { class: 'inline' }, el('span', { text: t('quality') }), select)));
    video.play().catch(() => {}); // refused without a recent tap: the member presses play
  }

  // Opens at the resume position unless the lesson was (nearly) finished.
  startAt(video, resumeMs) {
    const { t } = this.ctx;
    const total = video.duration * 1000 || this.play.duration_ms;
    if (!resumeMs || resumeMs >= total - 2000) return;
    video.currentTime = resumeMs / 1000;
    this.acct.moved(resumeMs);
    this.note(t('resume_from', { at: formatClock(resumeMs) }), '',
      el('button', { type: 'button', text: t('from_start'), onclick: () => { video.currentTime = 0; } }));
  }

  switchSource(video, source) {
    localStorage.setItem(QUALITY_KEY, source.key);
    const at = video.currentTime;
    const playing = !video.paused;
    this.report();
    video.addEventListener('loadedmetadata', () => {
      video.currentTime = at;
      if (playing) video.play().catch(() => {});
    }, { once: true });
    video.src = source.url;
  }

  // While the media advances on a visible page: account it, and send a report every ~15 s.
  tick(video) {
    if (video.paused || video.seeking || !visible()) return;
    this.acct.sample(video.currentTime * 1000);
    if (this.acct.due()) this.report({ keepGoing: true });
    this.showCounted();
  }

  async openText(play) {
    const { t } = this.ctx;
    const article = el('article', {
      id: 'lesson-text', class: 'text-lesson', lang: play.lang.served, dir: play.lang.dir,
      tabindex: 0, 'aria-labelledby': 'player-title',
    });
    if (play.lang.writing_mode?.startsWith('vertical')) {
      article.classList.add('vertical');
      article.style.writingMode = play.lang.writing_mode;
    }
    this.section.append(el('p', { class: 'muted small', text: t('reading_counts', { total: formatClock(play.duration_ms) }) }), article);
    try {
      const res = await fetch(play.url, { cache: 'no-cache' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      renderText(article, await res.text());
    } catch (e) {
      article.replaceChildren(el('p', { class: 'bad', role: 'alert', text: this.ctx.describe({ status: 0, message: e.message }) }));
      return;
    }
    if (this.play !== play) return; // closed while loading
    this.startReading(play);
  }

  // Reading time counts like playing: a clock that runs while the page is visible, up to the
  // lesson's length, from where the member stopped last time.
  startReading(play) {
    const total = play.duration_ms;
    let pos = play.resume_ms && play.resume_ms < total - 2000 ? play.resume_ms : 0;
    let last = performance.now();
    this.acct.moved(pos);
    this.timer = setInterval(() => {
      const now = performance.now();
      if (visible() && !this.held) {
        pos = Math.min(total, pos + (now - last));
        this.acct.sample(pos);
        if (this.acct.due()) this.report({ keepGoing: true });
        this.showCounted();
        if (pos >= total) {
          clearInterval(this.timer);
          this.report();
          this.note(this.ctx.t('reading_done'), 'ok');
        }
      }
      last = now;
    }, TEXT_TICK_MS);
  }

  // An attention check is asking: the lesson stops where it is (its report goes now). Returns
  // whether it was running.
  hold() {
    const m = this.media;
    if (m) {
      const running = !m.paused;
      if (running) m.pause(); // the pause handler sends the report
      return running;
    }
    const running = !!this.timer && !this.held;
    this.held = true;
    this.acct.stop();
    this.report();
    return running;
  }

  go() {
    this.held = false;
    if (this.media) this.media.play().catch(() => {});
  }

  // Ends the open report, stores it, and sends what is waiting. `closing`: the page is going
  // away, so the request must outlive it (fetch keepalive) and nothing can wait for an answer.
  report({ keepGoing = false, closing = false } = {}) {
    const part = this.acct.cut({ keepGoing });
    const play = this.play;
    if (part && play) {
      this.ctx.outbox.add({
        id: uuid(), member: this.ctx.member.id, lesson: play.lesson, lang: play.lang.served,
        played: part.played, wall: part.wall, position_ms: part.position_ms, group_session: null,
        // The evidence the report is credited on: the session issued when this play began,
        // which stays good for reports held offline and sent later.
        play_session: play.play_session ?? null,
        ...(this.attention?.answers.length ? { attention: this.attention.answers.slice() } : {}),
      });
      this.countedMs += playedMs(part);
      this.lastWallEnd = this.acct.lastWallEnd;
    }
    if (part || closing) this.ctx.outbox.send({ keepalive: closing });
    this.showCounted();
  }

  // The media played, on a visible page, up to this moment (it is pausing, or the page is
  // being hidden right now): the open segment runs to here.
  catchUp() {
    const m = this.media;
    if (m && this.acct.seg && !m.seeking) this.acct.sample(m.currentTime * 1000);
  }

  visibility() {
    if (!this.play) return;
    if (visible()) return; // accounting starts again with the next sample of advancing media
    if (this.media && !this.media.paused) this.catchUp();
    this.acct.stop();
    this.report();
    if (this.media && !this.media.paused) {
      this.media.pause();
      this.note(this.ctx.t('hidden_paused'), 'warn');
    }
  }

  showCounted() {
    if (!this.counter) return;
    const ms = this.countedMs + this.acct.pendingMs();
    this.counter.textContent = this.ctx.t('counted_now', { time: spoken(ms, this.ctx.t) });
  }

  note(text, kind = '', ...extra) {
    if (!this.status) return;
    this.status.className = `status ${kind}`;
    this.status.replaceChildren(text, ...extra.map((x) => [' ', x]).flat());
  }

  close() {
    const had = !!this.play;
    if (had) {
      this.acct.stop();
      this.report();
    }
    clearInterval(this.timer);
    this.timer = null;
    this.attention?.stop();
    this.attention = null;
    this.held = false;
    const media = this.media;
    this.play = null;
    this.media = null;
    if (media) {
      media.pause();
      media.removeAttribute('src');
      media.load(); // stops the download
    }
    this.section.hidden = true;
    this.section.replaceChildren();
    this.status = null;
    this.counter = null;
    if (had) this.ctx.study?.refreshSoon({ lessons: true });
    // Back to where the member was before the player took the focus.
    if (had && this.opener?.isConnected) this.opener.focus({ preventScroll: true });
    this.opener = null;
  }

  // Sign-out: close, and stop listening to the page.
  end() {
    this.close();
    document.removeEventListener('visibilitychange', this.onVisibility);
    removeEventListener('pagehide', this.onPageHide);
  }
}
