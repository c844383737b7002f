//! The ledger, deliveries and rejection counts on PostgreSQL. Records are the sled store's
//! bytes: entries in the ledger codec, seen ids and totals compact, group sessions JSON.

use super::super::ledger_codec::{decode_entry, encode_entry};
use super::super::{decode_any, encode_compact};
use super::{exec, params, record, Params, PgStore};
use crate::domain::digest::Sha256;
use crate::domain::group::GroupSession;
use crate::repo::*;
use std::collections::BTreeMap;

/// The `kind` of `seen_ids`, a one-byte "char": the prefix sled keys the id under.
fn id_kind(kind: IdKind) -> i8 {
    match kind {
        IdKind::Report => b'R' as i8,
        IdKind::Registration => b'G' as i8,
    }
}

/// Every statement of a batch of ledger writes, in the order sled's batch applies them.
fn ledger_statements(writes: &[&LedgerWrite]) -> Vec<(&'static str, Params)> {
    let mut statements = Vec::new();
    for write in writes {
        for entry in &write.entries {
            statements.push((
                "INSERT INTO ledger_entries (member, value) VALUES ($1, $2)",
                params![entry.member.clone(), encode_entry(entry)],
            ));
        }
        for (kind, id, seen) in &write.ids {
            statements.push((
                // No update on conflict: an id is unique, whichever process stored it first.
                "INSERT INTO seen_ids (kind, id, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, id) DO NOTHING",
                params![id_kind(*kind), id.clone(), encode_compact(seen)],
            ));
        }
        for (year, member, totals) in &write.totals {
            statements.push((
                "INSERT INTO member_years (year, member, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (year, member) DO UPDATE SET value = EXCLUDED.value",
                params![*year, member.clone(), encode_compact(totals)],
            ));
        }
        if let Some(session) = &write.session {
            statements.push((
                "INSERT INTO group_sessions (id, value) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
                params![session.id.clone(), super::bytes(session)],
            ));
        }
    }
    statements
}

/// For each member of a batch, the head its first write was made from and the head its last
/// leaves (as bigint bits); a write made from another head than the one before it left makes
/// the batch stale at once.
fn expected_heads(writes: &[&LedgerWrite]) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let mut heads: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for write in writes {
        for (member, expected, next) in &write.heads {
            let (expected, next) = (*expected as i64, *next as i64);
            match heads.get_mut(member) {
                Some((_, last)) if *last == expected => *last = next,
                Some(_) => return Err(StoreError::Stale("a member was written since it was read")),
                None => {
                    heads.insert(member.clone(), (expected, next));
                }
            }
        }
    }
    Ok(heads
        .into_iter()
        .map(|(m, (from, to))| (m, from, to))
        .collect())
}

/// Locks the members' heads in member order (so processes never deadlock), checks each is
/// what the batch was made from, and moves it on.
async fn check_heads(
    tx: &tokio_postgres::Transaction<'_>,
    heads: &[(String, i64, i64)],
) -> Result<(), StoreError> {
    for (member, from, to) in heads {
        exec(
            tx,
            "INSERT INTO ledger_heads (member, version) VALUES ($1, 0) ON CONFLICT DO NOTHING",
            &params![member.clone()],
        )
        .await?;
        let rows = super::query(
            tx,
            "SELECT version FROM ledger_heads WHERE member = $1 FOR UPDATE",
            &params![member.clone()],
        )
        .await?;
        let head: i64 = rows.first().map_or(0, |r| r.get(0));
        if head != *from {
            return Err(StoreError::Stale("a member was written since it was read"));
        }
        exec(
            tx,
            "UPDATE ledger_heads SET version = $2 WHERE member = $1",
            &params![member.clone(), *to],
        )
        .await?;
    }
    Ok(())
}

impl PgStore {
    fn entries(&self, sql: &'static str, params: Params) -> Result<Vec<LedgerEntry>, StoreError> {
        self.rows(sql, params)?
            .iter()
            .map(|row| decode_entry("ledger_entries", row.get(0)))
            .collect()
    }
}

impl LedgerRepo for PgStore {
    fn seen_id(&self, kind: IdKind, id: &str) -> Result<Option<SeenId>, StoreError> {
        self.value(
            "SELECT value FROM seen_ids WHERE kind = $1 AND id = $2",
            params![id_kind(kind), id.to_string()],
        )?
        .map(|b| decode_any("seen_ids", &b))
        .transpose()
    }

    fn member_entries(&self, member: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.entries(
            "SELECT value FROM ledger_entries WHERE member = $1 ORDER BY seq",
            params![member.to_string()],
        )
    }

    fn ledger_entries(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        self.entries(
            "SELECT value FROM ledger_entries ORDER BY member COLLATE \"C\", seq",
            params![],
        )
    }

