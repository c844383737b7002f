//! Group commit: a request is answered only once its writes are on disk, and requests that
//! arrive while a flush runs share the next one, so one fsync acknowledges many reports.
//! Writers hand their writes over with their ticket; one flusher at a time applies everything
//! handed over so far to the store in one batch, flushes, and repeats while tickets keep
//! coming. Applying a group at once matters as much as flushing it at once: each sled batch
//! writes its log twice (before and after), and with a batch per request those writes cost
//! two thirds of a single report's CPU (measured: 230 us a report, 80 us with one batch per
//! group). HTTP handlers wait for their ticket without holding a thread (a thread parked per
//! waiting request cost more CPU in switches than the ledger's own work); the command line and
//! other blocking callers wait on a condvar.
//! A flush costs about the same for one report as for fifty, and on a fast disk it ends before
//! many new writers arrive; so while writers are arriving together, the flusher waits a moment
//! for more to join (measured: groups of ~3 became ~12, and single reports 4,200–5,500/s
//! became 6,100–6,900/s). A lone writer never waits.

use super::LedgerHost;
use super::Slot;
use crate::repo::{LedgerWrite, StoreError};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

pub struct GroupFlush {
    state: Mutex<State>,
    done: Condvar,
    /// What is on disk, for async waiters.
    flushed: watch::Sender<Flushed>,
}

#[derive(Default)]
struct State {
    /// Tickets handed out: one per caller, with or without writes.
    issued: u64,
    flushed: Flushed,
    /// A flusher is at work; it will look at `issued` again before it stops.
    running: bool,
    /// Tickets the last flush covered: more than one means writers are arriving together.
    last_group: u64,
    /// Entries written under tickets not yet covered by a flush.
    waiting_entries: u64,
    /// Writes handed over with their tickets, in ticket order, not yet applied.
    queue: Vec<Handover>,
}

/// One caller's writes, waiting for the flusher.
pub(crate) struct Handover {
    pub write: LedgerWrite,
    /// Report ids to let go of once the write is in the store (until then they are pending).
    pub release: Vec<String>,
    /// The members whose states made the write, kept in memory until it is applied (a state
    /// read back from the store before then would miss it), and dropped if it is stale.
    pub hold: Vec<Slot>,
    /// The oldest ledger epoch of those states: a write made from states read before a
    /// failed flush is not applied.
    pub epoch: u64,
}

/// Tries of a batch whose members another process wrote first, each from a fresh read.
pub const STALE_TRIES: u32 = 8;

/// How long to wait before try `tries + 1`: growing and random, so processes that collided
/// do not collide again in step.
pub fn stale_pause(tries: u32) -> std::time::Duration {
    std::time::Duration::from_millis(rand::random_range(1..=5 * u64::from(tries)))
}

/// Failed groups remembered for callers that look late; a caller is woken as its group ends,
/// so it looks within a few groups.
const FAILURES_KEPT: usize = 32;

#[derive(Debug, Clone, Copy)]
struct Failure {
    /// The tickets of the group, `from..=through`.
    from: u64,
    through: u64,
    /// Another process wrote one of its members first (or stored one of its ids): its callers
    /// may credit again from a fresh read.
    stale: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Flushed {
    /// Every ticket up to this one is written (or failed).
    through: u64,
    /// The last failed groups, newest at `next - 1` (a ring).
    failures: [Option<Failure>; FAILURES_KEPT],
    next: usize,
}

impl Flushed {
    fn outcome(self, ticket: u64) -> Option<Result<(), StoreError>> {
        (self.through >= ticket).then(|| {
            let failed = self
                .failures
                .iter()
                .flatten()
                .find(|f| (f.from..=f.through).contains(&ticket));
            match failed {
                None => Ok(()),
                Some(f) if f.stale => Err(StoreError::Stale(
                    "another process wrote these members first",
                )),
                Some(_) => Err(StoreError::NotDurable(
                    "the ledger's flush to disk failed".into(),
                )),
            }
        })
    }

    fn failed(&mut self, from: u64, through: u64, stale: bool) {
        self.failures[self.next] = Some(Failure {
            from,
            through,
            stale,
        });
        self.next = (self.next + 1) % FAILURES_KEPT;
    }
}

impl Default for GroupFlush {
    fn default() -> Self {
        GroupFlush {
            state: Mutex::default(),
            done: Condvar::new(),
            flushed: watch::channel(Flushed::default()).0,
        }
    }
}

/// How long a flush waits for more writers to join, and how many entries waiting make it
/// pointless (a station's batch is enough on its own).
const GATHER: Duration = Duration::from_millis(1);
const GATHER_ENOUGH: u64 = 32;

/// A caller's place in the flush order, taken as its writes are handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl GroupFlush {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A ticket for a caller that wrote nothing: it waits for the writes handed over before
    /// (a duplicate's original may be among them).
    pub fn ticket(&self) -> Ticket {
        let mut state = self.lock();
        state.issued += 1;
        Ticket(state.issued)
    }

