//! tus uploads, by id.

use super::StoreError;
use crate::domain::upload::Upload;
/// tus uploads in progress and finished.
pub trait UploadRepo {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError>;

    fn put_upload(&self, upload: &Upload) -> Result<(), StoreError>;

    fn remove_upload(&self, id: &str) -> Result<(), StoreError>;

    fn uploads(&self) -> Result<Vec<Upload>, StoreError>;
}
