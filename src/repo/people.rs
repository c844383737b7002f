//! People, tokens and the audit log, as the use cases need them: the records and the
//! repositories that keep them.

use super::StoreError;
use crate::domain::catalog::Audience;
use crate::domain::lang::Lang;
use crate::domain::org::{Member, Org, OrgTree, Principal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The readable organisations and the tree they make (with the unreadable ones marked).
#[derive(Debug, Default)]
pub struct OrgDirectory {
    pub orgs: Vec<Org>,
    pub tree: Arc<OrgTree>,
}

impl OrgDirectory {
    /// The directory of stored organisations, each by its id and what decoding it gave. A
    /// record that cannot be decoded is logged and marked damaged in the tree, which refuses
    /// every answer passing through it while the rest keeps working.
    pub fn of(records: impl IntoIterator<Item = (String, Result<Org, StoreError>)>) -> Self {
        let mut orgs = Vec::new();
        let mut damaged = Vec::new();
        for (id, record) in records {
            match record {
                Ok(org) => orgs.push(org),
                Err(e) => {
                    tracing::error!(
                        org = %id,
                        error = %e,
                        "an organisation record cannot be read; requests about it or through \
                         it are refused until it is repaired"
                    );
                    damaged.push(id);
                }
            }
        }
        let tree = OrgTree::new(orgs.iter().map(|o| (o.id.clone(), o.parent.clone())))
            .with_damaged(damaged);
        OrgDirectory {
            orgs,
            tree: Arc::new(tree),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub member: Member,
    /// Argon2id PHC string of the PIN.
    pub pin_hash: String,
    pub failed_sign_ins: u32,
    pub locked_until_ms: u64,
    /// A disabled member cannot sign in, and their tokens are refused.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminal {
    pub id: String,
    pub name: String,
    pub org: String,
    pub languages: Vec<Lang>,
    /// Who the station's catalogue is for; empty for every audience.
    #[serde(default)]
    pub audiences: Vec<Audience>,
    /// A disabled station's tokens are refused and no new one is issued until it is enabled.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub principal: Principal,
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
    pub revoked: bool,
    /// What the token is for, as its issuer said (e.g. "sign-in", "station st-01").
    #[serde(default)]
    pub label: String,
    /// The last day (days since 1970-01-01, UTC) it was used; written at most once a day.
    #[serde(default)]
    pub last_used_day: Option<u32>,
}

impl TokenRecord {
    /// The record with `day` as its last use, unless there is nothing to write: a revoked
    /// token stays as revoked, and a day is written once.
    pub fn used_on(&self, day: u32) -> Option<TokenRecord> {
        if self.revoked || self.last_used_day == Some(day) {
            return None;
        }
        Some(TokenRecord {
            last_used_day: Some(day),
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: u64,
    /// Who acted, e.g. `admin`, `manager:xz-nq`, `cli`.
    pub actor: String,
    /// The id of the token they acted with (see `GET /api/v1/tokens`), when they had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// What they did, e.g. `org.create`, `member.update`, `token.issue`.
    pub action: String,
    pub subject: String,
    /// The record before and after, or other particulars.
    pub detail: serde_json::Value,
}

/// Everything one people use case writes, with its audit entries.
#[derive(Debug, Default)]
pub struct PeopleWrite {
    pub orgs: Vec<Org>,
    pub members: Vec<MemberRecord>,
    pub terminals: Vec<Terminal>,
    pub tokens: Vec<([u8; 32], TokenRecord)>,
    pub audit: Vec<AuditEntry>,
}

/// The key under which a principal's tokens are indexed; None for admin and editor tokens,
/// which belong to no record that can be disabled.
pub fn owner_key(principal: &Principal) -> Option<Vec<u8>> {
    let (kind, id) = match principal {
        Principal::Member { member } => (b'm', member),
        Principal::Terminal { station, .. } => (b't', station),
        Principal::Manager { org } => (b'g', org),
        Principal::Admin | Principal::Editor => return None,
    };
    let mut key = vec![kind, b':'];
    key.extend_from_slice(id.as_bytes());
    key.push(0);
    Some(key)
}

/// Organisations, members and stations, each change written with its audit entries.
pub trait PeopleRepo {
    fn org(&self, id: &str) -> Result<Option<Org>, StoreError>;

    /// Every write to the tree of organisations goes through here, so the cache stays true.
    fn put_org(&self, org: &Org) -> Result<(), StoreError>;

    /// Every readable organisation, in id order (a damaged record is left out; see
    /// `org_directory`).
    fn orgs(&self) -> Result<Vec<Org>, StoreError>;

    /// The parent links of every organisation, for permission checks.
    fn org_tree(&self) -> Result<Arc<OrgTree>, StoreError>;

    /// The organisations as last read: decoded once after each change, not on every
    /// permission check. A record that cannot be decoded is logged when it is read (once per
    /// change to the tree, not per request) and marked damaged in the tree, which refuses
    /// every answer that would pass through it while the rest keeps working.
    fn org_directory(&self) -> Result<Arc<OrgDirectory>, StoreError>;

    fn member(&self, id: &str) -> Result<Option<MemberRecord>, StoreError>;

    fn put_member(&self, record: &MemberRecord) -> Result<(), StoreError>;

    fn members(&self) -> Result<Vec<MemberRecord>, StoreError>;

    fn terminal(&self, id: &str) -> Result<Option<Terminal>, StoreError>;

    fn put_terminal(&self, terminal: &Terminal) -> Result<(), StoreError>;

    fn terminals(&self) -> Result<Vec<Terminal>, StoreError>;

    /// Writes the change and its audit entries in one atomic transaction. Does not flush.
    fn write_people(&self, write: &PeopleWrite) -> Result<(), StoreError>;
}

/// The audit log: append-only, numbered from 1.
pub trait AuditRepo {
    /// Appends to the audit log.
    fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// The audit log, oldest first, from position `after` (exclusive), at most `limit` entries.
    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, AuditEntry)>, StoreError>;
}

/// Tokens by the SHA-256 of their secret, indexed by the principal they were issued to.
pub trait TokenRepo {
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;

    fn put_token(&self, hash: &[u8; 32], record: &TokenRecord) -> Result<(), StoreError>;

    /// The hashes of every token issued to this member, station or manager organisation.
    fn tokens_of(&self, principal: &Principal) -> Result<Vec<[u8; 32]>, StoreError>;

    /// Indexes tokens stored before the index existed; run once at start-up, cheap after.
    fn index_token_owners(&self) -> Result<usize, StoreError>;

    /// Records the day a token was used, unless it changed meanwhile (a revocation wins).
    fn touch_token(&self, hash: &[u8; 32], day: u32) -> Result<(), StoreError>;

    /// Every token, with its hash, in hash order from `after` (exclusive).
    fn tokens(
        &self,
        after: Option<[u8; 32]>,
        limit: usize,
    ) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError>;

    /// The tokens whose hash begins with these bytes (a token id is such a prefix).
    fn tokens_with_prefix(&self, prefix: &[u8])
        -> Result<Vec<([u8; 32], TokenRecord)>, StoreError>;
}
