//! Bearer tokens: issued (shown once, stored only as a hash), checked on every request, listed
//! without their secrets, and taken back one by one, with their member or station, or by
//! rotating a station's. Every change is written with its audit entry in one transaction.

use crate::audit::Actor;
use crate::domain::org::{Principal, TokenOwner};
use crate::infra::Infra;
use crate::repo::{AuditEntry, PeopleWrite, StoreError, TokenRecord};
use base64::Engine as _;
use serde::Serialize;
use sha2::Digest as _;

/// Hex digits of a token's hash that name it (64 bits: unique among any number of tokens a
/// server will hold, and too short to be a secret).
pub const ID_HEX: usize = 16;

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

/// The public name of a token: the first hex digits of its hash.
pub fn token_id(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..ID_HEX / 2])
}

/// A token about to be written, with the secret shown once to whoever asked for it.
pub struct Issued {
    pub token: String,
    pub hash: [u8; 32],
    pub record: TokenRecord,
    pub audit: AuditEntry,
}

/// Makes a token for `principal`; member tokens expire after `auth.member_token_ttl` at the
/// latest. Nothing is written: the caller puts it in its own transaction.
pub fn prepare(
    infra: &Infra,
    principal: Principal,
    expires_ms: Option<u64>,
    label: &str,
    actor: &Actor,
) -> Issued {
    let now = infra.now_ms();
    let expires_ms = match principal {
        Principal::Member { .. } => {
            let ttl = now + infra.settings.auth.member_token_ttl.as_millis() as u64;
            Some(expires_ms.map_or(ttl, |at| at.min(ttl)))
        }
        _ => expires_ms,
    };
    let token = new_token();
    let hash = token_hash(&token);
    let record = TokenRecord {
        principal: principal.clone(),
        created_ms: now,
        expires_ms,
        revoked: false,
        label: label.to_string(),
        last_used_day: None,
    };
    let audit = actor.entry(
        now,
        "token.issue",
        &token_id(&hash),
        serde_json::json!({ "principal": principal, "expires_ms": expires_ms, "label": label }),
    );
    Issued {
        token,
        hash,
        record,
        audit,
    }
}

impl Issued {
    pub fn add_to(self, write: &mut PeopleWrite) -> String {
        write.tokens.push((self.hash, self.record));
        write.audit.push(self.audit);
        self.token
    }
}

/// Issues a token for `principal`, valid until `expires_ms` if given; returns it (shown once).
/// For members and stations use the people use cases, which hold their lock.
pub fn issue_token(
    infra: &Infra,
    principal: Principal,
    expires_ms: Option<u64>,
    actor: impl Into<Actor>,
) -> Result<String, StoreError> {
    let label = match &principal {
        Principal::Member { .. } => "sign-in".to_string(),
        Principal::Terminal { station, .. } => format!("station {station}"),
        _ => String::new(),
    };
    let mut write = PeopleWrite::default();
    let token = prepare(infra, principal, expires_ms, &label, &actor.into()).add_to(&mut write);
    infra.store.write_people(&write)?;
    infra.store.flush()?;
    Ok(token)
}

/// Whose token this is, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub principal: Principal,
    pub token_id: String,
}

/// Whose token this is; None when unknown, revoked or expired. The day of its use is kept,
/// written at most once a day per token.
pub fn authenticate(infra: &Infra, token: &str) -> Result<Option<Authenticated>, StoreError> {
    let hash = token_hash(token);
    let Some(record) = infra.store.token(&hash)? else {
        return Ok(None);
    };
    // The service clock is read only for tokens that expire, as crediting owns its readings.
    let expired = record.expires_ms.is_some_and(|at| at <= infra.now_ms());
    if record.revoked || expired {
        return Ok(None);
    }
    // The day of use is bookkeeping, not a rule: the machine's own clock is enough for it.
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as u32;
    if record.last_used_day != Some(today) {
        // Best effort: a compare-and-swap that loses to a revocation changes nothing.
        if let Err(e) = infra.store.touch_token(&hash, today) {
            tracing::debug!(error = %e, "token's day of use not recorded");
        }
    }
    Ok(Some(Authenticated {
        principal: record.principal,
        token_id: token_id(&hash),
    }))
}