    /// Hands writes over to be applied and flushed; the ticket is for waiting on them. The
    /// caller still holds the members' locks, so writes are applied in the order their
    /// states changed.
    pub(crate) fn hand_over(&self, handover: Handover) -> Ticket {
        let mut state = self.lock();
        state.issued += 1;
        state.waiting_entries += handover.write.entries.len().max(1) as u64;
        state.queue.push(handover);
        Ticket(state.issued)
    }

    pub fn wait_blocking(
        &self,
        Ticket(ticket): Ticket,
        services: &impl LedgerHost,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        loop {
            if let Some(outcome) = state.flushed.outcome(ticket) {
                return outcome;
            }
            if state.running {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            } else {
                state.running = true;
                drop(state);
                self.run(services);
                state = self.lock();
            }
        }
    }

    /// Applies and flushes until every ticket issued is covered, then stops. Called with
    /// `running` set.
    fn run(&self, services: &impl LedgerHost) {
        loop {
            let gather = {
                let state = self.lock();
                state.last_group > 1 && state.waiting_entries < GATHER_ENOUGH
            };
            if gather {
                std::thread::sleep(GATHER);
            }
            let (covers, group) = {
                let mut state = self.lock();
                state.waiting_entries = 0;
                (state.issued, std::mem::take(&mut state.queue))
            };
            let result = apply(services, &group).and_then(|()| services.infra().store.flush());
            // Another process wrote one of these members first: only the members of this group
            // hold plays the store does not, and are read afresh, before their ids are let go
            // for a retry. (A write built on them meanwhile names a head that never landed, and
            // is refused in turn.)
            if let Err(StoreError::Stale(_)) = &result {
                forget(&group);
            }
            let release: Vec<String> = group.into_iter().flat_map(|h| h.release).collect();
            services.ledger().release(&release);
            if matches!(&result, Err(e) if !matches!(e, StoreError::Stale(_))) {
                // Memory may hold plays the store does not: every member is read afresh.
                services.ledger().epoch.fetch_add(1, Ordering::SeqCst);
            }
            let mut state = self.lock();
            let from = state.flushed.through + 1;
            state.last_group = covers - state.flushed.through;
            state.flushed.through = covers;
            if let Err(e) = &result {
                let stale = matches!(e, StoreError::Stale(_));
                state.flushed.failed(from, covers, stale);
            }
            let flushed = state.flushed;
            let caught_up = state.issued == covers;
            if caught_up {
                state.running = false;
            }
            drop(state);
            self.done.notify_all();
            self.flushed.send_replace(flushed);
            if caught_up {
                return;
            }
        }
    }
}

/// Waits, without holding a thread, until `ticket` is on disk; starts a flusher on the
/// blocking pool when none is at work.
pub async fn wait(services: Arc<impl LedgerHost>, ticket: Ticket) -> Result<(), StoreError> {
    let flush = &services.ledger().flush;
    let mut flushed = flush.flushed.subscribe();
    let start = {
        let mut state = flush.lock();
        let start = !state.running && state.flushed.outcome(ticket.0).is_none();
        state.running |= start;
        start
    };
    if start {
        let services = services.clone();
        tokio::task::spawn_blocking(move || services.ledger().flush.run(&services));
    }
    let seen = flushed
        .wait_for(|f| f.through >= ticket.0)
        .await
        .map(|f| *f)
        // The sender lives as long as the ledger: this only happens while shutting down.
        .map_err(|_| StoreError::Closed("the ledger closed before the flush"))?;
    seen.outcome(ticket.0).unwrap_or(Ok(()))
}

/// Drops the members' states a failed group was made from, so they are read again.
fn forget(group: &[Handover]) {
    for slot in group.iter().flat_map(|h| &h.hold) {
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Applies a group's writes in one batch, unless one was made from states a failed flush made
/// stale (then none: the callers are told the write failed, and retry).
fn apply(services: &impl LedgerHost, group: &[Handover]) -> Result<(), StoreError> {
    let epoch = services.ledger().epoch.load(Ordering::SeqCst);
    if group.iter().any(|h| h.epoch < epoch) {
        return Err(StoreError::Stale(
            "written from a member's state read before a failed flush",
        ));
    }
    let writes: Vec<&LedgerWrite> = group.iter().map(|h| &h.write).collect();
    if writes.is_empty() {
        return Ok(());
    }
    services.infra().store.apply_ledger_writes(&writes)
}
