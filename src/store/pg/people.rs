//! People, tokens and the audit log on PostgreSQL: tables `orgs`, `members`, `terminals`,
//! `tokens` (with the owner key beside each, so a principal's tokens are one indexed query) and
//! `audit` (numbered from the `audit` counter inside the writing transaction). A people write is
//! one transaction, so a change is never stored without its audit entry, nor an entry without it.

use super::super::decode;
use super::{bytes, exec, next, params, record, PgStore};
use crate::domain::org::{Org, OrgTree, Principal};
use crate::repo::*;
use std::sync::Arc;
use tokio_postgres::Row;

const ORGS: &str = "orgs";
const MEMBERS: &str = "members";
const TERMINALS: &str = "terminals";
const TOKENS: &str = "tokens";
const AUDIT: &str = "audit";

/// A `LIMIT` parameter: PostgreSQL's bigint, saturating.
fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Decodes the `value` column (the second) of every row.
fn values<T: serde::de::DeserializeOwned>(
    table: &'static str,
    rows: &[Row],
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|row| decode(table, &row.get::<_, Vec<u8>>(1)))
        .collect()
}

/// A `tokens.hash`, which is always a sha-256.
fn hash_of(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| StoreError::Corrupt {
        tree: TOKENS,
        reason: "a token key is not a sha-256".into(),
    })
}

/// The least byte string above every string that begins with `prefix`; None when there is
/// none (the prefix is empty or all 0xff), so the range has no upper end.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

const PUT_ORG: &str =
    "INSERT INTO orgs (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value";
const PUT_MEMBER: &str =
    "INSERT INTO members (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value";
const PUT_TERMINAL: &str =
    "INSERT INTO terminals (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value";
const PUT_TOKEN: &str = "INSERT INTO tokens (hash, owner, value) VALUES ($1, $2, $3) \
     ON CONFLICT (hash) DO UPDATE SET owner = EXCLUDED.owner, value = EXCLUDED.value";
const PUT_AUDIT: &str = "INSERT INTO audit (seq, value) VALUES ($1, $2)";

/// A token row to write: hash, owner key, record bytes.
type TokenRow = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

impl PeopleRepo for PgStore {
    fn org(&self, id: &str) -> Result<Option<Org>, StoreError> {
        let value = self.value(
            "SELECT value FROM orgs WHERE id = $1",
            params![id.to_string()],
        )?;
        record(ORGS, value)
    }

    fn put_org(&self, org: &Org) -> Result<(), StoreError> {
        self.execute(PUT_ORG, params![org.id.clone(), bytes(org)])?;
        Ok(())
    }

    fn orgs(&self) -> Result<Vec<Org>, StoreError> {
        Ok(self.org_directory()?.orgs.clone())
    }

    fn org_tree(&self) -> Result<Arc<OrgTree>, StoreError> {
        Ok(self.org_directory()?.tree.clone())
    }

    /// Not cached: every call reads the table, which is small, and another server process may
    /// have written it since.
    fn org_directory(&self) -> Result<Arc<OrgDirectory>, StoreError> {
        let rows = self.rows(
            "SELECT id, value FROM orgs ORDER BY id COLLATE \"C\"",
            params![],
        )?;
        let records = rows.iter().map(|row| {
            let id: String = row.get(0);
            let record = decode::<Org>(ORGS, &row.get::<_, Vec<u8>>(1));
            (id, record)
        });
        Ok(Arc::new(OrgDirectory::of(records)))
    }

    fn member(&self, id: &str) -> Result<Option<MemberRecord>, StoreError> {
        let value = self.value(
            "SELECT value FROM members WHERE id = $1",
            params![id.to_string()],
        )?;
        record(MEMBERS, value)
    }

    fn put_member(&self, record: &MemberRecord) -> Result<(), StoreError> {
        self.execute(PUT_MEMBER, params![record.member.id.clone(), bytes(record)])?;
        Ok(())
    }

    fn members(&self) -> Result<Vec<MemberRecord>, StoreError> {
        let rows = self.rows(
            "SELECT id, value FROM members ORDER BY id COLLATE \"C\"",
            params![],
        )?;
        values(MEMBERS, &rows)
    }

    fn terminal(&self, id: &str) -> Result<Option<Terminal>, StoreError> {
        let value = self.value(
            "SELECT value FROM terminals WHERE id = $1",
            params![id.to_string()],
        )?;
        record(TERMINALS, value)
    }

    fn put_terminal(&self, terminal: &Terminal) -> Result<(), StoreError> {
        self.execute(PUT_TERMINAL, params![terminal.id.clone(), bytes(terminal)])?;
        Ok(())
    }

    fn terminals(&self) -> Result<Vec<Terminal>, StoreError> {
        let rows = self.rows(
            "SELECT id, value FROM terminals ORDER BY id COLLATE \"C\"",
            params![],
        )?;
        values(TERMINALS, &rows)
    }

