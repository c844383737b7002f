// The player: a video (or its audio, or a text lesson) opened at the member's resume position,
// with watch reports every ~15 s of playing and on pause, seek, hiding and closing the page.
// Only time played while the page is visible counts; hiding the page pauses the lesson. A
// lesson kept on this phone plays from storage, its reports naming its offline grant.
import { el, uuid } from '../shared/api.js';
import { formatClock } from '../shared/i18n.js';
import { Accountant, playedMs } from './accounting.js';
import { Adaptive, QUALITY_KEY, dataSaver, firstChoice, ladder } from './adapt.js';
import { Attention, offlinePlan } from './attention.js';
import { spoken } from './content.js';
import * as keep from './keep.js';
import { megabytes, renditionLabel } from './kept.js';
import { renderText } from './text.js';

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
    const kept = await keep.get(this.ctx.member.id, id).catch(() => null);
    const usable = kept?.done && Date.parse(kept.expires) > Date.now();
    let play;
    if (usable) {
      play = this.fromStorage(kept);
    } else {
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
    if (play.kept) this.section.append(el('p', { id: 'player-kept', class: 'ok small', text: t('playing_kept', { date: play.kept.expires.slice(0, 10) }) }));
    if (play.mime.startsWith('text/')) await this.openText(play);
    else await this.openVideo(play);
    if (this.play !== play) return; // closed meanwhile
    this.section.append(this.status, this.counter);
    const plan = play.kept
      ? offlinePlan(play.kept.attention, play.kept.clock_offset_ms, play.kept.answered)
      : play.attention;
    this.attention = new Attention(this.ctx, plan, {
      hold: () => this.hold(),
      go: () => this.go(),
      answered: (n) => this.answered(n),
    });
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }

  // A kept lesson as a GET /play answer: its reports name the grant, not a session.
  fromStorage(kept) {
    return {
      lesson: kept.lesson, title: kept.title, lang: kept.lang, kind: kept.kind,
      duration_ms: kept.duration_ms, mime: kept.file.mime || 'video/mp4', url: null,
      resume_ms: kept.position_ms, grant: kept.grant, play_session: null, kept,
    };
  }

  // A kept lesson remembers the highest check answered and where the member stopped.
  answered(n) {
    const kept = this.play?.kept;
    if (kept && n > (kept.answered || 0)) {
      kept.answered = n;
      keep.update(kept, { answered: n }).catch(() => {});
    }
  }

  async openVideo(play) {
    const { t } = this.ctx;
    const saver = dataSaver();
    const video = el('video', {
      id: 'lesson-video', controls: true, playsinline: true, preload: saver ? 'none' : 'metadata',
      poster: saver ? null : play.thumbnail, 'aria-labelledby': 'player-title',
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
    if (play.kept) {
      this.objectUrl = URL.createObjectURL(play.kept.blob);
      video.src = this.objectUrl;
      video.dataset.rendition = play.kept.file.name;
      this.section.append(video);
      if (!saver) video.play().catch(() => {});
      return;
    }
    const list = ladder(play);
    this.section.append(el('p', { id: 'sizes', class: 'muted small', text: this.sizes(list) }), video);
    const choice = await firstChoice(list, saver);
    if (this.media !== video) return;
    this.rendition(video, choice.pick);
    this.explain(choice);
    const select = el('select', { id: 'quality' },
      new Option(t('q_auto'), 'auto', false, choice.reason !== 'forced'),
      ...list.map((c) => new Option(renditionLabel(t, c), c.name, false, choice.reason === 'forced' && c === choice.pick)));
    select.addEventListener('change', () => {
      localStorage.setItem(QUALITY_KEY, select.value);
      this.adaptive?.stop();
      this.adaptive = null;
      const picked = list.find((c) => c.name === select.value);
      if (picked) this.switchSource(video, picked);
      else this.automatic(video, list, this.current);
    });
    const download = el('button', { type: 'button', id: 'keep-lesson', onclick: () => this.ctx.kept?.download(play.lesson, this.current?.name) });
    this.section.append(el('div', { class: 'row' },
      el('label', { class: 'inline' }, el('span', { text: t('quality') }), select), download));
    this.downloadButton = download;
    this.showDownload();
    if (choice.reason !== 'forced') this.automatic(video, list, choice.pick);
    if (!saver) video.play().catch(() => {}); // refused without a recent tap: the member presses play
  }

  // "sound only: 5.4 MB; 240p: 40 MB", lightest first.
  sizes(list) {
    const { t } = this.ctx;
    const known = [...list].reverse().filter((c) => c.size);
    return t('sizes', { list: known.map((c) => `${renditionLabel(t, c, false)}: ${megabytes(c.size)}`).join(t('list_sep')) });
  }

  explain(choice) {
    const { t } = this.ctx;
    const r = choice.pick ? renditionLabel(t, choice.pick, false) : '';
    const text = {
      forced: t('q_forced', { r }), saver: t('q_saver', { r }),
      measured: t('q_measured', { r, kbps: choice.kbps }), weak: t('q_weak', { r, kbps: choice.kbps }),
    }[choice.reason] || t('q_started', { r });
    this.note(text, choice.reason === 'weak' ? 'warn' : '');
  }

  showDownload() {
    const b = this.downloadButton;
    if (!b || !this.current) return;
    const size = this.current.size ? ` · ${megabytes(this.current.size)}` : '';
    b.textContent = `${this.ctx.t('keep_this')} (${renditionLabel(this.ctx.t, this.current, false)}${size})`;
  }

  rendition(video, c) {
    this.current = c;
    video.dataset.rendition = c.name;
    video.src = c.url;
    this.showDownload();
  }

  automatic(video, list, current) {
    this.adaptive = new Adaptive(video, list, current, (to, direction) => {
      this.switchSource(video, to);
      this.note(this.ctx.t(direction === 'down' ? 'q_went_down' : 'q_went_up', { r: renditionLabel(this.ctx.t, to, false) }), direction === 'down' ? 'warn' : 'ok');
    });
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

  // Another file at the same position, playing on if it was: the reports continue in media time.
  switchSource(video, source) {
    const playing = !video.paused;
    // Before the first file's metadata the resume position is still to be applied (startAt).
    if (video.readyState < 1) {
      this.rendition(video, source);
      if (playing) video.play().catch(() => {});
      return;
    }
    const at = video.currentTime;
    if (playing) this.catchUp();
    this.report();
    video.addEventListener('loadedmetadata', () => {
      video.currentTime = at;
      if (playing) video.play().catch(() => {});
    }, { once: true });
    this.rendition(video, source);
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
      let text;
      if (play.kept) {
        text = await play.kept.blob.text();
      } else {
        const res = await fetch(play.url, { cache: 'no-cache' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        text = await res.text();
      }
      renderText(article, text);
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
        ...(play.grant ? { grant: play.grant } : {}),
        ...(this.attention?.answers.length ? { attention: this.attention.answers.slice() } : {}),
      });
      this.countedMs += playedMs(part);
      this.lastWallEnd = this.acct.lastWallEnd;
      if (play.kept) keep.update(play.kept, { position_ms: part.position_ms }).catch(() => {});
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
    this.adaptive?.stop();
    this.adaptive = null;
    this.current = null;
    this.downloadButton = null;
    this.held = false;
    const media = this.media;
    this.play = null;
    this.media = null;
    if (media) {
      media.pause();
      media.removeAttribute('src');
      media.load(); // stops the download
    }
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
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
