//! Media assets and the job queue: what is known of each stored blob, the files made from a
//! source, and the processing state of each source.

use super::StoreError;
use crate::domain::digest::Sha256;
use crate::domain::media::{interrupted_reason, retry_after_interruption, Probe};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Processing,
    Ready,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub status: JobStatus,
    pub percent: u8,
    /// Tries started so far.
    pub attempts: u32,
    /// The last failure's reason.
    pub error: Option<String>,
    /// Set when processing found the source cannot play: retrying will not help.
    #[serde(default)]
    pub unplayable: bool,
}

impl Job {
    pub fn queued() -> Job {
        Job {
            status: JobStatus::Queued,
            percent: 0,
            attempts: 0,
            error: None,
            unplayable: false,
        }
    }

    /// The job as a worker claims it: processing, its attempt counted.
    pub fn claimed(self) -> Job {
        Job {
            status: JobStatus::Processing,
            percent: 0,
            attempts: self.attempts + 1,
            error: self.error,
            unplayable: false,
        }
    }

    /// A processing job after a restart: queued again with the attempts it used, or failed
    /// with the reason when none are left.
    pub fn interrupted(self, max_attempts: u32) -> Job {
        if retry_after_interruption(self.attempts, max_attempts) {
            Job {
                status: JobStatus::Queued,
                percent: 0,
                ..self
            }
        } else {
            Job {
                status: JobStatus::Failed,
                percent: 0,
                error: Some(interrupted_reason(self.attempts)),
                ..self
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    pub size: u64,
    pub mime: String,
    pub filename: String,
    /// Milliseconds since the Unix epoch when the blob was first stored.
    pub created_ms: u64,
}

/// What the media pipeline knows of a blob: its probe and the files made from it.
pub trait AssetRepo {
    fn probe(&self, sha256: &Sha256) -> Result<Option<Probe>, StoreError>;

    fn put_probe(&self, sha256: &Sha256, probe: &Probe) -> Result<(), StoreError>;

    /// The blob made from `source` at `path` (e.g. `hls/master.m3u8`).
    fn derived(&self, source: &Sha256, path: &str) -> Result<Option<Sha256>, StoreError>;

    /// Every file made from `source`, as (path, blob), in path order.
    fn derived_files(&self, source: &Sha256) -> Result<Vec<(String, String)>, StoreError>;

    /// Replaces everything made from `source` with `files` in one atomic batch.
    fn set_derived(&self, source: &Sha256, files: &[(String, Sha256)]) -> Result<(), StoreError>;
}

/// The media jobs, one per source blob: queued, claimed, finished or failed.
pub trait JobQueue {
    fn job(&self, sha256: &Sha256) -> Result<Option<Job>, StoreError>;

    fn put_job(&self, sha256: &Sha256, job: &Job) -> Result<(), StoreError>;

    /// Moves one queued job to processing (counting the attempt) and returns it; None if none waits.
    fn claim_job(&self) -> Result<Option<(Sha256, Job)>, StoreError>;

    /// After a restart nothing is processing: interrupted jobs go back to the queue with the
    /// attempts they used (counted when they were claimed), or, with none left, are failed
    /// with the reason. Returns (requeued, failed).
    fn requeue_interrupted_jobs(&self, max_attempts: u32) -> Result<(usize, usize), StoreError>;

    fn queued_jobs(&self) -> Result<usize, StoreError>;
}

/// What was recorded of each blob when it was stored.
pub trait BlobMetaRepo {
    fn blob_meta(&self, sha256: &Sha256) -> Result<Option<BlobMeta>, StoreError>;

    /// Records a blob's metadata unless it is already known; the first name and time stay.
    /// Returns true when this call recorded it.
    fn insert_blob_meta(&self, sha256: &Sha256, meta: &BlobMeta) -> Result<bool, StoreError>;

    fn blob_count(&self) -> Result<usize, StoreError>;
}
