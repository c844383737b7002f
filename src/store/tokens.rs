//! Tokens on sled: tree `tokens` (sha-256 of the token → whose it is) and `token_owners`
//! (principal key ‖ 0 ‖ token hash → nothing), which finds every token of a member or station
//! when they are disabled. Both are written with the people they belong to (`write_people`).

use super::people::{TOKENS, TOKEN_OWNERS};
use super::{encode, Store, StoreError};
use crate::domain::org::Principal;
use crate::repo::{owner_key, TokenRecord, TokenRepo};

impl TokenRepo for Store {
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.get_json(TOKENS, hash)
    }

    fn put_token(&self, hash: &[u8; 32], record: &TokenRecord) -> Result<(), StoreError> {
        self.put_json(TOKENS, hash, record)
    }

    fn tokens_of(&self, principal: &Principal) -> Result<Vec<[u8; 32]>, StoreError> {
        let Some(prefix) = owner_key(principal) else {
            return Ok(Vec::new());
        };
        let mut hashes = Vec::new();
        for key in self.tree(TOKEN_OWNERS)?.scan_prefix(&prefix).keys() {
            let key = key?;
            if let Ok(hash) = <[u8; 32]>::try_from(&key[prefix.len()..]) {
                hashes.push(hash);
            }
        }
        Ok(hashes)
    }

    fn index_token_owners(&self) -> Result<usize, StoreError> {
        let owners = self.tree(TOKEN_OWNERS)?;
        if !owners.is_empty() {
            return Ok(0);
        }
        let mut indexed = 0;
        for entry in self.tree(TOKENS)?.iter() {
            let (hash, value) = entry?;
            let record: TokenRecord = super::decode(TOKENS, &value)?;
            if let Some(mut owner) = owner_key(&record.principal) {
                owner.extend_from_slice(&hash);
                owners.insert(owner, &[])?;
                indexed += 1;
            }
        }
        Ok(indexed)
    }

    fn touch_token(&self, hash: &[u8; 32], day: u32) -> Result<(), StoreError> {
        let tree = self.tree(TOKENS)?;
        let Some(old) = tree.get(hash)? else {
            return Ok(());
        };
        let record: TokenRecord = super::decode(TOKENS, &old)?;
        let Some(record) = record.used_on(day) else {
            return Ok(());
        };
        self.writable()?;
        // Lost to a concurrent write: that write is newer, and the day can wait for the next use.
        let _ = tree.compare_and_swap(hash, Some(old), Some(encode(&record)))?;
        Ok(())
    }

    fn tokens(
        &self,
        after: Option<[u8; 32]>,
        limit: usize,
    ) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        let tree = self.tree(TOKENS)?;
        let range = match after {
            Some(hash) => tree.range((
                std::ops::Bound::Excluded(hash.to_vec()),
                std::ops::Bound::Unbounded,
            )),
            None => tree.range::<Vec<u8>, _>(..),
        };
        range
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                let hash = <[u8; 32]>::try_from(key.as_ref()).map_err(|_| StoreError::Corrupt {
                    tree: TOKENS,
                    reason: "a token key is not a sha-256".into(),
                })?;
                Ok((hash, super::decode(TOKENS, &value)?))
            })
            .collect()
    }

    fn tokens_with_prefix(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        let mut found = Vec::new();
        for entry in self.tree(TOKENS)?.scan_prefix(prefix) {
            let (key, value) = entry?;
            if let Ok(hash) = <[u8; 32]>::try_from(key.as_ref()) {
                found.push((hash, super::decode(TOKENS, &value)?));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::super::people::{AUDIT, MEMBERS, TERMINALS};
    use super::*;
    use crate::disk::FreeSpaceFloor;
    use crate::repo::{AuditEntry, AuditRepo, PeopleRepo, PeopleWrite, Terminal};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), FreeSpaceFloor::new(dir.path(), 0)).unwrap();
        (dir, store)
    }

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            at_ms: 1,
            actor: "admin".into(),
            token: Some("00ff".into()),
            action: action.into(),
            subject: "st-1".into(),
            detail: serde_json::Value::Null,
        }
    }

    fn terminal() -> Terminal {
        Terminal {
            id: "st-1".into(),
            name: "站".into(),
            org: "o".into(),
            languages: vec![],
            audiences: vec![],
            disabled: false,
        }
    }

    #[test]
    fn a_change_and_its_audit_entry_are_one_transaction() {
        let (_dir, store) = store();
        let token = TokenRecord {
            principal: Principal::Terminal {
                station: "st-1".into(),
                org: "o".into(),
            },
            created_ms: 1,
            expires_ms: None,
            revoked: false,
            label: "station st-1".into(),
            last_used_day: None,
        };
        let write = PeopleWrite {
            terminals: vec![terminal()],
            tokens: vec![([7; 32], token.clone())],
            audit: vec![entry("terminal.create"), entry("token.issue")],
            ..PeopleWrite::default()
        };
        store.write_people(&write).unwrap();
        assert_eq!(store.terminal("st-1").unwrap(), Some(terminal()));
        assert_eq!(store.token(&[7; 32]).unwrap(), Some(token.clone()));
        assert_eq!(store.tokens_of(&token.principal).unwrap(), vec![[7; 32]]);
        let log = store.audit_log(0, 10).unwrap();
        let actions: Vec<_> = log.iter().map(|(_, e)| e.action.as_str()).collect();
        assert_eq!(actions, ["terminal.create", "token.issue"]);
        assert_eq!(log[0].1.token.as_deref(), Some("00ff"));
    }

    #[test]
    fn a_write_refused_for_space_leaves_neither_change_nor_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), FreeSpaceFloor::new(dir.path(), u64::MAX)).unwrap();
        let write = PeopleWrite {
            terminals: vec![terminal()],
            audit: vec![entry("terminal.create")],
            ..PeopleWrite::default()
        };
        assert!(matches!(
            store.write_people(&write),
            Err(StoreError::Space(_))
        ));
        assert_eq!(store.terminal("st-1").unwrap(), None);
        assert!(store.audit_log(0, 10).unwrap().is_empty());
    }

    #[test]
    fn records_written_before_disabling_and_token_ids_existed_still_read() {
        let (_dir, store) = store();
        // Bytes as the previous release stored them: version 1, JSON without the new fields.
        let old_member = br#"{"member":{"id":"M1","name":"n","org":"o","home_org":null,"posts":["member"],"field":"rural","joined":"2019-07-01","languages":[]},"pin_hash":"","failed_sign_ins":2,"locked_until_ms":9}"#;
        let old_token = br#"{"principal":{"role":"member","member":"M1"},"created_ms":5,"expires_ms":null,"revoked":false}"#;
        let old_terminal = br#"{"id":"st-9","name":"n","org":"o","languages":[],"audiences":[]}"#;
        let old_audit =
            br#"{"at_ms":1,"actor":"admin","action":"org.create","subject":"o","detail":null}"#;
        let put = |tree: &'static str, key: &[u8], json: &[u8]| {
            let mut value = vec![1u8];
            value.extend_from_slice(json);
            store.tree(tree).unwrap().insert(key, value).unwrap();
        };
        put(MEMBERS, b"M1", old_member);
        put(TOKENS, &[3; 32], old_token);
        put(TERMINALS, b"st-9", old_terminal);
        put(AUDIT, &1u64.to_be_bytes(), old_audit);
        let member = store.member("M1").unwrap().unwrap();
        assert!(!member.disabled);
        assert_eq!((member.failed_sign_ins, member.locked_until_ms), (2, 9));
        let token = store.token(&[3; 32]).unwrap().unwrap();
        assert_eq!((token.label.as_str(), token.last_used_day), ("", None));
        assert!(!store.terminal("st-9").unwrap().unwrap().disabled);
        assert_eq!(store.audit_log(0, 1).unwrap()[0].1.token, None);
        // The owner index is made from what is there.
        assert_eq!(store.index_token_owners().unwrap(), 1);
        assert_eq!(store.tokens_of(&token.principal).unwrap(), vec![[3; 32]]);
    }
}
