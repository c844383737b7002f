//! People: tree `orgs` (id → organisation), `members` (id → member with PIN hash and sign-in
//! failures), `terminals` (id → station), `tokens` (sha-256 of the token → whose it is) and
//! `audit` (sequence, big-endian → who changed what, when).

use super::{decode, encode, Store, StoreError};
use crate::domain::catalog::Audience;
use crate::domain::lang::Lang;
use crate::domain::org::{Member, Org, OrgTree, Principal};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub(super) const ORGS: &str = "orgs";
pub(super) const MEMBERS: &str = "members";
pub(super) const TERMINALS: &str = "terminals";
pub(super) const TOKENS: &str = "tokens";
pub(super) const AUDIT: &str = "audit";

/// The position of a new audit entry: never 0, which `audit_log` reads as "the start".
pub(super) fn audit_seq(store: &Store) -> Result<u64, StoreError> {
    Ok(store.db.generate_id()?.saturating_add(1))
}

/// The readable organisations and the tree they make (with the unreadable ones marked).
#[derive(Debug, Default)]
pub struct OrgDirectory {
    pub orgs: Vec<Org>,
    pub tree: Arc<OrgTree>,
}

/// The last directory read, with the generation of the tree it was read at; every write
/// moves the generation on.
#[derive(Default)]
pub(super) struct OrgCache {
    generation: AtomicU64,
    current: Mutex<Option<(u64, Arc<OrgDirectory>)>>,
}

impl OrgCache {
    fn lock(&self) -> MutexGuard<'_, Option<(u64, Arc<OrgDirectory>)>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.lock() = None;
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

impl Store {
    pub fn org(&self, id: &str) -> Result<Option<Org>, StoreError> {
        self.get_json(ORGS, id.as_bytes())
    }

    /// Every write to the tree of organisations goes through here, so the cache stays true.
    pub fn put_org(&self, org: &Org) -> Result<(), StoreError> {
        let written = self.put_json(ORGS, org.id.as_bytes(), org);
        self.org_cache.invalidate();
        written
    }

    /// Every readable organisation, in id order (a damaged record is left out; see
    /// `org_directory`).
    pub fn orgs(&self) -> Result<Vec<Org>, StoreError> {
        Ok(self.org_directory()?.orgs.clone())
    }

    /// The parent links of every organisation, for permission checks.
    pub fn org_tree(&self) -> Result<Arc<OrgTree>, StoreError> {
        Ok(self.org_directory()?.tree.clone())
    }

    /// The organisations as last read: decoded once after each change, not on every
    /// permission check. A record that cannot be decoded is logged when it is read (once per
    /// change to the tree, not per request) and marked damaged in the tree, which refuses
    /// every answer that would pass through it while the rest keeps working.
    pub fn org_directory(&self) -> Result<Arc<OrgDirectory>, StoreError> {
        let generation = self.org_cache.generation.load(Ordering::SeqCst);
        if let Some((at, directory)) = &*self.org_cache.lock() {
            if *at == generation {
                return Ok(directory.clone());
            }
        }
        let mut orgs = Vec::new();
        let mut damaged = Vec::new();
        for item in self.tree(ORGS)?.iter() {
            let (key, value) = item?;
            match decode::<Org>(ORGS, &value) {
                Ok(org) => orgs.push(org),
                Err(e) => {
                    let id = String::from_utf8_lossy(&key).into_owned();
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
        let directory = Arc::new(OrgDirectory {
            orgs,
            tree: Arc::new(tree),
        });
        let mut cached = self.org_cache.lock();
        // Kept only if nothing was written while it was read.
        if self.org_cache.generation.load(Ordering::SeqCst) == generation {
            *cached = Some((generation, directory.clone()));
        }
        Ok(directory)
    }

    pub fn member(&self, id: &str) -> Result<Option<MemberRecord>, StoreError> {
        self.get_json(MEMBERS, id.as_bytes())
    }

    pub fn put_member(&self, record: &MemberRecord) -> Result<(), StoreError> {
        self.put_json(MEMBERS, record.member.id.as_bytes(), record)
    }

    pub fn members(&self) -> Result<Vec<MemberRecord>, StoreError> {
        self.tree(MEMBERS)?
            .iter()
            .values()
            .map(|v| decode(MEMBERS, &v?))
            .collect()
    }

    pub fn terminal(&self, id: &str) -> Result<Option<Terminal>, StoreError> {
        self.get_json(TERMINALS, id.as_bytes())
    }

    pub fn put_terminal(&self, terminal: &Terminal) -> Result<(), StoreError> {
        self.put_json(TERMINALS, terminal.id.as_bytes(), terminal)
    }

    pub fn terminals(&self) -> Result<Vec<Terminal>, StoreError> {
        self.tree(TERMINALS)?
            .iter()
            .values()
            .map(|v| decode(TERMINALS, &v?))
            .collect()
    }

    pub fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.get_json(TOKENS, hash)
    }

    pub fn put_token(&self, hash: &[u8; 32], record: &TokenRecord) -> Result<(), StoreError> {
        self.put_json(TOKENS, hash, record)
    }

    /// Appends to the audit log.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.writable()?;
        let seq = audit_seq(self)?;
        self.tree(AUDIT)?.insert(seq.to_be_bytes(), encode(entry))?;
        Ok(())
    }

    /// The audit log, oldest first, from position `after` (exclusive), at most `limit` entries.
    pub fn audit_log(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        // Sequence 0 is "from the start": entries are numbered from 1 (older stores may hold
        // one at 0, which a read from the start includes).
        let start = match after {
            0 => 0u64,
            after => after.saturating_add(1),
        }
        .to_be_bytes();
        self.tree(AUDIT)?
            .range(start..)
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                let seq = u64::from_be_bytes(key.as_ref().try_into().unwrap_or([0; 8]));
                Ok((seq, decode(AUDIT, &value)?))
            })
            .collect()
    }
}
