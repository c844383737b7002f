//! Media assets, the job queue and blob records on PostgreSQL. Tables `probes`, `derived`,
//! `jobs` and `blob_meta`; a job's `status` column repeats its record's status so a claim can
//! find and lock a queued job without decoding the others.

use super::super::decode;
use super::{backend, bytes, exec, params, query, record, PgStore};
use crate::domain::digest::Sha256;
use crate::domain::media::Probe;
use crate::repo::*;
use tokio_postgres::Row;

const JOBS: &str = "jobs";
const DERIVED: &str = "derived";

/// A sha256 read back from a bytea column.
fn sha(table: &'static str, raw: &[u8]) -> Result<Sha256, StoreError> {
    let raw: [u8; 32] = raw.try_into().map_err(|_| StoreError::Corrupt {
        tree: table,
        reason: format!("a sha256 of {} bytes", raw.len()),
    })?;
    Ok(Sha256::from_bytes(raw))
}

fn key(sha256: &Sha256) -> Vec<u8> {
    sha256.as_bytes().to_vec()
}

/// The `status` column: the record's status as serde writes it.
fn status(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "queued",
        JobStatus::Processing => "processing",
        JobStatus::Ready => "ready",
        JobStatus::Failed => "failed",
    }
}

/// Column `i` of a row, as bytes.
fn column(row: &Row, i: usize) -> Result<Vec<u8>, StoreError> {
    row.try_get(i).map_err(backend)
}

fn count(rows: &[Row]) -> Result<usize, StoreError> {
    let n: i64 = match rows.first() {
        Some(row) => row.try_get(0).map_err(backend)?,
        None => 0,
    };
    usize::try_from(n).map_err(backend)
}

impl AssetRepo for PgStore {
    fn probe(&self, sha256: &Sha256) -> Result<Option<Probe>, StoreError> {
        let value = self.value(
            "SELECT value FROM probes WHERE sha256 = $1",
            params![key(sha256)],
        )?;
        record("probes", value)
    }

    fn put_probe(&self, sha256: &Sha256, probe: &Probe) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO probes (sha256, value) VALUES ($1, $2) \
             ON CONFLICT (sha256) DO UPDATE SET value = EXCLUDED.value",
            params![key(sha256), bytes(probe)],
        )?;
        Ok(())
    }

    fn derived(&self, source: &Sha256, path: &str) -> Result<Option<Sha256>, StoreError> {
        let blob = self.value(
            "SELECT blob FROM derived WHERE source = $1 AND path = $2",
            params![key(source), path.to_string()],
        )?;
        blob.map(|b| sha(DERIVED, &b)).transpose()
    }

    fn derived_files(&self, source: &Sha256) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.rows(
            "SELECT path, blob FROM derived WHERE source = $1 ORDER BY path COLLATE \"C\"",
            params![key(source)],
        )?;
        rows.iter()
            .map(|row| {
                let path: String = row.try_get(0).map_err(backend)?;
                let blob = sha(DERIVED, &column(row, 1)?)?;
                Ok((path, blob.to_hex()))
            })
            .collect()
    }

    fn set_derived(&self, source: &Sha256, files: &[(String, Sha256)]) -> Result<(), StoreError> {
        self.writable()?;
        let source = key(source);
        let files: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(path, blob)| (path.clone(), key(blob)))
            .collect();
        self.transaction(move |tx| {
            Box::pin(async move {
                exec(
                    tx,
                    "DELETE FROM derived WHERE source = $1",
                    &params![source.clone()],
                )
                .await?;
                // As a sled batch: a path given twice keeps the last blob.
                for (path, blob) in files {
                    exec(
                        tx,
                        "INSERT INTO derived (source, path, blob) VALUES ($1, $2, $3) \
                         ON CONFLICT (source, path) DO UPDATE SET blob = EXCLUDED.blob",
                        &params![source.clone(), path, blob],
                    )
                    .await?;
                }
                Ok(())
            })
        })
    }
}

