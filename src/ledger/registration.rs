//! Hours a manager registers for offline activities (lectures, party days), with a reason.
//! A correction is a new entry that names the one it corrects; nothing is ever edited.

use super::LedgerHost;
use super::{load, year_totals};
use crate::domain::org::Principal;
use crate::domain::org::{permits, Action};
use crate::domain::watch::{Registration, RegistrationError, Rejection};
use crate::repo::{EntryKind, IdKind, LedgerEntry, LedgerWrite, SeenId, StoreError};
use sha2::Digest as _;
use std::sync::PoisonError;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Invalid(#[from] RegistrationError),
    #[error("{0}")]
    Refused(Rejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records a registration; `Ok(false)` when this very entry was recorded before.
pub fn register(
    services: &impl LedgerHost,
    caller: &Principal,
    actor: &str,
    member: &str,
    registration: Registration,
) -> Result<bool, RegisterError> {
    registration.check()?;
    let tree = services.infra().store.org_tree()?;
    let Some(record) = services.infra().store.member(member)? else {
        // Only those who may learn that an id is missing are told so.
        let why = if permits(caller, &Action::SeeMissing, &tree) {
            Rejection::UnknownMember(member.into())
        } else {
            Rejection::Forbidden(member.into())
        };
        return Err(RegisterError::Refused(why));
    };
    if !permits(caller, &Action::RegisterHours(&record.member), &tree) {
        return Err(RegisterError::Refused(Rejection::Forbidden(member.into())));
    }
    let slot = services.ledger().slot(member);
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let _id = services.ledger().id_lock(&registration.id);
    let json = serde_json::to_vec(&registration).unwrap_or_default();
    let digest = hex::encode(sha2::Sha256::digest(&json));
    if let Some(seen) = services
        .infra()
        .store
        .seen_id(IdKind::Registration, &registration.id)?
    {
        return if seen.digest == digest && seen.member == member {
            Ok(false)
        } else {
            Err(RegistrationError::Conflict(registration.id).into())
        };
    }
    let state = load(services, &mut guard, member)?;
    registration.check_against(&state.registrations)?;
    state.registrations.push(registration.clone());
    let year = registration
        .year_among(&state.registrations)
        .ok_or_else(|| RegistrationError::BadDate(registration.date.clone()))?;
    let write = LedgerWrite {
        ids: vec![(
            IdKind::Registration,
            registration.id.clone(),
            SeenId {
                member: member.to_string(),
                digest,
            },
        )],
        totals: vec![(year, member.to_string(), year_totals(state, year))],
        entries: vec![LedgerEntry {
            at_ms: services.infra().now_ms() as i64,
            actor: actor.to_string(),
            member: member.to_string(),
            kind: EntryKind::Registration(registration),
        }],
        session: None,
        heads: vec![],
    };
    let handed =
        services
            .ledger()
            .hand_over(services, write, vec![], vec![slot.clone()], guard.as_mut());
    let ticket = match handed {
        Ok(ticket) => ticket,
        Err(e) => {
            *guard = None;
            return Err(e.into());
        }
    };
    drop(guard);
    // The id stays locked until the registration is in the store (and on disk).
    services.ledger().flush.wait_blocking(ticket, services)?;
    Ok(true)
}
