//! The ledger: one tree, `ledger`, so that everything one request changes is written in one
//! atomic batch. Keys by prefix:
//! - `M` member 0 seq (u64, big-endian) → an entry: append-only, never changed, with actor and
//!   time; the sequence orders all entries, the key groups them by member (a member's state is
//!   one range scan). Ledgers written before kept the entry under `E` seq and an empty value
//!   here; both are read.
//! - `R` report id, `G` registration id → the member and the digest of the body first seen;
//! - `T` year (i32 + 2^31, big-endian) member → that member's totals for the year, kept up to
//!   date with every entry so that reports need not replay the ledger;
//! - `S` session id → a group session;
//! - `H` member → the member's head (u64, big-endian; see `LedgerRepo::member_head`).

use super::ledger_codec::{decode_entry, encode_entry};
use super::{decode_any, encode, encode_compact, Store, StoreError};
use crate::domain::group::GroupSession;
use crate::repo::{IdKind, LedgerEntry, LedgerRepo, LedgerWrite, MemberYear, SeenId};
use std::collections::{BTreeMap, HashMap, HashSet};

const TREE: &str = "ledger";

fn id_key(kind: IdKind, id: &str) -> Vec<u8> {
    let prefix = match kind {
        IdKind::Report => b'R',
        IdKind::Registration => b'G',
    };
    [&[prefix], id.as_bytes()].concat()
}

fn year_bytes(year: i32) -> [u8; 4] {
    (year as u32 ^ 0x8000_0000).to_be_bytes()
}

fn head_key(member: &str) -> Vec<u8> {
    [b"H", member.as_bytes()].concat()
}

fn member_prefix(member: &str) -> Vec<u8> {
    [b"M", member.as_bytes(), &[0]].concat()
}

impl Store {
    fn entries_under(&self, prefix: &[u8]) -> Result<Vec<LedgerEntry>, StoreError> {
        let tree = self.tree(TREE)?;
        let mut entries = Vec::new();
        for item in tree.scan_prefix(prefix) {
            let (key, value) = item?;
            if !value.is_empty() {
                entries.push(decode_entry(TREE, &value)?);
                continue;
            }
            // Written before entries moved here: the sequence ends the key.
            let seq = &key[key.len().saturating_sub(8)..];
            if let Some(old) = tree.get([b"E", seq].concat())? {
                entries.push(decode_entry(TREE, &old)?);
            }
        }
        Ok(entries)
    }
}

impl LedgerRepo for Store {
    fn seen_id(&self, kind: IdKind, id: &str) -> Result<Option<SeenId>, StoreError> {
        self.get_with(TREE, &id_key(kind, id), decode_any)
    }

    fn member_entries(&self, member: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.entries_under(&member_prefix(member))
    }

    fn ledger_entries(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        self.entries_under(b"M")
    }

    fn member_year(&self, member: &str, year: i32) -> Result<Option<MemberYear>, StoreError> {
        let key = [b"T", &year_bytes(year)[..], member.as_bytes()].concat();
        self.get_with(TREE, &key, decode_any)
    }

    fn year_totals(&self, year: i32) -> Result<BTreeMap<String, MemberYear>, StoreError> {
        let prefix = [b"T", &year_bytes(year)[..]].concat();
        let mut totals = BTreeMap::new();
        for item in self.tree(TREE)?.scan_prefix(&prefix) {
            let (key, value) = item?;
            let member = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            totals.insert(member, decode_any(TREE, &value)?);
        }
        Ok(totals)
    }

    fn all_totals(&self) -> Result<BTreeMap<(i32, String), MemberYear>, StoreError> {
        let mut totals = BTreeMap::new();
        for item in self.tree(TREE)?.scan_prefix(b"T") {
            let (key, value) = item?;
            let year = u32::from_be_bytes([key[1], key[2], key[3], key[4]]) ^ 0x8000_0000;
            let member = String::from_utf8_lossy(&key[5..]).into_owned();
            totals.insert((year as i32, member), decode_any(TREE, &value)?);
        }
        Ok(totals)
    }

    fn group_session(&self, id: &str) -> Result<Option<GroupSession>, StoreError> {
        self.get_json(TREE, &[b"S", id.as_bytes()].concat())
    }

