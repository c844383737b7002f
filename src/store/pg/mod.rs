//! The repositories on PostgreSQL (`storage.backend = "postgres"`), for a province that runs
//! several server processes on one database. Values are the sled store's versioned record
//! bytes; see `schema/` for the tables. The repository traits are synchronous (use cases call
//! them on the blocking pool), so the store drives tokio-postgres on a small runtime of its own
//! and waits for each query: whichever thread asks, async or not, never needs a runtime of its
//! own to be running.

mod catalog;
mod ledger;
mod media;
mod migrate;
mod people;

use super::{decode, encode};
use crate::disk::FreeSpaceFloor;
use crate::repo::{Repositories, SecretRepo, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Transaction};

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// e.g. `postgres://yuanjiao@127.0.0.1:5432/yuanjiao`.
    pub url: String,
    pub pool_size: usize,
    /// Longer statements are cancelled by the server.
    pub statement_timeout: Duration,
}

pub struct PgStore {
    pool: Pool,
    /// Taken only by `drop`.
    runtime: Option<tokio::runtime::Runtime>,
    floor: FreeSpaceFloor,
}

impl Drop for PgStore {
    /// Without waiting: the store may be dropped on an async worker, where blocking is not
    /// allowed, and nothing is left to finish (every query was waited for).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Query parameters, owned, so a query can run on the store's runtime.
pub(super) type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// `params![a, b]`: owned query parameters.
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        vec![$(Box::new($p) as Box<dyn tokio_postgres::types::ToSql + Sync + Send>),*]
    };
}
pub(super) use params;

fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub(super) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl PgStore {
    /// Connects, and brings the schema up to date (see `migrate`).
    pub fn open(config: &PgConfig, floor: FreeSpaceFloor) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("yj-postgres")
            .enable_all()
            .build()
            .map_err(backend)?;
        let mut pg: tokio_postgres::Config = config.url.parse().map_err(backend)?;
        let timeout_ms = config.statement_timeout.as_millis();
        pg.options(format!("-c statement_timeout={timeout_ms}"));
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(backend)?;
        let store = PgStore {
            pool,
            runtime: Some(runtime),
            floor,
        };
        store.transaction(|tx| Box::pin(migrate::run(tx)))?;
        Ok(store)
    }

    /// Runs `work` on the store's runtime and waits for it.
    fn block<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, wait) = mpsc::sync_channel(1);
        let Some(runtime) = &self.runtime else {
            return Err(StoreError::Closed("the database runtime stopped"));
        };
        runtime.spawn(async move {
            let _ = done.send(work.await);
        });
        wait.recv()
            .unwrap_or(Err(StoreError::Closed("the database runtime stopped")))
    }

    /// The rows a statement returns.
    pub(super) fn rows(&self, sql: &'static str, params: Params) -> Result<Vec<Row>, StoreError> {
        let pool = self.pool.clone();
        self.block(async move {
            let client = pool.get().await.map_err(backend)?;
            client.query(sql, &refs(&params)).await.map_err(backend)
        })
    }

    /// The first column of the one row a statement may return.
    pub(super) fn value(
        &self,
        sql: &'static str,
        params: Params,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.rows(sql, params)?.first().map(|r| r.get(0)))
    }

    /// Runs a statement that writes; returns how many rows it touched.
    pub(super) fn execute(&self, sql: &'static str, params: Params) -> Result<u64, StoreError> {
        self.writable()?;
        let pool = self.pool.clone();
        self.block(async move {
            let client = pool.get().await.map_err(backend)?;
            client.execute(sql, &refs(&params)).await.map_err(backend)
        })
    }

    /// Runs `work` in one transaction, committed if it returns Ok.
    pub(super) fn transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t Transaction<'t>) -> BoxFuture<'t, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let pool = self.pool.clone();
        self.block(async move {
            let mut client = pool.get().await.map_err(backend)?;
            let tx = client.transaction().await.map_err(backend)?;
            let out = work(&tx).await?;
            tx.commit().await.map_err(backend)?;
            Ok(out)
        })
    }

    /// Every write runs through here first: refused while the disk is nearly full, as on sled
    /// (the blobs share the disk even when the database does not).
    fn writable(&self) -> Result<(), StoreError> {
        Ok(self.floor.check()?)
    }
}

/// Runs one statement of a transaction.
pub(super) async fn exec(
    tx: &Transaction<'_>,
    sql: &str,
    params: &Params,
) -> Result<u64, StoreError> {
    tx.execute(sql, &refs(params)).await.map_err(backend)
}

/// The rows of one statement of a transaction.
pub(super) async fn query(
    tx: &Transaction<'_>,
    sql: &str,
    params: &Params,
) -> Result<Vec<Row>, StoreError> {
    tx.query(sql, &refs(params)).await.map_err(backend)
}

/// Takes the next number of a counter, inside the writing transaction, so numbers appear to
/// readers in the order they were given.
pub(super) async fn next(tx: &Transaction<'_>, counter: &'static str) -> Result<i64, StoreError> {
    let row = tx
        .query_one(
            "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value",
            &[&counter],
        )
        .await
        .map_err(backend)?;
    Ok(row.get(0))
}

impl Repositories for PgStore {
    /// Every statement commits durably on its own (PostgreSQL's group commit batches them).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn is_open(&self) -> bool {
        self.rows("SELECT 1", params![]).is_ok()
    }

    fn writable(&self) -> Result<(), StoreError> {
        PgStore::writable(self)
    }
}

impl SecretRepo for PgStore {
    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let made: [u8; 32] = rand::random();
        // The first process to make it wins; every other reads what it made.
        self.execute(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            params![name.to_string(), made.to_vec()],
        )?;
        let stored = self.value(
            "SELECT value FROM secrets WHERE name = $1",
            params![name.to_string()],
        )?;
        let bytes = stored.ok_or(StoreError::Corrupt {
            tree: "secrets",
            reason: format!("secret {name:?} was neither made nor found"),
        })?;
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| StoreError::Corrupt {
            tree: "secrets",
            reason: format!("secret {name:?} is not 32 bytes"),
        })
    }
}

/// A JSON record from a `value` column.
pub(super) fn record<T: serde::de::DeserializeOwned>(
    table: &'static str,
    bytes: Option<Vec<u8>>,
) -> Result<Option<T>, StoreError> {
    bytes.map(|b| decode(table, &b)).transpose()
}

/// The bytes a JSON record is stored as.
pub(super) fn bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    encode(value)
}