impl JobQueue for PgStore {
    fn job(&self, sha256: &Sha256) -> Result<Option<Job>, StoreError> {
        let value = self.value(
            "SELECT value FROM jobs WHERE sha256 = $1",
            params![key(sha256)],
        )?;
        record(JOBS, value)
    }

    fn put_job(&self, sha256: &Sha256, job: &Job) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO jobs (sha256, status, value) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO UPDATE SET status = EXCLUDED.status, value = EXCLUDED.value",
            params![key(sha256), status(job.status).to_string(), bytes(job)],
        )?;
        Ok(())
    }

    fn claim_job(&self) -> Result<Option<(Sha256, Job)>, StoreError> {
        self.writable()?;
        self.transaction(|tx| {
            Box::pin(async move {
                // SKIP LOCKED: a job another process is claiming is passed over, not waited on.
                let rows = query(
                    tx,
                    "SELECT sha256, value FROM jobs WHERE status = 'queued' \
                     ORDER BY sha256 LIMIT 1 FOR UPDATE SKIP LOCKED",
                    &params![],
                )
                .await?;
                let Some(row) = rows.first() else {
                    return Ok(None);
                };
                let raw = column(row, 0)?;
                let source = sha(JOBS, &raw)?;
                let job: Job = decode(JOBS, &column(row, 1)?)?;
                let claimed = job.claimed();
                exec(
                    tx,
                    "UPDATE jobs SET status = $2, value = $3 WHERE sha256 = $1",
                    &params![raw, status(claimed.status).to_string(), bytes(&claimed)],
                )
                .await?;
                Ok(Some((source, claimed)))
            })
        })
    }

    // Not refused on a full disk, as on sled: it only rewrites jobs already stored, and a
    // restart must not leave them stuck in processing.
    fn requeue_interrupted_jobs(&self, max_attempts: u32) -> Result<(usize, usize), StoreError> {
        self.transaction(move |tx| {
            Box::pin(async move {
                let rows = query(
                    tx,
                    "SELECT sha256, value FROM jobs WHERE status = 'processing' \
                     ORDER BY sha256 FOR UPDATE",
                    &params![],
                )
                .await?;
                let (mut requeued, mut failed) = (0, 0);
                for row in &rows {
                    let raw = column(row, 0)?;
                    let job: Job = decode(JOBS, &column(row, 1)?)?;
                    // The column and the record could disagree only if written by hand.
                    if job.status != JobStatus::Processing {
                        continue;
                    }
                    let after = job.interrupted(max_attempts);
                    match after.status {
                        JobStatus::Queued => requeued += 1,
                        _ => failed += 1,
                    }
                    exec(
                        tx,
                        "UPDATE jobs SET status = $2, value = $3 WHERE sha256 = $1",
                        &params![raw, status(after.status).to_string(), bytes(&after)],
                    )
                    .await?;
                }
                Ok((requeued, failed))
            })
        })
    }

    fn queued_jobs(&self) -> Result<usize, StoreError> {
        let rows = self.rows(
            "SELECT count(*) FROM jobs WHERE status = 'queued'",
            params![],
        )?;
        count(&rows)
    }
}

impl BlobMetaRepo for PgStore {
    fn blob_meta(&self, sha256: &Sha256) -> Result<Option<BlobMeta>, StoreError> {
        let value = self.value(
            "SELECT value FROM blob_meta WHERE sha256 = $1",
            params![key(sha256)],
        )?;
        record("blob_meta", value)
    }

    fn insert_blob_meta(&self, sha256: &Sha256, meta: &BlobMeta) -> Result<bool, StoreError> {
        // The first record stays: a later one is refused, not merged.
        let inserted = self.execute(
            "INSERT INTO blob_meta (sha256, value) VALUES ($1, $2) \
             ON CONFLICT (sha256) DO NOTHING",
            params![key(sha256), bytes(meta)],
        )?;
        Ok(inserted == 1)
    }

    fn blob_count(&self) -> Result<usize, StoreError> {
        let rows = self.rows("SELECT count(*) FROM blob_meta", params![])?;
        count(&rows)
    }
}
