//! Group commit: a request is answered only once its writes are on disk, and requests that
//! arrive while a flush runs share the next one, so one fsync acknowledges many reports.
//! Writers take a ticket after writing; one flusher at a time flushes everything ticketed so
//! far and repeats while tickets keep coming. HTTP handlers wait for their ticket without
//! holding a thread (a thread parked per waiting request cost more CPU in switches than the
//! ledger's own work); the command line and other blocking callers wait on a condvar.
//! A flush costs about the same for one report as for fifty, and on a fast disk it ends before
//! many new writers arrive; so while writers are arriving together, the flusher waits a moment
//! for more to join (measured: groups of ~3 became ~12, and single reports 4,200–5,500/s
//! became 6,100–6,900/s). A lone writer never waits.

use crate::services::Services;
use crate::store::{Store, StoreError};
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
    /// Tickets handed out: one per caller whose writes are in the store.
    issued: u64,
    flushed: Flushed,
    /// A flusher is at work; it will look at `issued` again before it stops.
    running: bool,
    /// Tickets the last flush covered: more than one means writers are arriving together.
    last_group: u64,
    /// Entries written under tickets not yet covered by a flush.
    waiting_entries: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Flushed {
    /// Every ticket up to this one is on disk.
    through: u64,
    /// Set when the last flush failed, for the callers it covered.
    failed_through: u64,
}

impl Flushed {
    fn outcome(self, ticket: u64) -> Option<Result<(), StoreError>> {
        (self.through >= ticket).then(|| {
            if self.failed_through >= ticket {
                Err(StoreError::Corrupt {
                    tree: "ledger",
                    reason: "the flush to disk failed".into(),
                })
            } else {
                Ok(())
            }
        })
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

/// A caller's place in the flush order, taken after its writes are in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl GroupFlush {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A ticket for a caller that wrote `entries` ledger entries (a batch counts as many).
    pub fn ticket(&self, entries: usize) -> Ticket {
        let mut state = self.lock();
        state.issued += 1;
        state.waiting_entries += entries as u64;
        Ticket(state.issued)
    }

    /// Returns once everything this thread wrote before calling is on disk.
    pub fn durable(&self, store: &Store) -> Result<(), StoreError> {
        let ticket = self.ticket(1);
        self.wait_blocking(ticket, store)
    }

    pub fn wait_blocking(&self, Ticket(ticket): Ticket, store: &Store) -> Result<(), StoreError> {
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
                self.run(store);
                state = self.lock();
            }
        }
    }

    /// Flushes until every ticket issued is covered, then stops. Called with `running` set.
    fn run(&self, store: &Store) {
        loop {
            let gather = {
                let state = self.lock();
                state.last_group > 1 && state.waiting_entries < GATHER_ENOUGH
            };
            if gather {
                std::thread::sleep(GATHER);
            }
            let covers = {
                let mut state = self.lock();
                state.waiting_entries = 0;
                state.issued
            };
            let result = store.flush();
            let mut state = self.lock();
            state.last_group = covers - state.flushed.through;
            state.flushed.through = covers;
            if result.is_err() {
                state.flushed.failed_through = covers;
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
pub async fn wait(services: Arc<Services>, ticket: Ticket) -> Result<(), StoreError> {
    let flush = &services.ledger.flush;
    let mut flushed = flush.flushed.subscribe();
    let start = {
        let mut state = flush.lock();
        let start = !state.running && state.flushed.outcome(ticket.0).is_none();
        state.running |= start;
        start
    };
    if start {
        let services = services.clone();
        tokio::task::spawn_blocking(move || services.ledger.flush.run(&services.store));
    }
    let seen = flushed
        .wait_for(|f| f.through >= ticket.0)
        .await
        .map(|f| *f)
        // The sender lives as long as the ledger: this only happens while shutting down.
        .map_err(|_| StoreError::Corrupt {
            tree: "ledger",
            reason: "the ledger closed before the flush".into(),
        })?;
    seen.outcome(ticket.0).unwrap_or(Ok(()))
}
