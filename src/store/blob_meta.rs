//! Tree `blob_meta`: sha256 (32 raw bytes) → size, media type, original file name, created.

use super::{encode, Store, StoreError};
use crate::domain::digest::Sha256;
use serde::{Deserialize, Serialize};

const TREE: &str = "blob_meta";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    pub size: u64,
    pub mime: String,
    pub filename: String,
    /// Milliseconds since the Unix epoch when the blob was first stored.
    pub created_ms: u64,
}

impl Store {
    pub fn blob_meta(&self, sha256: &Sha256) -> Result<Option<BlobMeta>, StoreError> {
        self.get_json(TREE, sha256.as_bytes())
    }

    /// Records a blob's metadata unless it is already known; the first name and time stay.
    /// Returns true when this call recorded it.
    pub fn insert_blob_meta(&self, sha256: &Sha256, meta: &BlobMeta) -> Result<bool, StoreError> {
        self.writable()?;
        let swapped = self.tree(TREE)?.compare_and_swap(
            sha256.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(meta)),
        )?;
        Ok(swapped.is_ok())
    }

    pub fn blob_count(&self) -> Result<usize, StoreError> {
        Ok(self.tree(TREE)?.len())
    }
}
