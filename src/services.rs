//! Everything a request or a command works with, opened once from the settings.

use crate::blobs::{BlobError, BlobStore, Stored};
use crate::clock::Clock;
use crate::config::Settings;
use crate::disk::FreeSpaceFloor;
use crate::domain::media_type::served;
use crate::domain::representation::content_type_for;
use crate::store::{BlobMeta, Store, StoreError};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

pub struct Services {
    pub settings: Settings,
    pub store: Store,
    pub blobs: BlobStore,
    pub floor: FreeSpaceFloor,
    pub clock: Arc<dyn Clock>,
    pub jobs_wakeup: crate::media::jobs::Wakeup,
    pub catalog: crate::catalog::Catalog,
    pub ledger: crate::ledger::Ledger,
    pub upload_writers: crate::uploads::Writing,
    /// The configured language fallback chains, checked once.
    pub fallbacks: crate::domain::lang::Fallbacks,
    /// What people changes are made under, so none undoes another.
    pub locks: crate::people::Locks,
    /// Sign-in attempts, buckets and Argon2 checks in flight.
    pub sign_in: crate::sign_in::Guard,
    /// Issues and checks the play sessions members' reports are credited on.
    pub play_sessions: crate::ledger::evidence::PlaySessions,
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

impl Services {
    pub fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, OpenError> {
        let dir = settings.storage.data_dir.clone();
        let data_dir_error = |source| OpenError::DataDir {
            dir: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(data_dir_error)?;
        let floor = FreeSpaceFloor::new(&dir, settings.storage.min_free_bytes);
        let blobs = BlobStore::open(&dir, floor.clone()).map_err(data_dir_error)?;
        let store = Store::open(&dir, floor.clone())?;
        let (requeued, failed) = store.requeue_interrupted_jobs(settings.media.max_attempts)?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "media jobs interrupted by a stop are queued again"
            );
        }
        if failed > 0 {
            tracing::warn!(
                failed,
                "media jobs interrupted on every try are failed, not queued again"
            );
        }
        // Read once now, so a damaged organisation record is logged at start.
        store.org_directory()?;
        let indexed = store.index_token_owners()?;
        if indexed > 0 {
            tracing::info!(indexed, "tokens indexed by their member or station");
        }
        let ledger = crate::ledger::Ledger::new(settings.ledger_rules());
        let fallbacks = settings.fallbacks();
        let sign_in = crate::sign_in::Guard::new(&settings.auth);
        let play_sessions = crate::ledger::evidence::PlaySessions::open(&store)?;
        // Deliveries under sessions older than any report the ledger still takes back them.
        let now_ms = clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let kept_ms = settings.ledger.offline_max_age.as_millis() as i64 + 86_400_000;
        let pruned = store.prune_deliveries(now_ms - kept_ms)?;
        if pruned > 0 {
            tracing::info!(pruned, "deliveries under expired play sessions forgotten");
        }
        Ok(Services {
            settings,
            store,
            blobs,
            floor,
            clock,
            jobs_wakeup: Default::default(),
            catalog: Default::default(),
            ledger,
            upload_writers: Default::default(),
            fallbacks,
            locks: Default::default(),
            sign_in,
            play_sessions,
        })
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
        let created_ms = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let meta = BlobMeta {
            size: stored.size,
            mime: served(&content_type_for(filename)).content_type.to_string(),
            filename: filename.to_string(),
            created_ms,
        };
        self.store.insert_blob_meta(&stored.sha256, &meta)?;
        let meta = self.store.blob_meta(&stored.sha256)?.unwrap_or(meta);
        Ok((stored, meta))
    }
}
