// The outbox: every operation the station sends to the ledger (open a group session, check
// members in and out, end it with its playback) is first written to IndexedDB,
// then sent strictly in order, one at a time. An operation leaves the outbox only when the
// server has answered it; a lost answer means it is sent again, so each kind must be safe to
// repeat — see `repeatDone` below. While the server cannot be reached, delivery is retried with
// a growing pause (and at once when the browser says it is online again).
import { api, ApiError } from '/ui/shared/api.js';
import * as db from './store.js';

const MIN_PAUSE = 1000;
const MAX_PAUSE = 15000;

const listeners = new Set();
const deliveries = new Set();
let running = null;
let pause = MIN_PAUSE;
let timer = null;
let lastError = null;

// Answers that mean "this was already done by an earlier send whose answer was lost".
// - open: the session id is ours (a uuid), so `exists` can only be our own earlier open;
// - end: `ended` can only be our own earlier end (ending is what sets the playback).
// Attendance needs no entry: a repeated check-in or check-out at the same instant changes
// nothing on the server (a second check-in while present, or a check-out while absent, is
// ignored) — a repeat comes right after its original, since nothing behind it is sent first.
function repeatDone(op, err) {
  return err.status === 409
    && ((op.kind === 'open' && err.code === 'exists') || (op.kind === 'end' && err.code === 'ended'));
}

// Refused for good: sending again would get the same answer, so keeping it at the head would
// block everything behind it. It is kept in `refused` with the server's message, never dropped.
function refusedForGood(err) {
  return err.status >= 400 && err.status < 500
    && ![401, 403, 408, 425, 429].includes(err.status);
}

// fn({waiting, refused, error, sending}) whenever the outbox changes.
export function onChange(fn) { listeners.add(fn); }

// fn(op, answer) when an operation has been delivered (answer null for a repeat).
export function onDelivered(fn) { deliveries.add(fn); }

async function notify(extra = {}) {
  const [waiting, refused] = await Promise.all([db.count('outbox'), db.entries('refused')]);
  const state = { waiting, refused: refused.map(([, v]) => v), error: lastError, sending: !!running, ...extra };
  for (const fn of listeners) fn(state);
}

// Queues one operation and starts delivery. `op` = {kind, path, body, token}; the body gets a
// fresh `device_clock` at each send when `clock` is set, so the server corrects this PC's
// clock by what it reads now, not when the operation was queued.
// Resolves once the operation is on disk; delivery goes on in the background.
export async function enqueue(op) {
  await db.put('outbox', { ...op, queued: new Date().toISOString(), tries: 0 });
  await notify();
  flush();
}

const bodyToSend = (op) => (op.clock ? { ...op.body, device_clock: new Date().toISOString() } : op.body);

async function sendOne(key, op) {
  try {
    const answer = await api(op.path, { method: 'POST', body: bodyToSend(op), token: op.token });
    await db.del('outbox', key);
    return { delivered: true, answer };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (repeatDone(op, err)) {
      await db.del('outbox', key);
      return { delivered: true, answer: null };
    }
    if (refusedForGood(err)) {
      await db.tx(['outbox', 'refused'], 'readwrite', (s) => {
        s.outbox.delete(key);
        s.refused.add({ ...op, status: err.status, code: err.code, message: err.message, at: new Date().toISOString() });
      });
      return { delivered: false, refused: err };
    }
    await db.put('outbox', { ...op, tries: (op.tries || 0) + 1 }, key);
    throw err;
  }
}

// Sends everything waiting, in order; resolves when the outbox is empty or delivery stopped
// on an error (then a retry is scheduled). Concurrent calls share one run.
export function flush() {
  if (running) return running;
  clearTimeout(timer);
  running = (async () => {
    try {
      for (;;) {
        const head = await db.first('outbox');
        if (!head) break;
        const [key, op] = head;
        notify();
        const result = await sendOne(key, op);
        lastError = null;
        if (result.delivered) for (const fn of deliveries) fn(op, result.answer);
      }
      pause = MIN_PAUSE;
    } catch (err) {
      lastError = err;
      timer = setTimeout(() => flush(), pause);
      pause = Math.min(pause * 2, MAX_PAUSE);
    } finally {
      running = null;
      await notify();
    }
  })();
  return running;
}

export const waiting = () => db.count('outbox');

// A refused operation, once the operator has read why, can be sent again (e.g. after the
// member was added on the server) or kept on record here.
export async function retryRefused() {
  const refused = await db.entries('refused');
  await db.tx(['outbox', 'refused'], 'readwrite', (s) => {
    for (const [key, op] of refused) {
      s.refused.delete(key);
      const { status, code, message, at, ...again } = op;
      s.outbox.add(again);
    }
  });
  await notify();
  return flush();
}

addEventListener('online', () => { pause = MIN_PAUSE; flush(); });
