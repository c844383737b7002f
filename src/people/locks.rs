//! The locks people changes are made under: a read, a decision and a write of one member or
//! station happen while no other change to it can, so none is undone by a stale writer.
//! Ids share a fixed set of stripes (no map that grows with the ids tried); a caller holding
//! several takes them in one call, in stripe order, so two callers never wait on each other.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// 256 stripes: a sign-in holds its stripe for one Argon2 check (~11 ms), and with at most a
/// few checks at once two unrelated ids rarely meet on one.
const STRIPES: usize = 256;

pub struct Locks {
    stripes: Vec<Mutex<()>>,
    orgs: Mutex<()>,
    hasher: std::collections::hash_map::RandomState,
}

/// Held stripes; the change they guard is done when this is dropped.
pub struct Held<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl Default for Locks {
    fn default() -> Self {
        Locks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            orgs: Mutex::new(()),
            hasher: Default::default(),
        }
    }
}

fn take(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    // The guarded data is (): a panic while held leaves nothing half-changed in the lock.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Locks {
    fn stripe(&self, kind: u8, id: &str) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write_u8(kind);
        h.write(id.as_bytes());
        (h.finish() % STRIPES as u64) as usize
    }

    fn hold(&self, stripes: BTreeSet<usize>) -> Held<'_> {
        Held {
            _guards: stripes
                .into_iter()
                .map(|i| take(&self.stripes[i]))
                .collect(),
        }
    }

    /// The lock of one member id, whether or not such a member exists.
    pub fn member(&self, id: &str) -> Held<'_> {
        self.members([id])
    }

    /// The locks of several member ids at once (an import).
    pub fn members<'i>(&self, ids: impl IntoIterator<Item = &'i str>) -> Held<'_> {
        self.hold(ids.into_iter().map(|id| self.stripe(b'm', id)).collect())
    }

    pub fn terminal(&self, id: &str) -> Held<'_> {
        self.hold([self.stripe(b't', id)].into())
    }

    /// The one lock of the organisation tree: changes to it are rare and checked as a whole.
    pub fn orgs(&self) -> MutexGuard<'_, ()> {
        take(&self.orgs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn one_id_is_held_by_one_caller_at_a_time() {
        let locks = Arc::new(Locks::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (locks, inside) = (locks.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _held = locks.member("M1");
                        let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        assert_eq!(now, 0, "two callers inside one member's lock");
                        std::thread::yield_now();
                        inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn many_ids_sharing_stripes_are_taken_without_deadlocking_on_themselves() {
        let locks = Locks::default();
        // Far more ids than stripes (the hash is seeded at random: with 2,000 ids some stripe
        // went unhit about one run in ten; with 20,000, about one in 10^31).
        let ids: Vec<String> = (0..20_000).map(|i| format!("M{i}")).collect();
        // Several fall on one stripe, which is taken once.
        let held = locks.members(ids.iter().map(String::as_str));
        assert_eq!(held._guards.len(), STRIPES);
    }
}
