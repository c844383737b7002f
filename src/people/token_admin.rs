//! Tokens as managers and admins handle them: the live ones a caller may manage, taking one
//! back by its id, and issuing one for a role (a manager's only for an organisation that
//! exists). Each asks the authorisation policy (`access`) for what it needs.

use super::{Actor, PeopleHost, PeopleOpError};
use crate::access::{self, AccessError};
use crate::domain::org::{permits, Action, Principal, TokenOwner};
use crate::repo::{PeopleWrite, StoreError};
use crate::tokens::{self, TokenView};
use std::collections::HashMap;

/// The tokens `who` may manage that are neither revoked nor expired, in hash order.
pub fn manageable_tokens(
    host: &impl PeopleHost,
    who: &Principal,
) -> Result<Vec<TokenView>, StoreError> {
    let infra = host.infra();
    let tree = infra.store.org_tree()?;
    let now = infra.now_ms();
    // A member's organisations, read once however many tokens they hold.
    let mut members: HashMap<String, TokenOwner> = HashMap::new();
    let mut visible = Vec::new();
    for (hash, record) in infra.store.tokens(None, usize::MAX)? {
        if record.revoked || record.expires_ms.is_some_and(|at| at <= now) {
            continue;
        }
        let owner = match &record.principal {
            Principal::Member { member } => match members.get(member) {
                Some(owner) => owner.clone(),
                None => {
                    let owner = tokens::owner(infra, &record.principal)?;
                    members.insert(member.clone(), owner.clone());
                    owner
                }
            },
            principal => tokens::owner(infra, principal)?,
        };
        if permits(who, &Action::ManageToken(&owner), &tree) {
            visible.push(tokens::view(&hash, &record, &owner, now));
        }
    }
    Ok(visible)
}

/// Revokes the token with this id, under its member's or station's lock. `own` is the hash of
/// the caller's token: one's own may always be given up (that is signing out).
pub fn revoke_by_id(
    host: &impl PeopleHost,
    who: &Principal,
    own: &[u8; 32],
    id: &str,
    actor: Actor,
) -> Result<(), AccessError> {
    let infra = host.infra();
    let Some((hash, record)) = tokens::by_id(infra, id)? else {
        return Err(access::missing(host, who, format!("no token {id:?}")));
    };
    let owner = tokens::owner(infra, &record.principal)?;
    if hash != *own {
        access::check(host, who, &Action::ManageToken(&owner))?;
    }
    let _held = match &record.principal {
        Principal::Member { member } => Some(host.locks().member(member)),
        Principal::Terminal { station, .. } => Some(host.locks().terminal(station)),
        _ => None,
    };
    let mut write = PeopleWrite::default();
    tokens::revoke_into(infra, &[hash], &actor, "revoked", &mut write)?;
    infra.store.write_people(&write)?;
    infra.store.flush()?;
    Ok(())
}

/// Issues a token for `principal`; a manager's names an organisation that must exist.
pub fn issue_token_for(
    host: &impl PeopleHost,
    principal: Principal,
    expires_ms: Option<u64>,
    actor: Actor,
) -> Result<String, PeopleOpError> {
    if let Principal::Manager { org } = &principal {
        if host.infra().store.org(org)?.is_none() {
            return Err(PeopleOpError::UnknownOrg(org.clone()));
        }
    }
    Ok(tokens::issue_token(
        host.infra(),
        principal,
        expires_ms,
        actor,
    )?)
}
