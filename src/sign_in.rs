//! Member sign-in: id and PIN for a member token, with a lock that grows with every wrong PIN
//! so guessing a short PIN online takes longer than anyone will wait.

use crate::domain::org::Principal;
use crate::people::{hash_pin, issue_token, now_ms};
use crate::services::Services;
use crate::store::StoreError;

/// Failed PINs allowed before sign-in is locked; each further failure doubles the lock.
const FREE_TRIES: u32 = 5;
const FIRST_LOCK_MS: u64 = 30_000;
const LONGEST_LOCK_MS: u64 = 3_600_000;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("unknown member or wrong PIN")]
    Refused,
    #[error("too many wrong PINs; try again in {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long sign-in stays locked after `failures` wrong PINs in a row.
pub fn lock_ms(failures: u32) -> u64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(16);
    (FIRST_LOCK_MS << doublings).min(LONGEST_LOCK_MS)
}

/// Checks a member's PIN and returns a new member token. Wrong PINs lock sign-in for longer
/// and longer; an unknown member is refused exactly like a wrong PIN.
pub fn sign_in(services: &Services, member_id: &str, pin: &str) -> Result<String, SignInError> {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let Some(mut record) = services.store.member(member_id)? else {
        // Spend the same work as a real check, so timing does not tell which ids exist.
        let _ = hash_pin("0000");
        return Err(SignInError::Refused);
    };
    let now = now_ms(services);
    if record.locked_until_ms > now {
        return Err(SignInError::Locked {
            retry_after_secs: (record.locked_until_ms - now).div_ceil(1000),
        });
    }
    let matches = PasswordHash::new(&record.pin_hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    if !matches {
        record.failed_sign_ins += 1;
        record.locked_until_ms = now + lock_ms(record.failed_sign_ins);
        services.store.put_member(&record)?;
        services.store.flush()?;
        return Err(SignInError::Refused);
    }
    if record.failed_sign_ins > 0 {
        record.failed_sign_ins = 0;
        record.locked_until_ms = 0;
        services.store.put_member(&record)?;
    }
    let principal = Principal::Member {
        member: member_id.to_string(),
    };
    Ok(issue_token(
        services,
        principal,
        None,
        &format!("member:{member_id}"),
    )?)
}

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn locks_start_after_the_free_tries_and_double_up_to_an_hour() {
        assert_eq!((0..FREE_TRIES).map(lock_ms).max(), Some(0));
        assert_eq!(lock_ms(5), 30_000);
        assert_eq!(lock_ms(6), 60_000);
        assert_eq!(lock_ms(8), 240_000);
        assert_eq!(lock_ms(40), LONGEST_LOCK_MS);
    }
}
