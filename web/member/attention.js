// Attention checks (防挂机): at the times the play session's checks name, counted from when the
// page got them, the lesson pauses and a dialog asks the member to confirm with one tap. The
// answers go with every later report of the session; play after a check left unanswered past
// its grace earns nothing on the server until it is answered.
import { el } from '../shared/api.js';

export class Attention {
  // plan: GET /play's `attention` ({grace_ms, checks: [{n, after_ms, code}]}), or null.
  // hold(): pauses the lesson, returning whether it was running; go(): runs it again.
  constructor(ctx, plan, { hold, go }) {
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
