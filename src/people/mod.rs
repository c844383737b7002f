//! People use cases: organisations, members, stations and tokens, each change written with its
//! audit entry in one transaction, and what callers may read of them. Reads and token
//! administration ask the authorisation policy (`access`); changes are checked by their
//! callers before they are made. Members and stations change only under their lock (`Locks`),
//! so a sign-in, an edit and an import never undo each other.

mod locks;
mod members;
mod reads;
mod terminals;
mod token_admin;

pub use locks::Locks;
pub use members::{change_member, create_member, MemberChange, MemberView};
pub use reads::{
    audit_log, find_member, find_org, find_terminal, managed_terminals, member, profile_languages,
    read_member, read_org, terminal, visible_members, visible_orgs,
};
pub use terminals::{change_terminal, create_terminal, rotate_terminal_token, TerminalChange};
pub use token_admin::{issue_token_for, manageable_tokens, revoke_by_id};
// Tokens have their own module; these names stay here for the callers that know them.
pub use crate::tokens::{authenticate, issue_token, new_token, revoke_token, token_hash};

use crate::domain::org::{check_pin, Org, PeopleError};
use crate::infra::HasInfra;
use crate::repo::{PeopleWrite, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PeopleOpError {
    #[error(transparent)]
    Invalid(#[from] PeopleError),
    #[error("no organisation {0:?}")]
    UnknownOrg(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("no {0}")]
    NotFound(String),
    #[error("{0} is disabled; enable it first")]
    Disabled(String),
    #[error("cannot hash the PIN: {0}")]
    Hash(String),
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub use crate::audit::Actor;

/// What the people use cases stand on: the infrastructure, and the locks their changes are made
/// under so that none undoes another.
pub trait PeopleHost: HasInfra {
    fn locks(&self) -> &Locks;
}

/// Through any pointer to a host (`Arc`, actix's `Data`, a reference).
impl<T: std::ops::Deref> PeopleHost for T
where
    T::Target: PeopleHost,
{
    fn locks(&self) -> &Locks {
        (**self).locks()
    }
}

/// Writes a change with its audit entries and makes it durable before answering.
fn commit(services: &impl PeopleHost, write: &PeopleWrite) -> Result<(), StoreError> {
    services.infra().store.write_people(write)?;
    services.infra().store.flush()
}

/// Hashes a PIN with Argon2id.
pub fn hash_pin(pin: &str) -> Result<String, PeopleOpError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    check_pin(pin)?;
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| PeopleOpError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PeopleOpError::Hash(e.to_string()))
}

/// Creates an organisation under an existing parent (or a new top committee).
pub fn create_org(
    services: &impl PeopleHost,
    org: &Org,
    actor: impl Into<Actor>,
) -> Result<(), PeopleOpError> {
    let _held = services.locks().orgs();
    let parent_kind = match &org.parent {
        Some(parent) => Some(
            services
                .infra()
                .store
                .org(parent)?
                .ok_or_else(|| PeopleOpError::UnknownOrg(parent.clone()))?
                .kind,
        ),
        None => None,
    };
    org.validate(parent_kind)?;
    if services.infra().store.org(&org.id)?.is_some() {
        return Err(PeopleOpError::Exists(format!("organisation {:?}", org.id)));
    }
    let entry = actor.into().entry(
        services.infra().now_ms(),
        "org.create",
        &org.id,
        serde_json::json!({ "after": org }),
    );
    let write = PeopleWrite {
        orgs: vec![org.clone()],
        audit: vec![entry],
        ..PeopleWrite::default()
    };
    Ok(commit(services, &write)?)
}

/// Moves an organisation under a new parent (with its whole subtree) or renames it.
pub fn change_org(
    services: &impl PeopleHost,
    id: &str,
    name: Option<String>,
    parent: Option<String>,
    actor: impl Into<Actor>,
) -> Result<Org, PeopleOpError> {
    // One change of the tree at a time: two moves checked apart could close a cycle together.
    let _held = services.locks().orgs();
    let mut org = services
        .infra()
        .store
        .org(id)?
        .ok_or_else(|| PeopleOpError::NotFound(format!("organisation {id:?}")))?;
    let before = org.clone();
    if let Some(name) = name {
        org.name = name;
    }
    let parent_kind = match parent.as_ref().or(org.parent.as_ref()) {
        Some(p) => {
            if services.infra().store.org_tree()?.within(p, id) {
                return Err(PeopleError::Cycle.into());
            }
            Some(
                services
                    .infra()
                    .store
                    .org(p)?
                    .ok_or_else(|| PeopleOpError::UnknownOrg(p.clone()))?
                    .kind,
            )
        }
        None => None,
    };
    if parent.is_some() {
        org.parent = parent;
    }
    org.validate(parent_kind)?;
    let entry = actor.into().entry(
        services.infra().now_ms(),
        "org.update",
        id,
        serde_json::json!({ "before": before, "after": org }),
    );
    let write = PeopleWrite {
        orgs: vec![org.clone()],
        audit: vec![entry],
        ..PeopleWrite::default()
    };
    commit(services, &write)?;
    Ok(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_hashed_with_argon2id_and_checked_for_shape() {
        let hash = hash_pin("4821").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("4821"));
        assert!(matches!(
            hash_pin("12"),
            Err(PeopleOpError::Invalid(PeopleError::BadPin))
        ));
    }

    #[test]
    fn an_actor_with_a_token_is_named_by_both_in_its_entries() {
        let actor = Actor::with_token("manager:xz".into(), "00ff00ff00ff00ff".into());
        let entry = actor.entry(7, "member.update", "M1", serde_json::Value::Null);
        assert_eq!(entry.actor, "manager:xz");
        assert_eq!(entry.token.as_deref(), Some("00ff00ff00ff00ff"));
        assert_eq!(Actor::from("cli").token, None);
    }
}
