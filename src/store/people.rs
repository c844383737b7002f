//! People on sled: tree `orgs` (id → organisation), `members` (id → member with PIN hash and
//! sign-in failures), `terminals` (id → station) and `audit` (sequence, big-endian → who changed
//! what, when). A people write is one sled transaction over these trees and the tokens', so a
//! change is never on disk without its audit entry, nor an entry without its change.

use super::{decode, encode, Store, StoreError};
use crate::domain::org::{Org, OrgTree};
use crate::repo::{
    owner_key, AuditEntry, AuditRepo, MemberRecord, OrgDirectory, PeopleRepo, PeopleWrite, Terminal,
};
use sled::transaction::{TransactionError, Transactional};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub(super) const ORGS: &str = "orgs";
pub(super) const MEMBERS: &str = "members";
pub(super) const TERMINALS: &str = "terminals";
pub(super) const TOKENS: &str = "tokens";
pub(super) const AUDIT: &str = "audit";
pub(super) const TOKEN_OWNERS: &str = "token_owners";

/// The position of a new audit entry: never 0, which `audit_log` reads as "the start".
pub(super) fn audit_seq(store: &Store) -> Result<u64, StoreError> {
    Ok(store.db.generate_id()?.saturating_add(1))
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

impl PeopleRepo for Store {
    fn org(&self, id: &str) -> Result<Option<Org>, StoreError> {
        self.get_json(ORGS, id.as_bytes())
    }

    fn put_org(&self, org: &Org) -> Result<(), StoreError> {
        let written = self.put_json(ORGS, org.id.as_bytes(), org);
        self.org_cache.invalidate();
        written
    }

    fn orgs(&self) -> Result<Vec<Org>, StoreError> {
        Ok(self.org_directory()?.orgs.clone())
    }

    fn org_tree(&self) -> Result<Arc<OrgTree>, StoreError> {
        Ok(self.org_directory()?.tree.clone())
    }

    fn org_directory(&self) -> Result<Arc<OrgDirectory>, StoreError> {
        let generation = self.org_cache.generation.load(Ordering::SeqCst);
        if let Some((at, directory)) = &*self.org_cache.lock() {
            if *at == generation {
                return Ok(directory.clone());
            }
        }
        let mut records = Vec::new();
        for item in self.tree(ORGS)?.iter() {
            let (key, value) = item?;
            let id = String::from_utf8_lossy(&key).into_owned();
            records.push((id, decode::<Org>(ORGS, &value)));
        }
        let directory = Arc::new(OrgDirectory::of(records));
        let mut cached = self.org_cache.lock();
        // Kept only if nothing was written while it was read.
        if self.org_cache.generation.load(Ordering::SeqCst) == generation {
            *cached = Some((generation, directory.clone()));
        }
        Ok(directory)
    }

    fn member(&self, id: &str) -> Result<Option<MemberRecord>, StoreError> {
        self.get_json(MEMBERS, id.as_bytes())
    }

    fn put_member(&self, record: &MemberRecord) -> Result<(), StoreError> {
        self.put_json(MEMBERS, record.member.id.as_bytes(), record)
    }

    fn members(&self) -> Result<Vec<MemberRecord>, StoreError> {
        self.tree(MEMBERS)?
            .iter()
            .values()
            .map(|v| decode(MEMBERS, &v?))
            .collect()
    }

    fn terminal(&self, id: &str) -> Result<Option<Terminal>, StoreError> {
        self.get_json(TERMINALS, id.as_bytes())
    }

    fn put_terminal(&self, terminal: &Terminal) -> Result<(), StoreError> {
        self.put_json(TERMINALS, terminal.id.as_bytes(), terminal)
    }

    fn terminals(&self) -> Result<Vec<Terminal>, StoreError> {
        self.tree(TERMINALS)?
            .iter()
            .values()
            .map(|v| decode(TERMINALS, &v?))
            .collect()
    }

    fn write_people(&self, write: &PeopleWrite) -> Result<(), StoreError> {
        self.writable()?;
        let names = [ORGS, MEMBERS, TERMINALS, TOKENS, TOKEN_OWNERS, AUDIT];
        let trees = names
            .iter()
            .map(|name| self.tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        // (tree index, key, value), made before the transaction: its closure may run twice.
        let mut puts: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
        for org in &write.orgs {
            puts.push((0, org.id.as_bytes().to_vec(), encode(org)));
        }
        for record in &write.members {
            puts.push((1, record.member.id.as_bytes().to_vec(), encode(record)));
        }
        for terminal in &write.terminals {
            puts.push((2, terminal.id.as_bytes().to_vec(), encode(terminal)));
        }
        for (hash, record) in &write.tokens {
            puts.push((3, hash.to_vec(), encode(record)));
            if let Some(mut owner) = owner_key(&record.principal) {
                owner.extend_from_slice(hash);
                puts.push((4, owner, Vec::new()));
            }
        }
        for entry in &write.audit {
            let seq = super::people::audit_seq(self)?;
            puts.push((5, seq.to_be_bytes().to_vec(), encode(entry)));
        }
        let written = trees
            .as_slice()
            .transaction(|t| {
                for (tree, key, value) in &puts {
                    t[*tree].insert(key.as_slice(), value.as_slice())?;
                }
                Ok(())
            })
            .map_err(|e: TransactionError<()>| match e {
                TransactionError::Storage(e) => e.into(),
                TransactionError::Abort(()) => StoreError::Corrupt {
                    tree: AUDIT,
                    reason: "a people transaction was aborted".into(),
                },
            });
        if !write.orgs.is_empty() {
            self.org_cache.invalidate();
        }
        written
    }
}

impl AuditRepo for Store {
    fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.writable()?;
        let seq = audit_seq(self)?;
        self.tree(AUDIT)?.insert(seq.to_be_bytes(), encode(entry))?;
        Ok(())
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
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