    fn write_people(&self, write: &PeopleWrite) -> Result<(), StoreError> {
        self.writable()?;
        // Encoded before the transaction, which needs owned data.
        let orgs: Vec<(String, Vec<u8>)> = write
            .orgs
            .iter()
            .map(|o| (o.id.clone(), bytes(o)))
            .collect();
        let members: Vec<(String, Vec<u8>)> = write
            .members
            .iter()
            .map(|r| (r.member.id.clone(), bytes(r)))
            .collect();
        let terminals: Vec<(String, Vec<u8>)> = write
            .terminals
            .iter()
            .map(|t| (t.id.clone(), bytes(t)))
            .collect();
        let tokens: Vec<TokenRow> = write
            .tokens
            .iter()
            .map(|(hash, r)| (hash.to_vec(), owner_key(&r.principal), bytes(r)))
            .collect();
        let audit: Vec<Vec<u8>> = write.audit.iter().map(bytes).collect();
        self.transaction(move |tx| {
            Box::pin(async move {
                for (sql, rows) in [
                    (PUT_ORG, orgs),
                    (PUT_MEMBER, members),
                    (PUT_TERMINAL, terminals),
                ] {
                    for (id, value) in rows {
                        exec(tx, sql, &params![id, value]).await?;
                    }
                }
                for (hash, owner, value) in tokens {
                    exec(tx, PUT_TOKEN, &params![hash, owner, value]).await?;
                }
                for value in audit {
                    let seq = next(tx, AUDIT).await?;
                    exec(tx, PUT_AUDIT, &params![seq, value]).await?;
                }
                Ok(())
            })
        })
    }
}

impl AuditRepo for PgStore {
    fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.writable()?;
        let value = bytes(entry);
        self.transaction(move |tx| {
            Box::pin(async move {
                let seq = next(tx, AUDIT).await?;
                exec(tx, PUT_AUDIT, &params![seq, value]).await?;
                Ok(())
            })
        })
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        // Entries are numbered from 1, so `seq > after` reads from the start when after is 0.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let rows = self.rows(
            "SELECT seq, value FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
            params![after, limit_param(limit)],
        )?;
        rows.iter()
            .map(|row| {
                let seq = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
                Ok((seq, decode(AUDIT, &row.get::<_, Vec<u8>>(1))?))
            })
            .collect()
    }
}

impl TokenRepo for PgStore {
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let value = self.value(
            "SELECT value FROM tokens WHERE hash = $1",
            params![hash.to_vec()],
        )?;
        record(TOKENS, value)
    }

    fn put_token(&self, hash: &[u8; 32], record: &TokenRecord) -> Result<(), StoreError> {
        self.execute(
            PUT_TOKEN,
            params![hash.to_vec(), owner_key(&record.principal), bytes(record)],
        )?;
        Ok(())
    }

    fn tokens_of(&self, principal: &Principal) -> Result<Vec<[u8; 32]>, StoreError> {
        let Some(owner) = owner_key(principal) else {
            return Ok(Vec::new());
        };
        let rows = self.rows(
            "SELECT hash FROM tokens WHERE owner = $1 ORDER BY hash",
            params![owner],
        )?;
        // As on sled, a key that is not a sha-256 is not a token's.
        Ok(rows
            .iter()
            .filter_map(|row| <[u8; 32]>::try_from(row.get::<_, &[u8]>(0)).ok())
            .collect())
    }

    /// Every write of a token writes its owner column, so there is never anything to index.
    fn index_token_owners(&self) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn touch_token(&self, hash: &[u8; 32], day: u32) -> Result<(), StoreError> {
        let Some(old) = self.value(
            "SELECT value FROM tokens WHERE hash = $1",
            params![hash.to_vec()],
        )?
        else {
            return Ok(());
        };
        let record: TokenRecord = decode(TOKENS, &old)?;
        let Some(record) = record.used_on(day) else {
            return Ok(());
        };
        // Only over the bytes read: a concurrent write is newer, and the day can wait for the
        // next use.
        self.execute(
            "UPDATE tokens SET value = $3 WHERE hash = $1 AND value = $2",
            params![hash.to_vec(), old, bytes(&record)],
        )?;
        Ok(())
    }

    fn tokens(
        &self,
        after: Option<[u8; 32]>,
        limit: usize,
    ) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        let limit = limit_param(limit);
        let rows = match after {
            Some(after) => self.rows(
                "SELECT hash, value FROM tokens WHERE hash > $1 ORDER BY hash LIMIT $2",
                params![after.to_vec(), limit],
            )?,
            None => self.rows(
                "SELECT hash, value FROM tokens ORDER BY hash LIMIT $1",
                params![limit],
            )?,
        };
        rows.iter()
            .map(|row| {
                let hash = hash_of(row.get::<_, &[u8]>(0))?;
                Ok((hash, decode(TOKENS, &row.get::<_, Vec<u8>>(1))?))
            })
            .collect()
    }

    fn tokens_with_prefix(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        // A range over the primary key, so the index serves it.
        let rows = self.rows(
            "SELECT hash, value FROM tokens \
             WHERE hash >= $1 AND ($2::bytea IS NULL OR hash < $2) ORDER BY hash",
            params![prefix.to_vec(), prefix_end(prefix)],
        )?;
        let mut found = Vec::new();
        for row in &rows {
            if let Ok(hash) = <[u8; 32]>::try_from(row.get::<_, &[u8]>(0)) {
                found.push((hash, decode(TOKENS, &row.get::<_, Vec<u8>>(1))?));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_range_ends_after_every_string_it_begins() {
        assert_eq!(prefix_end(&[3, 3]), Some(vec![3, 4]));
        assert_eq!(prefix_end(&[3, 0xff]), Some(vec![4]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }
}
