//! Tree `uploads`: upload id → its state (offset, length, metadata, expiry, outcome).

use super::{decode, Store, StoreError};
use crate::domain::upload::Upload;
use crate::repo::UploadRepo;

const TREE: &str = "uploads";

impl UploadRepo for Store {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        self.get_json(TREE, id.as_bytes())
    }

    fn put_upload(&self, upload: &Upload) -> Result<(), StoreError> {
        self.put_json(TREE, upload.id.as_bytes(), upload)
    }

    fn remove_upload(&self, id: &str) -> Result<(), StoreError> {
        self.tree(TREE)?.remove(id.as_bytes())?;
        Ok(())
    }

    fn uploads(&self) -> Result<Vec<Upload>, StoreError> {
        self.tree(TREE)?
            .iter()
            .values()
            .map(|v| decode(TREE, &v?))
            .collect()
    }
}