    fn apply_ledger_writes(&self, writes: &[&LedgerWrite]) -> Result<(), StoreError> {
        let tree = self.tree(TREE)?;
        let mut batch = sled::Batch::default();
        // One process writes a sled ledger, and the group flush applies one batch at a time,
        // so heads read here cannot change before the batch lands.
        let mut heads: HashMap<&str, u64> = HashMap::new();
        let mut new_ids: HashSet<Vec<u8>> = HashSet::new();
        for write in writes {
            for (member, expected, next) in &write.heads {
                let head = match heads.get(member.as_str()) {
                    Some(head) => *head,
                    None => self.member_head(member)?,
                };
                if head != *expected {
                    return Err(StoreError::Stale("a member was written since it was read"));
                }
                heads.insert(member, *next);
            }
            for (kind, id, _) in &write.ids {
                let key = id_key(*kind, id);
                if !new_ids.insert(key.clone()) || tree.contains_key(&key)? {
                    return Err(StoreError::Stale("an id was stored since it was checked"));
                }
            }
            for entry in &write.entries {
                let seq = self.db.generate_id()?.to_be_bytes();
                let key = [member_prefix(&entry.member), seq.to_vec()].concat();
                batch.insert(key, encode_entry(entry));
            }
            for (kind, id, seen) in &write.ids {
                batch.insert(id_key(*kind, id), encode_compact(seen));
            }
            for (year, member, totals) in &write.totals {
                let key = [b"T", &year_bytes(*year)[..], member.as_bytes()].concat();
                batch.insert(key, encode_compact(totals));
            }
            if let Some(session) = &write.session {
                batch.insert([b"S", session.id.as_bytes()].concat(), encode(session));
            }
        }
        for (member, head) in heads {
            batch.insert(head_key(member), &head.to_be_bytes());
        }
        tree.apply_batch(batch)?;
        Ok(())
    }

    fn member_head(&self, member: &str) -> Result<u64, StoreError> {
        let stored = self.tree(TREE)?.get(head_key(member))?;
        Ok(stored
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::disk::FreeSpaceFloor;
    use crate::domain::watch::Registration;
    use crate::repo::EntryKind;

    fn registration(id: &str, member: &str) -> LedgerEntry {
        LedgerEntry {
            at_ms: 1,
            actor: "admin".into(),
            member: member.into(),
            kind: EntryKind::Registration(Registration {
                id: id.into(),
                date: "2026-03-02".into(),
                duration_ms: 60_000,
                reason: "课".into(),
                centralised: false,
                corrects: None,
            }),
        }
    }

    #[test]
    fn entries_kept_the_old_way_and_the_new_are_read_together_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), FreeSpaceFloor::new(dir.path(), 0)).unwrap();
        let tree = store.tree(TREE).unwrap();
        // The layout before: the entry under E, an empty marker under M.
        for (id, member) in [("g1", "M1"), ("g2", "M2"), ("g3", "M1")] {
            let seq = store.db.generate_id().unwrap().to_be_bytes();
            tree.insert([b"E", &seq[..]].concat(), encode(&registration(id, member)))
                .unwrap();
            tree.insert([member_prefix(member), seq.to_vec()].concat(), &[])
                .unwrap();
        }
        store
            .apply_ledger_writes(&[&LedgerWrite {
                entries: vec![registration("g4", "M1"), registration("g5", "M2")],
                ..LedgerWrite::default()
            }])
            .unwrap();
        let ids = |entries: Vec<LedgerEntry>| -> Vec<String> {
            entries
                .into_iter()
                .map(|e| match e.kind {
                    EntryKind::Registration(r) => format!("{}:{}", e.member, r.id),
                    _ => unreachable!(),
                })
                .collect()
        };
        assert_eq!(
            ids(store.member_entries("M1").unwrap()),
            ["M1:g1", "M1:g3", "M1:g4"]
        );
        assert_eq!(
            ids(store.ledger_entries().unwrap()),
            ["M1:g1", "M1:g3", "M1:g4", "M2:g2", "M2:g5"]
        );
    }
}
