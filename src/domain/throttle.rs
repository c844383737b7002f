//! How fast sign-in may be tried: token buckets (per client address and for the whole server)
//! and the lock that grows with every wrong PIN. Plain arithmetic on milliseconds, so the rules
//! are tested without a clock or a server.

/// Failed PINs allowed before sign-in is locked; each further failure doubles the lock.
pub const FREE_TRIES: u32 = 5;
const FIRST_LOCK_MS: u64 = 30_000;
const LONGEST_LOCK_MS: u64 = 3_600_000;

/// How long sign-in stays locked after `failures` wrong PINs in a row.
pub fn lock_ms(failures: u32) -> u64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(16);
    (FIRST_LOCK_MS << doublings).min(LONGEST_LOCK_MS)
}

/// Where a member id's attempts stand: consecutive failures and the lock they earned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    pub failures: u32,
    pub locked_until_ms: u64,
}

impl Attempts {
    /// Both accounts of the same id (the stored record and the one in memory) taken together:
    /// a lock in force in either stays in force.
    pub fn merge(self, other: Attempts) -> Attempts {
        Attempts {
            failures: self.failures.max(other.failures),
            locked_until_ms: self.locked_until_ms.max(other.locked_until_ms),
        }
    }

    /// Milliseconds until another try may be weighed; 0 when it may be now.
    pub fn wait_ms(&self, now_ms: u64) -> u64 {
        self.locked_until_ms.saturating_sub(now_ms)
    }

    /// One more wrong PIN. The lock only ever moves later.
    pub fn failed(self, now_ms: u64) -> Attempts {
        let failures = self.failures.saturating_add(1);
        let locked_until_ms = match lock_ms(failures) {
            // No lock earned: "until now" would lock out a try whose clock read came first.
            0 => self.locked_until_ms,
            lock => self.locked_until_ms.max(now_ms + lock),
        };
        Attempts {
            failures,
            locked_until_ms,
        }
    }

    /// True when this failure is the one that locked sign-in.
    pub fn just_locked(before: Attempts, after: Attempts, now_ms: u64) -> bool {
        after.wait_ms(now_ms) > 0 && before.wait_ms(now_ms) == 0
    }
}

/// A token bucket: `burst` tries at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

impl Rate {
    fn per_ms(&self) -> f64 {
        f64::from(self.per_minute) / 60_000.0
    }
}

impl Bucket {
    pub fn full(rate: Rate, now_ms: u64) -> Bucket {
        Bucket {
            tokens: f64::from(rate.burst),
            at_ms: now_ms,
        }
    }

    fn refill(&mut self, rate: Rate, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64;
        self.tokens = (self.tokens + elapsed * rate.per_ms()).min(f64::from(rate.burst));
        self.at_ms = self.at_ms.max(now_ms);
    }

    /// Takes one try: Ok, or the milliseconds until one is there.
    pub fn take(&mut self, rate: Rate, now_ms: u64) -> Result<(), u64> {
        self.refill(rate, now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if rate.per_minute == 0 {
            return Err(u64::MAX);
        }
        // Less a hair, so float rounding never adds a millisecond to an exact wait.
        Err((((1.0 - self.tokens) / rate.per_ms()) - 1e-6)
            .ceil()
            .max(1.0) as u64)
    }

    /// True once the bucket has refilled to its burst: forgetting it changes nothing.
    pub fn is_full(&self, rate: Rate, now_ms: u64) -> bool {
        let mut probe = *self;
        probe.refill(rate, now_ms);
        probe.tokens >= f64::from(rate.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_after_the_free_tries_and_double_up_to_an_hour() {
        assert_eq!((0..FREE_TRIES).map(lock_ms).max(), Some(0));
        assert_eq!(lock_ms(5), 30_000);
        assert_eq!(lock_ms(6), 60_000);
        assert_eq!(lock_ms(8), 240_000);
        assert_eq!(lock_ms(40), LONGEST_LOCK_MS);
    }

    #[test]
    fn a_lock_in_force_is_never_lowered_by_a_failure_or_a_merge() {
        let locked = Attempts {
            failures: 9,
            locked_until_ms: 10_000_000,
        };
        let stale = Attempts {
            failures: 1,
            locked_until_ms: 0,
        };
        assert_eq!(stale.merge(locked), locked.merge(stale));
        assert_eq!(stale.merge(locked).locked_until_ms, 10_000_000);
        // A stale writer's failure after a long lock keeps the longer lock.
        let after = locked.merge(stale).failed(1_000);
        assert_eq!(after.locked_until_ms, 10_000_000);
        assert_eq!(after.failures, 10);
    }

    #[test]
    fn the_fifth_failure_locks_and_says_so_once() {
        let mut a = Attempts::default();
        let mut locked_at = Vec::new();
        for n in 1..=7 {
            let next = a.failed(0);
            if Attempts::just_locked(a, next, 0) {
                locked_at.push(n);
            }
            a = next;
        }
        assert_eq!(locked_at, vec![5]);
        // Before the lock, a failure at 1_000 does not refuse a try whose clock read 999.
        let once = Attempts::default().failed(1_000);
        assert_eq!(once.wait_ms(999), 0);
        assert_eq!(a.wait_ms(0), lock_ms(7));
    }

    #[test]
    fn a_bucket_gives_its_burst_then_refills_at_its_rate() {
        let rate = Rate {
            burst: 3,
            per_minute: 60,
        };
        let mut b = Bucket::full(rate, 0);
        for _ in 0..3 {
            assert_eq!(b.take(rate, 0), Ok(()));
        }
        assert_eq!(b.take(rate, 0), Err(1000), "one a second");
        assert_eq!(b.take(rate, 999), Err(1));
        assert_eq!(b.take(rate, 1000), Ok(()));
        assert!(!b.is_full(rate, 1000));
        assert!(b.is_full(rate, 4000));
        let closed = Rate {
            burst: 0,
            per_minute: 0,
        };
        assert_eq!(Bucket::full(closed, 0).take(closed, 5), Err(u64::MAX));
    }
}
