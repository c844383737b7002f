//! Schema migrations: embedded, numbered, forward only, each applied once in the transaction
//! that records it. Processes starting together take an advisory lock, so one migrates and the
//! others find it done.

use super::{backend, exec, params, query};
use crate::repo::StoreError;
use tokio_postgres::Transaction;

/// (version, SQL), in order. A released migration is never edited: a change is a new one.
pub(super) const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("schema/0001_repositories.sql")),
    (2, include_str!("schema/0002_ledger_heads.sql")),
];

/// An arbitrary constant: the advisory lock yuanjiao's migrations are made under.
const LOCK: i64 = 0x7975_616e_6a69_616f;

pub(super) async fn run(tx: &Transaction<'_>) -> Result<Vec<i32>, StoreError> {
    exec(tx, "SELECT pg_advisory_xact_lock($1)", &params![LOCK]).await?;
    exec(
        tx,
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        &params![],
    )
    .await?;
    let rows = query(tx, "SELECT max(version) FROM schema_migrations", &params![]).await?;
    let current: i32 = rows
        .first()
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0);
    if let Some(&(newest, _)) = MIGRATIONS.last() {
        if current > newest {
            return Err(StoreError::Corrupt {
                tree: "schema_migrations",
                reason: format!(
                    "the database is at schema {current}, newer than this server's {newest}: \
                     run the newer server"
                ),
            });
        }
    }
    let mut applied = Vec::new();
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await.map_err(backend)?;
        exec(
            tx,
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &params![version],
        )
        .await?;
        applied.push(version);
    }
    Ok(applied)
}
