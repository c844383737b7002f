//! Media assets: tree `asset_probe` (sha256 → probe), tree `derived` (sha256 ‖ path → blob
//! sha256: the renditions, thumbnail and HLS files made from a source), and tree `jobs`
//! (sha256 → processing state).

use super::{decode, encode, Store, StoreError};
use crate::domain::digest::Sha256;
use crate::domain::media::Probe;
use crate::repo::{AssetRepo, Job, JobQueue, JobStatus};

const PROBES: &str = "asset_probe";
const DERIVED: &str = "derived";
const JOBS: &str = "jobs";

fn derived_key(source: &Sha256, path: &str) -> Vec<u8> {
    let mut key = source.as_bytes().to_vec();
    key.extend_from_slice(path.as_bytes());
    key
}

impl AssetRepo for Store {
    fn probe(&self, sha256: &Sha256) -> Result<Option<Probe>, StoreError> {
        self.get_json(PROBES, sha256.as_bytes())
    }

    fn put_probe(&self, sha256: &Sha256, probe: &Probe) -> Result<(), StoreError> {
        self.writable()?;
        self.tree(PROBES)?
            .insert(sha256.as_bytes(), encode(probe))?;
        Ok(())
    }

    fn derived(&self, source: &Sha256, path: &str) -> Result<Option<Sha256>, StoreError> {
        let Some(value) = self.tree(DERIVED)?.get(derived_key(source, path))? else {
            return Ok(None);
        };
        let hex: String = decode(DERIVED, &value)?;
        Sha256::parse_hex(&hex)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                tree: DERIVED,
                reason: e.to_string(),
            })
    }

    fn derived_files(&self, source: &Sha256) -> Result<Vec<(String, String)>, StoreError> {
        let mut files = Vec::new();
        for entry in self.tree(DERIVED)?.scan_prefix(source.as_bytes()) {
            let (key, value) = entry?;
            let path = String::from_utf8_lossy(&key[32..]).into_owned();
            files.push((path, decode(DERIVED, &value)?));
        }
        Ok(files)
    }

    fn set_derived(&self, source: &Sha256, files: &[(String, Sha256)]) -> Result<(), StoreError> {
        self.writable()?;
        let tree = self.tree(DERIVED)?;
        let mut batch = sled::Batch::default();
        for old in tree.scan_prefix(source.as_bytes()).keys() {
            batch.remove(old?);
        }
        for (path, blob) in files {
            batch.insert(derived_key(source, path), encode(&blob.to_hex()));
        }
        tree.apply_batch(batch)?;
        Ok(())
    }
}

impl JobQueue for Store {
    fn job(&self, sha256: &Sha256) -> Result<Option<Job>, StoreError> {
        self.get_json(JOBS, sha256.as_bytes())
    }

    fn put_job(&self, sha256: &Sha256, job: &Job) -> Result<(), StoreError> {
        self.put_json(JOBS, sha256.as_bytes(), job)
    }

    fn claim_job(&self) -> Result<Option<(Sha256, Job)>, StoreError> {
        self.writable()?;
        let tree = self.tree(JOBS)?;
        for entry in tree.iter() {
            let (key, value) = entry?;
            let job: Job = decode(JOBS, &value)?;
            if job.status != JobStatus::Queued {
                continue;
            }
            let claimed = job.claimed();
            // Another worker may have claimed it first; then look further.
            if tree
                .compare_and_swap(&key, Some(&value), Some(encode(&claimed)))?
                .is_ok()
            {
                let bytes: [u8; 32] = key.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    tree: JOBS,
                    reason: "key is not a sha256".into(),
                })?;
                return Ok(Some((Sha256::from_bytes(bytes), claimed)));
            }
        }
        Ok(None)
    }

    fn requeue_interrupted_jobs(&self, max_attempts: u32) -> Result<(usize, usize), StoreError> {
        let tree = self.tree(JOBS)?;
        let (mut requeued, mut failed) = (0, 0);
        for entry in tree.iter() {
            let (key, value) = entry?;
            let job: Job = decode(JOBS, &value)?;
            if job.status != JobStatus::Processing {
                continue;
            }
            let after = job.interrupted(max_attempts);
            match after.status {
                JobStatus::Queued => requeued += 1,
                _ => failed += 1,
            }
            tree.insert(key, encode(&after))?;
        }
        Ok((requeued, failed))
    }

    fn queued_jobs(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for entry in self.tree(JOBS)?.iter() {
            let (_, value) = entry?;
            if decode::<Job>(JOBS, &value)?.status == JobStatus::Queued {
                n += 1;
            }
        }
        Ok(n)
    }
}