/// Marks tokens revoked in `write`, with an audit entry each; returns how many were live.
pub(crate) fn revoke_into(
    infra: &Infra,
    hashes: &[[u8; 32]],
    actor: &Actor,
    why: &str,
    write: &mut PeopleWrite,
) -> Result<usize, StoreError> {
    let now = infra.now_ms();
    let mut revoked = 0;
    for hash in hashes {
        let Some(mut record) = infra.store.token(hash)? else {
            continue;
        };
        if record.revoked {
            continue;
        }
        record.revoked = true;
        write.audit.push(actor.entry(
            now,
            "token.revoke",
            &token_id(hash),
            serde_json::json!({ "principal": record.principal, "why": why }),
        ));
        write.tokens.push((*hash, record));
        revoked += 1;
    }
    Ok(revoked)
}

/// Revokes a token given by its secret; true when it existed.
pub fn revoke_token(
    infra: &Infra,
    token: &str,
    actor: impl Into<Actor>,
) -> Result<bool, StoreError> {
    let hash = token_hash(token);
    if infra.store.token(&hash)?.is_none() {
        return Ok(false);
    }
    let mut write = PeopleWrite::default();
    revoke_into(infra, &[hash], &actor.into(), "revoked", &mut write)?;
    infra.store.write_people(&write)?;
    infra.store.flush()?;
    Ok(true)
}

/// A token as its managers see it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenView {
    pub id: String,
    pub role: &'static str,
    pub principal: Principal,
    /// The organisation it acts for (a manager's, a station's, a member's).
    pub org: Option<String>,
    pub label: String,
    pub created: String,
    pub expires: Option<String>,
    /// The last day it was used (UTC), e.g. "2026-12-07".
    pub last_used: Option<String>,
    pub revoked: bool,
    pub expired: bool,
}

/// Whose token it is, as the permission rules weigh it.
pub fn owner(infra: &Infra, principal: &Principal) -> Result<TokenOwner, StoreError> {
    Ok(match principal {
        Principal::Admin => TokenOwner::Admin,
        Principal::Editor => TokenOwner::Editor,
        Principal::Manager { org } => TokenOwner::Manager(org.clone()),
        Principal::Terminal { org, .. } => TokenOwner::Terminal(org.clone()),
        Principal::Member { member } => TokenOwner::Member(
            infra
                .store
                .member(member)?
                .map(|r| r.member.orgs().map(str::to_string).collect())
                .unwrap_or_default(),
        ),
    })
}

fn rfc3339(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn view(hash: &[u8; 32], record: &TokenRecord, owner: &TokenOwner, now_ms: u64) -> TokenView {
    let role = match record.principal {
        Principal::Admin => "admin",
        Principal::Editor => "editor",
        Principal::Manager { .. } => "manager",
        Principal::Terminal { .. } => "terminal",
        Principal::Member { .. } => "member",
    };
    TokenView {
        id: token_id(hash),
        role,
        principal: record.principal.clone(),
        org: owner.orgs().first().map(|o| o.to_string()),
        label: record.label.clone(),
        created: rfc3339(record.created_ms),
        expires: record.expires_ms.map(rfc3339),
        last_used: record.last_used_day.map(|d| {
            jiff::Timestamp::from_second(i64::from(d) * 86_400)
                .map(|t| t.to_string()[..10].to_string())
                .unwrap_or_default()
        }),
        revoked: record.revoked,
        expired: record.expires_ms.is_some_and(|at| at <= now_ms),
    }
}

/// Finds a token by its id (or a longer prefix of its hash, in hex).
pub fn by_id(infra: &Infra, id: &str) -> Result<Option<([u8; 32], TokenRecord)>, StoreError> {
    let Ok(prefix) = hex::decode(id) else {
        return Ok(None);
    };
    if id.len() < ID_HEX || prefix.len() > 32 {
        return Ok(None);
    }
    let mut found = infra.store.tokens_with_prefix(&prefix)?;
    Ok(match found.len() {
        1 => found.pop(),
        _ => None,
    })
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
    fn a_tokens_id_is_a_prefix_of_its_hash_and_not_the_token() {
        let token = new_token();
        let id = token_id(&token_hash(&token));
        assert_eq!(id.len(), ID_HEX);
        assert!(hex::encode(token_hash(&token)).starts_with(&id));
        assert!(!token.contains(&id));
    }
}
