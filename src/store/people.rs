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

const ORGS: &str = "orgs";
const MEMBERS: &str = "members";
const TERMINALS: &str = "terminals";
const TOKENS: &str = "tokens";
const AUDIT: &str = "audit";

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

    fn invalidate(&self) {
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub principal: Principal,
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: u64,
    /// Who acted, e.g. `admin`, `manager:xz-nq`, `cli`.
    pub actor: String,
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
        let seq = self.db.generate_id()?;
        self.tree(AUDIT)?.insert(seq.to_be_bytes(), encode(entry))?;
        Ok(())
    }

    /// The audit log, oldest first, from position `after` (exclusive), at most `limit` entries.
    pub fn audit_log(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
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
