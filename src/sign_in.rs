//! Member sign-in: id and PIN for a member token. Guessing is bounded four ways: each id's
//! failures are counted under its lock (held across the Argon2 check, so parallel guesses are
//! weighed one after another and a lock in force is never lowered), ids that do not exist
//! count and lock alike, each client address and the whole server have a token bucket, and
//! only a few Argon2 checks run at once. Past any limit the answer is 429 before Argon2 runs.

use crate::config::AuthSettings;
use crate::domain::org::{check_id, Principal};
use crate::domain::throttle::{Attempts, Bucket, Rate};
use crate::people::{Actor, PeopleHost};
use crate::repo::{PeopleWrite, StoreError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("unknown member or wrong PIN")]
    Refused,
    #[error("too many wrong PINs; try again in {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    #[error("too many sign-in attempts from here or in all; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("too many sign-ins are being checked; try again in a second")]
    Busy,
    #[error("this member is disabled; ask their organisation's manager")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SignInError {
    /// Seconds for `Retry-After`, for the answers that have one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SignInError::Locked { retry_after_secs }
            | SignInError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            SignInError::Busy => Some(1),
            _ => None,
        }
    }
}

fn secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

fn held<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each map is consistent between statements: a panic elsewhere leaves nothing half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The server's memory of sign-in attempts, bounded by `auth.tracked_sign_in_ids`.
pub struct Guard {
    per_address: Rate,
    global_rate: Rate,
    max_checks: usize,
    tracked: usize,
    attempts: Mutex<HashMap<String, Attempts>>,
    addresses: Mutex<HashMap<IpAddr, Bucket>>,
    global: Mutex<Bucket>,
    checking: AtomicUsize,
}

/// One of the few Argon2 checks allowed at once, given back when dropped.
struct Permit<'a>(&'a AtomicUsize);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Guard {
    pub fn new(settings: &AuthSettings) -> Guard {
        let per_address = Rate {
            burst: settings.sign_in_per_address_burst,
            per_minute: settings.sign_in_per_address_per_minute,
        };
        let global_rate = Rate {
            burst: settings.sign_in_global_burst,
            per_minute: settings.sign_in_global_per_minute,
        };
        Guard {
            per_address,
            global_rate,
            max_checks: settings.max_concurrent_pin_checks,
            tracked: settings.tracked_sign_in_ids,
            attempts: Mutex::default(),
            addresses: Mutex::default(),
            global: Mutex::new(Bucket::full(global_rate, 0)),
            checking: AtomicUsize::new(0),
        }
    }

    /// Takes a try from the address's bucket, then from the server's.
    fn admit(&self, address: Option<IpAddr>, now: u64) -> Result<(), SignInError> {
        let throttled = |ms| SignInError::Throttled {
            retry_after_secs: secs(ms),
        };
        if let Some(address) = address {
            let mut buckets = held(&self.addresses);
            if buckets.len() >= self.tracked && !buckets.contains_key(&address) {
                // Refilled buckets hold nothing worth keeping.
                let rate = self.per_address;
                buckets.retain(|_, b| !b.is_full(rate, now));
            }
            let bucket = buckets
                .entry(address)
                .or_insert_with(|| Bucket::full(self.per_address, now));
            bucket.take(self.per_address, now).map_err(throttled)?;
        }
        held(&self.global)
            .take(self.global_rate, now)
            .map_err(throttled)
    }

    /// This id's attempts in memory, making room for it if it is new; Busy when the map is
    /// full of ids whose locks are all in force.
    fn attempts_of(&self, id: &str, now: u64) -> Result<Attempts, SignInError> {
        let mut attempts = held(&self.attempts);
        if let Some(a) = attempts.get(id) {
            return Ok(*a);
        }
        if attempts.len() >= self.tracked {
            attempts.retain(|_, a| a.wait_ms(now) > 0);
            if attempts.len() >= self.tracked {
                return Err(SignInError::Busy);
            }
        }
        attempts.insert(id.to_string(), Attempts::default());
        Ok(Attempts::default())
    }

    fn remember(&self, id: &str, now: Attempts) {
        held(&self.attempts).insert(id.to_string(), now);
    }

    fn forget(&self, id: &str) {
        held(&self.attempts).remove(id);
    }

    fn permit(&self) -> Option<Permit<'_>> {
        let taken = self.checking.fetch_add(1, Ordering::SeqCst);
        let permit = Permit(&self.checking);
        (taken < self.max_checks).then_some(permit)
    }
}

fn pin_matches(pin: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of no one's PIN, made once: an unknown id is checked against it, so it costs the
/// same Argon2 work as a real one and timing does not tell which ids exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| crate::people::hash_pin("000000").unwrap_or_default())
}

/// What signing in stands on: the people host (infrastructure and locks) and the guard that
/// counts attempts, buckets addresses and caps the Argon2 checks in flight.
pub trait SignInHost: PeopleHost {
    fn guard(&self) -> &Guard;
}

impl<T: std::ops::Deref> SignInHost for T
where
    T::Target: SignInHost,
{
    fn guard(&self) -> &Guard {
        (**self).guard()
    }
}

