//! The infrastructure every use case stands on, opened once from the settings: the settings
//! themselves, the store, the blob files, the disk's free-space floor and the clock. It knows
//! no use case; the application state above it (catalogue view, ledger, upload writers…) is in
//! `services`.

use crate::blobs::{BlobError, BlobStore, Stored};
use crate::clock::Clock;
use crate::config::{Settings, StorageBackend};
use crate::disk::FreeSpaceFloor;
use crate::domain::media_type::served;
use crate::domain::representation::content_type_for;
use crate::repo::{BlobMeta, Repositories, StoreError};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

pub struct Infra {
    pub settings: Settings,
    pub store: Box<dyn Repositories>,
    pub blobs: BlobStore,
    pub floor: FreeSpaceFloor,
    pub clock: Arc<dyn Clock>,
    /// The configured language fallback chains, checked once.
    pub fallbacks: crate::domain::lang::Fallbacks,
}

/// Anything that stands on the infrastructure: the application, or any pointer to it (`Arc`,
/// actix's `Data`, a reference). Each use case's host trait extends it with the state it keeps.
pub trait HasInfra {
    fn infra(&self) -> &Infra;
}

impl HasInfra for Infra {
    fn infra(&self) -> &Infra {
        self
    }
}

impl<T: std::ops::Deref> HasInfra for T
where
    T::Target: HasInfra,
{
    fn infra(&self) -> &Infra {
        (**self).infra()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot prepare data directory {dir}: {source}")]
    DataDir { dir: String, source: io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum AddBlobError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Infra {
    /// Whether the repositories answer a read (for health checks).
    pub fn store_answers(&self) -> bool {
        self.store.is_open()
    }

    /// Creates the data directory if need be and opens the store and the blob files in it.
    pub fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, OpenError> {
        let dir = settings.storage.data_dir.clone();
        let data_dir_error = |source| OpenError::DataDir {
            dir: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(data_dir_error)?;
        let floor = FreeSpaceFloor::new(&dir, settings.storage.min_free_bytes);
        let blobs = BlobStore::open(&dir, floor.clone()).map_err(data_dir_error)?;
        let storage = &settings.storage;
        let store: Box<dyn Repositories> = match storage.backend {
            StorageBackend::Sled => Box::new(crate::store::Store::open(&dir, floor.clone())?),
            StorageBackend::Postgres => {
                let config = crate::store::pg::PgConfig {
                    url: storage.database_url.clone(),
                    pool_size: storage.pool_size,
                    statement_timeout: storage.statement_timeout,
                };
                Box::new(crate::store::pg::PgStore::open(&config, floor.clone())?)
            }
        };
        let fallbacks = settings.fallbacks();
        Ok(Infra {
            settings,
            store,
            blobs,
            floor,
            clock,
            fallbacks,
        })
    }

    /// The clock's time, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// Stores bytes as a blob and records its metadata; the media type comes from `filename`,
    /// and only as one of the types `/media` serves (else an octet-stream).
    /// Does not flush: callers flush once after a batch.
    pub fn add_blob(
        &self,
        reader: impl Read,
        filename: &str,
    ) -> Result<(Stored, BlobMeta), AddBlobError> {
        let stored = self.blobs.put(reader)?;
        let meta = BlobMeta {
            size: stored.size,
            mime: served(&content_type_for(filename)).content_type.to_string(),
            filename: filename.to_string(),
            created_ms: self.now_ms(),
        };
        self.store.insert_blob_meta(&stored.sha256, &meta)?;
        let meta = self.store.blob_meta(&stored.sha256)?.unwrap_or(meta);
        Ok((stored, meta))
    }
}
