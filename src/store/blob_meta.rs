//! Tree `blob_meta`: sha256 (32 raw bytes) → size, media type, original file name, created.

use super::{encode, Store, StoreError};
use crate::domain::digest::Sha256;
use crate::repo::{BlobMeta, BlobMetaRepo};

const TREE: &str = "blob_meta";

impl BlobMetaRepo for Store {
    fn blob_meta(&self, sha256: &Sha256) -> Result<Option<BlobMeta>, StoreError> {
        self.get_json(TREE, sha256.as_bytes())
    }

    fn insert_blob_meta(&self, sha256: &Sha256, meta: &BlobMeta) -> Result<bool, StoreError> {
        self.writable()?;
        let swapped = self.tree(TREE)?.compare_and_swap(
            sha256.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(meta)),
        )?;
        Ok(swapped.is_ok())
    }

    fn blob_count(&self) -> Result<usize, StoreError> {
        Ok(self.tree(TREE)?.len())
    }
}
