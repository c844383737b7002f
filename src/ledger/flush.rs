//! Group commit: a request is answered only once its writes are on disk, and requests that
//! arrive while a flush runs share the next one, so one fsync acknowledges many reports.

use crate::store::{Store, StoreError};
use std::sync::{Condvar, Mutex, PoisonError};

#[derive(Default)]
pub struct GroupFlush {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    /// Tickets handed out: one per caller whose writes are in the store.
    issued: u64,
    /// Every ticket up to this one is on disk.
    durable: u64,
    running: bool,
    /// Set when the last flush failed, for the callers it covered.
    failed_through: u64,
}

impl GroupFlush {
    /// Returns once everything this thread wrote before calling is on disk.
    pub fn durable(&self, store: &Store) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.issued += 1;
        let ticket = state.issued;
        loop {
            if state.durable >= ticket {
                return if state.failed_through >= ticket {
                    Err(StoreError::Corrupt {
                        tree: "ledger",
                        reason: "the flush to disk failed".into(),
                    })
                } else {
                    Ok(())
                };
            }
            if state.running {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // This flush covers every ticket issued so far: their writes came before it.
            state.running = true;
            let covers = state.issued;
            drop(state);
            let result = store.flush();
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.running = false;
            state.durable = covers;
            if result.is_err() {
                state.failed_through = covers;
            }
            self.done.notify_all();
            result?;
        }
    }
}
