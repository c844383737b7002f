//! Tree `uploads`: upload id → its state (offset, length, metadata, expiry, outcome).

use super::{decode, Store, StoreError};
use crate::domain::upload::Upload;

const TREE: &str = "uploads";

impl Store {
    pub fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        self.get_json(TREE, id.as_bytes())
    }

    pub fn put_upload(&self, upload: &Upload) -> Result<(), StoreError> {
        self.put_json(TREE, upload.id.as_bytes(), upload)
    }

    pub fn remove_upload(&self, id: &str) -> Result<(), StoreError> {
        self.tree(TREE)?.remove(id.as_bytes())?;
        Ok(())
    }

    pub fn uploads(&self) -> Result<Vec<Upload>, StoreError> {
        self.tree(TREE)?
            .iter()
            .values()
            .map(|v| decode(TREE, &v?))
            .collect()
    }
}
