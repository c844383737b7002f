//! People use cases: organisations, members, stations and tokens, each change audited.
//! Permission checks happen before these are called (`domain::org::permits`).

use crate::domain::org::{check_id, check_pin, Member, Org, PeopleError, Principal};
use crate::services::Services;
use crate::store::{AuditEntry, MemberRecord, StoreError, Terminal, TokenRecord};
use base64::Engine as _;
use sha2::Digest as _;
use std::time::UNIX_EPOCH;

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
    #[error("cannot hash the PIN: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new bearer token: 256 random bits, printable; only its hash is stored.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "yj_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What the store keeps of a token. Looking tokens up by this hash means no stored secret is
/// ever compared byte by byte with what a client sent.
pub fn token_hash(token: &str) -> [u8; 32] {
    sha2::Sha256::digest(token.as_bytes()).into()
}

pub(crate) fn now_ms(services: &Services) -> u64 {
    services
        .clock
        .now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn audit(
    services: &Services,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    services.store.audit(&AuditEntry {
        at_ms: now_ms(services),
        actor: actor.to_string(),
        action: action.to_string(),
        subject: subject.to_string(),
        detail,
    })
}

/// Issues a token for `principal`, valid until `expires_ms` if given; returns it (shown once).
pub fn issue_token(
    services: &Services,
    principal: Principal,
    expires_ms: Option<u64>,
    actor: &str,
) -> Result<String, StoreError> {
    let token = new_token();
    let record = TokenRecord {
        principal: principal.clone(),
        created_ms: now_ms(services),
        expires_ms,
        revoked: false,
    };
    services.store.put_token(&token_hash(&token), &record)?;
    let subject = hex::encode(&token_hash(&token)[..8]);
    audit(
        services,
        actor,
        "token.issue",
        &subject,
        serde_json::json!({ "principal": principal, "expires_ms": expires_ms }),
    )?;
    services.store.flush()?;
    Ok(token)
}

/// Whose token this is; None when unknown, revoked or expired.
pub fn authenticate(services: &Services, token: &str) -> Result<Option<Principal>, StoreError> {
    let Some(record) = services.store.token(&token_hash(token))? else {
        return Ok(None);
    };
    let expired = record.expires_ms.is_some_and(|at| at <= now_ms(services));
    Ok((!record.revoked && !expired).then_some(record.principal))
}

/// Revokes a token; true when it existed.
pub fn revoke_token(services: &Services, token: &str, actor: &str) -> Result<bool, StoreError> {
    let hash = token_hash(token);
    let Some(mut record) = services.store.token(&hash)? else {
        return Ok(false);
    };
    record.revoked = true;
    services.store.put_token(&hash, &record)?;
    audit(
        services,
        actor,
        "token.revoke",
        &hex::encode(&hash[..8]),
        serde_json::json!({ "principal": record.principal }),
    )?;
    services.store.flush()?;
    Ok(true)
}

/// Creates an organisation under an existing parent (or a new top committee).
pub fn create_org(services: &Services, org: &Org, actor: &str) -> Result<(), PeopleOpError> {
    let parent_kind = match &org.parent {
        Some(parent) => Some(
            services
                .store
                .org(parent)?
                .ok_or_else(|| PeopleOpError::UnknownOrg(parent.clone()))?
                .kind,
        ),
        None => None,
    };
    org.validate(parent_kind)?;
    if services.store.org(&org.id)?.is_some() {
        return Err(PeopleOpError::Exists(format!("organisation {:?}", org.id)));
    }
    services.store.put_org(org)?;
    audit(
        services,
        actor,
        "org.create",
        &org.id,
        serde_json::json!({ "after": org }),
    )?;
    services.store.flush()?;
    Ok(())
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

/// Creates a member in an existing organisation.
pub fn create_member(
    services: &Services,
    member: &Member,
    pin: &str,
    actor: &str,
) -> Result<(), PeopleOpError> {
    member.validate()?;
    for org in member.orgs() {
        check_id("organisation id", org)?;
        if services.store.org(org)?.is_none() {
            return Err(PeopleOpError::UnknownOrg(org.to_string()));
        }
    }
    if services.store.member(&member.id)?.is_some() {
        return Err(PeopleOpError::Exists(format!("member {:?}", member.id)));
    }
    let record = MemberRecord {
        member: member.clone(),
        pin_hash: hash_pin(pin)?,
        failed_sign_ins: 0,
        locked_until_ms: 0,
    };
    services.store.put_member(&record)?;
    audit(
        services,
        actor,
        "member.create",
        &member.id,
        serde_json::json!({ "after": member }),
    )?;
    services.store.flush()?;
    Ok(())
}

/// Registers a station of an existing organisation and returns its token (shown once).
pub fn create_terminal(
    services: &Services,
    terminal: &Terminal,
    actor: &str,
) -> Result<String, PeopleOpError> {
    check_id("station id", &terminal.id)?;
    if terminal.name.trim().is_empty() {
        return Err(PeopleError::NoName.into());
    }
    if services.store.org(&terminal.org)?.is_none() {
        return Err(PeopleOpError::UnknownOrg(terminal.org.clone()));
    }
    if services.store.terminal(&terminal.id)?.is_some() {
        return Err(PeopleOpError::Exists(format!("station {:?}", terminal.id)));
    }
    services.store.put_terminal(terminal)?;
    audit(
        services,
        actor,
        "terminal.create",
        &terminal.id,
        serde_json::json!({ "after": terminal }),
    )?;
    let principal = Principal::Terminal {
        station: terminal.id.clone(),
        org: terminal.org.clone(),
    };
    Ok(issue_token(services, principal, None, actor)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(
            a.starts_with("yj_") && a.len() >= 3 + 43,
            "{a}: 256 bits in base64"
        );
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

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
}

/// Changes to a member; absent fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub name: Option<String>,
    pub org: Option<String>,
    /// `Some(None)` clears it: the member is no longer away from home.
    #[serde(default, with = "explicit_null")]
    pub home_org: Option<Option<String>>,
    pub posts: Option<Vec<crate::domain::org::Post>>,
    pub languages: Option<Vec<crate::domain::lang::Lang>>,
}

mod explicit_null {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// Applies a change to a member (a move between organisations among them); the audit log keeps
/// the record before and after, so history stays intact.
pub fn change_member(
    services: &Services,
    id: &str,
    change: &MemberChange,
    actor: &str,
) -> Result<Member, PeopleOpError> {
    let mut record = services
        .store
        .member(id)?
        .ok_or_else(|| PeopleOpError::NotFound(format!("member {id:?}")))?;
    let before = record.member.clone();
    let m = &mut record.member;
    if let Some(name) = &change.name {
        m.name = name.clone();
    }
    if let Some(org) = &change.org {
        m.org = org.clone();
    }
    if let Some(home) = &change.home_org {
        m.home_org = home.clone();
    }
    if let Some(posts) = &change.posts {
        m.posts = posts.clone();
    }
    if let Some(languages) = &change.languages {
        m.languages = languages.clone();
    }
    m.validate()?;
    for org in m.orgs() {
        if services.store.org(org)?.is_none() {
            return Err(PeopleOpError::UnknownOrg(org.to_string()));
        }
    }
    let after = m.clone();
    services.store.put_member(&record)?;
    audit(
        services,
        actor,
        "member.update",
        id,
        serde_json::json!({ "before": before, "after": after }),
    )?;
    services.store.flush()?;
    Ok(after)
}

/// Moves an organisation under a new parent (with its whole subtree) or renames it.
pub fn change_org(
    services: &Services,
    id: &str,
    name: Option<String>,
    parent: Option<String>,
    actor: &str,
) -> Result<Org, PeopleOpError> {
    let mut org = services
        .store
        .org(id)?
        .ok_or_else(|| PeopleOpError::NotFound(format!("organisation {id:?}")))?;
    let before = org.clone();
    if let Some(name) = name {
        org.name = name;
    }
    let parent_kind = match parent.as_ref().or(org.parent.as_ref()) {
        Some(p) => {
            if services.store.org_tree()?.within(p, id) {
                return Err(PeopleError::Cycle.into());
            }
            Some(
                services
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
    services.store.put_org(&org)?;
    audit(
        services,
        actor,
        "org.update",
        id,
        serde_json::json!({ "before": before, "after": org }),
    )?;
    services.store.flush()?;
    Ok(org)
}