    fn member_year(&self, member: &str, year: i32) -> Result<Option<MemberYear>, StoreError> {
        self.value(
            "SELECT value FROM member_years WHERE year = $1 AND member = $2",
            params![year, member.to_string()],
        )?
        .map(|b| decode_any("member_years", &b))
        .transpose()
    }

    fn year_totals(&self, year: i32) -> Result<BTreeMap<String, MemberYear>, StoreError> {
        self.rows(
            "SELECT member, value FROM member_years WHERE year = $1",
            params![year],
        )?
        .iter()
        .map(|row| Ok((row.get(0), decode_any("member_years", row.get(1))?)))
        .collect()
    }

    fn all_totals(&self) -> Result<BTreeMap<(i32, String), MemberYear>, StoreError> {
        self.rows("SELECT year, member, value FROM member_years", params![])?
            .iter()
            .map(|row| {
                Ok((
                    (row.get(0), row.get(1)),
                    decode_any("member_years", row.get(2))?,
                ))
            })
            .collect()
    }

    fn group_session(&self, id: &str) -> Result<Option<GroupSession>, StoreError> {
        let value = self.value(
            "SELECT value FROM group_sessions WHERE id = $1",
            params![id.to_string()],
        )?;
        record("group_sessions", value)
    }

    /// No floor check, as on sled: the ledger checks it when a request hands its write over,
    /// and a write it accepted is then written.
    fn apply_ledger_writes(&self, writes: &[&LedgerWrite]) -> Result<(), StoreError> {
        let statements = ledger_statements(writes);
        let heads = expected_heads(writes)?;
        if statements.is_empty() && heads.is_empty() {
            return Ok(());
        }
        self.transaction(move |tx| {
            Box::pin(async move {
                check_heads(tx, &heads).await?;
                // One at a time, in order: entries inserted later get later sequence numbers.
                for (sql, params) in &statements {
                    if exec(tx, sql, params).await? == 0 {
                        return Err(StoreError::Stale("an id was stored since it was checked"));
                    }
                }
                Ok(())
            })
        })
    }

    fn member_head(&self, member: &str) -> Result<u64, StoreError> {
        let rows = self.rows(
            "SELECT version FROM ledger_heads WHERE member = $1",
            params![member.to_string()],
        )?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}

impl DeliveryRepo for PgStore {
    fn record_delivery(&self, to: &DeliveredTo, source: &Sha256) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO deliveries (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
            params![to.key(source)],
        )?;
        Ok(())
    }

    fn was_delivered(&self, to: &DeliveredTo, source: &Sha256) -> Result<bool, StoreError> {
        let found = self.rows(
            "SELECT 1 FROM deliveries WHERE key = $1",
            params![to.key(source)],
        )?;
        Ok(!found.is_empty())
    }

    /// Sled removes without checking the floor (removing frees space); so does this, which is
    /// why it does not go through `execute`.
    fn prune_deliveries(&self, issued_ms: i64) -> Result<usize, StoreError> {
        // bytea compares bytewise: every session key issued before the cut, never a station's.
        let end = issued_ms.max(0).to_be_bytes().to_vec();
        let removed = self.transaction(move |tx| {
            Box::pin(async move {
                exec(tx, "DELETE FROM deliveries WHERE key < $1", &params![end]).await
            })
        })?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }
}

/// Counts are kept as sled keeps them, saturating at u32.
const MAX_COUNT: i64 = u32::MAX as i64;

impl RejectionRepo for PgStore {
    fn count_rejections(
        &self,
        year: i32,
        member: &str,
        (no_evidence, unattended): (u32, u32),
    ) -> Result<(), StoreError> {
        self.writable()?;
        for (kind, add) in [(0i16, no_evidence), (1, unattended)] {
            if add == 0 {
                continue;
            }
            self.execute(
                "INSERT INTO rejections (year, member, kind, count) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (year, member, kind) \
                 DO UPDATE SET count = LEAST(rejections.count + EXCLUDED.count, $5)",
                params![year, member.to_string(), kind, i64::from(add), MAX_COUNT],
            )?;
        }
        Ok(())
    }

    fn rejections(&self, year: i32) -> Result<BTreeMap<String, (u32, u32)>, StoreError> {
        let mut out: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for row in self.rows(
            "SELECT member, kind, count FROM rejections WHERE year = $1",
            params![year],
        )? {
            let kind: i16 = row.get(1);
            let count: i64 = row.get(2);
            let n = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
            let counts = out.entry(row.get(0)).or_default();
            if kind == 0 {
                counts.0 = n;
            } else {
                counts.1 = n;
            }
        }
        Ok(out)
    }
}