/// Checks a member's PIN and returns a new member token (expiring after
/// `auth.member_token_ttl`). `address` is the client's, for its bucket and the audit log.
pub fn sign_in(
    services: &impl SignInHost,
    member_id: &str,
    pin: &str,
    address: Option<IpAddr>,
) -> Result<String, SignInError> {
    let guard = services.guard();
    guard.admit(address, services.infra().now_ms())?;
    // The shape of an id is public: one that cannot exist is refused without any work.
    if check_id("member id", member_id).is_err() {
        return Err(SignInError::Refused);
    }
    let _held = services.locks().member(member_id);
    // Read once the lock is held, so no try weighs attempts against an older "now".
    let now = services.infra().now_ms();
    let record = services.infra().store.member(member_id)?;
    let stored = record.as_ref().map_or(Attempts::default(), |r| Attempts {
        failures: r.failed_sign_ins,
        locked_until_ms: r.locked_until_ms,
    });
    let before = guard.attempts_of(member_id, now)?.merge(stored);
    if before.wait_ms(now) > 0 {
        return Err(SignInError::Locked {
            retry_after_secs: secs(before.wait_ms(now)),
        });
    }
    let permit = guard.permit().ok_or(SignInError::Busy)?;
    let hash = record
        .as_ref()
        .map_or(decoy_hash(), |r| r.pin_hash.as_str());
    let matches = pin_matches(pin, hash) && record.is_some();
    drop(permit);
    let anonymous = Actor::from("sign-in");
    let client = address.map(|a| a.to_string());
    let mut write = PeopleWrite::default();
    if !matches {
        let after = before.failed(now);
        guard.remember(member_id, after);
        let detail = serde_json::json!({
            "member": member_id, "address": client, "failures": after.failures,
        });
        write
            .audit
            .push(anonymous.entry(now, "sign_in.fail", member_id, detail));
        if Attempts::just_locked(before, after, now) {
            let detail = serde_json::json!({
                "member": member_id, "address": client, "locked_ms": after.wait_ms(now),
            });
            write
                .audit
                .push(anonymous.entry(now, "sign_in.lock", member_id, detail));
        }
        if let Some(mut record) = record {
            record.failed_sign_ins = after.failures;
            record.locked_until_ms = after.locked_until_ms;
            write.members.push(record);
        }
        services.infra().store.write_people(&write)?;
        services.infra().store.flush()?;
        return Err(SignInError::Refused);
    }
    let Some(mut record) = record else {
        return Err(SignInError::Refused);
    };
    if record.disabled {
        return Err(SignInError::Disabled);
    }
    guard.forget(member_id);
    if record.failed_sign_ins > 0 || record.locked_until_ms > 0 {
        record.failed_sign_ins = 0;
        record.locked_until_ms = 0;
        write.members.push(record);
    }
    let principal = Principal::Member {
        member: member_id.to_string(),
    };
    let actor = Actor::from(format!("member:{member_id}"));
    let token = crate::tokens::prepare(services.infra(), principal, None, "sign-in", &actor)
        .add_to(&mut write);
    services.infra().store.write_people(&write)?;
    services.infra().store.flush()?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(burst: u32, tracked: usize) -> AuthSettings {
        AuthSettings {
            sign_in_per_address_burst: burst,
            sign_in_per_address_per_minute: 60,
            sign_in_global_burst: 1000,
            sign_in_global_per_minute: 60_000,
            tracked_sign_in_ids: tracked,
            max_concurrent_pin_checks: 2,
            ..crate::config::Settings::default().auth
        }
    }

    #[test]
    fn an_address_past_its_burst_waits_for_its_refill() {
        let guard = Guard::new(&settings(2, 100));
        let here = Some(IpAddr::from([10, 0, 0, 1]));
        let there = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(guard.admit(here, 0).is_ok());
        assert!(guard.admit(here, 0).is_ok());
        assert!(matches!(
            guard.admit(here, 0),
            Err(SignInError::Throttled {
                retry_after_secs: 1
            })
        ));
        assert!(guard.admit(there, 0).is_ok(), "another address has its own");
        assert!(guard.admit(here, 1_000).is_ok());
    }

    #[test]
    fn the_map_of_attempts_stays_bounded_and_keeps_locks_in_force() {
        let guard = Guard::new(&settings(2, 3));
        let locked = Attempts {
            failures: 9,
            locked_until_ms: 10_000,
        };
        guard.remember("a", locked);
        guard.remember("b", Attempts::default().failed(0));
        guard.remember("c", Attempts::default());
        // Full: the ids without a lock in force make room.
        assert!(guard.attempts_of("d", 5).is_ok());
        assert_eq!(guard.attempts_of("a", 5).unwrap(), locked);
        guard.remember("e", locked);
        guard.remember("f", locked);
        assert!(matches!(guard.attempts_of("g", 5), Err(SignInError::Busy)));
    }

    #[test]
    fn only_the_configured_number_of_checks_run_at_once() {
        let guard = Guard::new(&settings(2, 100));
        let first = guard.permit();
        let second = guard.permit();
        assert!(first.is_some() && second.is_some());
        assert!(guard.permit().is_none());
        drop(first);
        assert!(guard.permit().is_some());
    }
}
