// Attention checks (防挂机): at the times the play session's checks name, counted from when the
// page got them, the lesson pauses and a dialog asks the member to confirm with one tap. The
// answers go with every later report of the session; play after a check left unanswered past
// its grace earns nothing on the server until it is answered.
import { el } from '../shared/api.js';
import { Sha256 } from '../shared/sha256.js';

export class Attention {
  // plan: GET /play's `attention` ({grace_ms, checks: [{n, after_ms, code}]}), or null.
  // hold(): pauses the lesson, returning whether it was running; go(): runs it again;
  // answered(n): the highest check just answered.
  constructor(ctx, plan, { hold, go, answered = () => {} }) {
    this.answeredCb = answered;
    this.ctx = ctx;
    this.answers = []; // [n, code, ISO time], as reports carry them
    this.due = [];
    this.timers = [];
    this.dialog = null;
    this.hold = hold;
    this.go = go;
    const start = Date.now();
    for (const check of plan?.checks || []) {
      this.timers.push(setTimeout(() => this.ask(check), Math.max(0, start + check.after_ms - Date.now())));
    }
  }

  ask(check) {
    this.due.push(check);
    if (this.dialog) return; // one tap answers every check that is waiting
    this.wasRunning = this.hold();
    const { t, lang, dir } = this.ctx;
    const button = el('button', { type: 'button', id: 'attention-confirm', class: 'primary', text: t('attention_confirm') });
    const dialog = el('dialog', {
      id: 'attention', role: 'alertdialog', lang, dir,
      'aria-labelledby': 'attention-title', 'aria-describedby': 'attention-text',
    },
    el('h2', { id: 'attention-title', text: t('attention_title') }),
    el('p', { id: 'attention-text', text: t('attention_text') }),
    button);
    // Escape would close the dialog without an answer: the question stays until it is answered.
    dialog.addEventListener('cancel', (event) => event.preventDefault());
    button.addEventListener('click', () => this.answer());
    document.body.append(dialog);
    this.dialog = dialog;
    dialog.showModal();
    button.focus();
  }

  answer() {
    const at = new Date().toISOString();
    for (const check of this.due) this.answers.push([check.n, check.code, at]);
    this.answeredCb(Math.max(...this.due.map((c) => c.n)));
    this.due = [];
    this.dialog?.close();
    this.dialog?.remove();
    this.dialog = null;
    if (this.wasRunning) this.go();
  }

  stop() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.dialog?.close();
    this.dialog?.remove();
    this.dialog = null;
  }
}

// An offline grant's checks (its `attention`: {grace_ms, min_ms, max_ms, issued_ms, seed}) as a
// plan for the Attention above, from now: the check that fell due last while nothing played,
// asked at once unless it was answered (`answered` is the highest check number answered), and
// those due in the next six hours. Drawn as the server draws them: check n comes
// min_ms + (first 8 bytes of SHA-256(seed ‖ n) mod (max_ms - min_ms + 1)) after the one before,
// its code the next 3 bytes in hex. `offsetMs` is the server's clock less this phone's.
export function offlinePlan(grant, offsetMs, answered = 0) {
  if (!grant) return null;
  const seed = Uint8Array.from(grant.seed.match(/../g), (h) => parseInt(h, 16));
  const span = BigInt(Math.max(0, grant.max_ms - grant.min_ms) + 1);
  const now = Date.now() + offsetMs; // by the server's clock
  const horizon = now + 6 * 3600 * 1000;
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  const checks = [];
  let last = null;
  let due = grant.issued_ms;
  for (let n = 1; ; n++) {
    new DataView(input.buffer).setUint32(seed.length, n);
    const digest = new Sha256().update(input).hex();
    due += Math.max(grant.min_ms, 1) + Number(BigInt(`0x${digest.slice(0, 16)}`) % span);
    if (due > horizon) break;
    const check = { n, code: digest.slice(16, 22), after_ms: due - now };
    if (due <= now) last = check;
    else checks.push(check);
  }
  if (last && last.n > answered) checks.unshift({ ...last, after_ms: 0 });
  return { grace_ms: grant.grace_ms, checks };
}
