//! Upload use cases: create, append (only after the bytes are on disk is the new offset
//! recorded and acknowledged), terminate, sweep expired ones, and turn a finished upload into a
//! blob — probed, queued for processing, and attached to its lesson when ready.

use crate::blobs::BlobError;
use crate::catalog::{self, CatalogHost};
use crate::domain::lang::Lang;
use crate::domain::representation::content_type_for;
use crate::domain::upload::{
    blob_type, creation_length, Attach, Upload, UploadAccess, UploadError, UploadState, UploadUse,
};
use crate::repo::StoreError;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

mod finish;

pub use finish::{attach_ready, spawn_housekeeping, sweep};

#[derive(Debug, thiserror::Error)]
pub enum UploadOpError {
    #[error(transparent)]
    Rule(#[from] UploadError),
    #[error("no upload {0:?}")]
    NotFound(String),
    #[error("only the token that created upload {0:?} may write into it")]
    NotYours(String),
    #[error("another request is writing upload {0:?}; try again when it ends")]
    Busy(String),
    #[error("{0} unfinished uploads are the most one editor may have")]
    TooMany(usize),
    #[error("{0}")]
    BadTarget(String),
    #[error("upload storage: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Worker(#[from] crate::media::isolation::WorkerError),
}

/// Who asks for an upload: the identity of their token, and whether they are an admin.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub identity: String,
    pub admin: bool,
}

/// What the upload use cases stand on: the catalogue (a finished upload is attached to its
/// lesson), the media pipeline (it is queued there) and the uploads being written. Finishing runs
/// on a thread of its own, hence `'static`.
pub trait UploadsHost: CatalogHost + crate::media::jobs::JobHost + 'static {
    fn writing(&self) -> &Writing;
}

impl<T: std::ops::Deref + Send + Sync + 'static> UploadsHost for T
where
    T::Target: UploadsHost,
{
    fn writing(&self) -> &Writing {
        (**self).writing()
    }
}

/// Uploads being written right now: one request at a time per upload.
#[derive(Default)]
pub struct Writing(Arc<Mutex<HashSet<String>>>);

/// Holds an upload for one writer until dropped.
pub struct Claim {
    writing: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        set.remove(&self.id);
    }
}

pub(crate) fn claim(host: &impl UploadsHost, id: &str) -> Result<Claim, UploadOpError> {
    let writing = &host.writing().0;
    let mut set = writing.lock().unwrap_or_else(PoisonError::into_inner);
    if !set.insert(id.to_string()) {
        return Err(UploadOpError::Busy(id.to_string()));
    }
    Ok(Claim {
        writing: writing.clone(),
        id: id.to_string(),
    })
}

/// The folder under the data folder where uploads' bytes wait.
const UPLOADS: &str = "uploads";

/// Makes the uploads folder if it is missing, durably (see `disk::create_dirs`); returns the
/// folders made. `sync` fsyncs a folder.
pub fn make_dir(
    data_dir: &std::path::Path,
    sync: impl FnMut(&std::path::Path) -> io::Result<()>,
) -> io::Result<Vec<PathBuf>> {
    crate::disk::create_dirs(data_dir, &data_dir.join(UPLOADS), sync)
}

/// Where an upload's bytes wait: under the data folder, beside the blobs, so finishing is a
/// rename, and outside the temp area that start-up sweeps.
pub fn part_path(services: &impl UploadsHost, id: &str) -> PathBuf {
    services
        .infra()
        .settings
        .storage
        .data_dir
        .join(UPLOADS)
        .join(format!("{id}.part"))
}

pub(crate) fn now_ms(services: &impl UploadsHost) -> i64 {
    services.infra().now_ms() as i64
}

fn expiry(services: &impl UploadsHost) -> i64 {
    now_ms(services) + services.infra().settings.uploads.expire_after.as_millis() as i64
}

/// The media type an upload declares: its `filetype`, else from its file name.
pub fn declared_type(metadata: &BTreeMap<String, String>) -> String {
    match metadata.get("filetype").filter(|t| !t.is_empty()) {
        Some(t) => t.clone(),
        None => content_type_for(metadata.get("filename").map_or("", String::as_str)),
    }
}

fn attach_of(metadata: &BTreeMap<String, String>) -> Result<Option<Attach>, UploadOpError> {
    let (Some(lesson), Some(lang)) = (metadata.get("lesson"), metadata.get("lang")) else {
        return Ok(None);
    };
    let lang: Lang = lang
        .parse()
        .map_err(|e: crate::domain::lang::UnknownLang| UploadOpError::BadTarget(e.to_string()))?;
    Ok(Some(Attach {
        lesson: lesson.clone(),
        lang,
        publish: metadata.get("publish").is_some_and(|p| p == "true"),
        done: false,
        error: None,
    }))
}

/// Records a new upload and its empty file.
pub fn create(
    services: &impl UploadsHost,
    owner: &str,
    length: Option<u64>,
    deferred: bool,
    metadata: BTreeMap<String, String>,
) -> Result<Upload, UploadOpError> {
    let settings = &services.infra().settings.uploads;
    let length = creation_length(length, deferred, settings.max_size)?;
    blob_type(&declared_type(&metadata), &settings.allowed_types)?;
    let attach = attach_of(&metadata)?;
    if let Some(target) = &attach {
        catalog::course_of_lesson(services, &target.lesson)
            .map_err(|e| UploadOpError::BadTarget(e.to_string()))?;
    }
    let now = now_ms(services);
    let in_flight = services
        .infra()
        .store
        .uploads()?
        .iter()
        .filter(|u| u.owner == owner && u.state == UploadState::Receiving && u.expires_ms > now)
        .count();
    if in_flight >= settings.max_in_flight_per_editor {
        return Err(UploadOpError::TooMany(settings.max_in_flight_per_editor));
    }
    let id = hex::encode(rand::random::<[u8; 16]>());
    let path = part_path(services, &id);
    make_dir(
        &services.infra().settings.storage.data_dir,
        crate::disk::sync_dir,
    )?;
    File::create(&path)?.sync_all()?;
    // The new file's name is durable only once its folder's entry is.
    crate::disk::sync_dir(&services.infra().settings.storage.data_dir.join(UPLOADS))?;
    let upload = Upload {
        id,
        owner: owner.to_string(),
        length,
        offset: 0,
        metadata,
        created_ms: now,
        expires_ms: expiry(services),
        state: UploadState::Receiving,
        attach,
        verify_attempts: 0,
    };
    services.infra().store.put_upload(&upload)?;
    services.infra().store.flush()?;
    Ok(upload)
}

/// An upload, unless it is unknown.
pub fn find(services: &impl UploadsHost, id: &str) -> Result<Upload, UploadOpError> {
    services
        .infra()
        .store
        .upload(id)?
        .ok_or_else(|| UploadOpError::NotFound(id.to_string()))
}

/// An upload `who` may use for `what`; someone else's is not found, as an unknown one is.
pub fn find_for(
    services: &impl UploadsHost,
    id: &str,
    who: &Uploader,
    what: UploadUse,
) -> Result<Upload, UploadOpError> {
    let upload = find(services, id)?;
    match upload.access(&who.identity, who.admin, what) {
        UploadAccess::Granted => Ok(upload),
        UploadAccess::Forbidden => Err(UploadOpError::NotYours(id.to_string())),
        UploadAccess::Hidden => Err(UploadOpError::NotFound(id.to_string())),
    }
}

/// How the processing of a stored upload goes; None before it is stored, or for a file that
/// needs none.
pub fn processing(
    services: &impl UploadsHost,
    upload: &Upload,
) -> Result<Option<crate::repo::Job>, UploadOpError> {
    let UploadState::Stored { sha256 } = &upload.state else {
        return Ok(None);
    };
    let Ok(hash) = crate::domain::digest::Sha256::parse_hex(sha256) else {
        return Ok(None);
    };
    Ok(services.infra().store.job(&hash)?)
}

/// A PATCH in progress: the upload as it was, the file opened at its offset, and the claim.
pub struct Append {
    pub upload: Upload,
    pub file: File,
    pub settled_length: Option<u64>,
    _claim: Claim,
}

/// Checks a PATCH and opens the upload's file at its offset, dropping any bytes a crash left
/// beyond what was acknowledged.
pub fn begin_append(
    services: &Arc<impl UploadsHost>,
    id: &str,
    who: &Uploader,
    content_type_ok: bool,
    offset: u64,
    length: Option<u64>,
    body_len: Option<u64>,
) -> Result<Append, UploadOpError> {
    // Checked before the claim, so another's upload is not found rather than busy.
    find_for(services, id, who, UploadUse::Append)?;
    let claim = claim(services, id)?;
    let upload = find(services, id)?;
    let settled = upload.check_patch(
        now_ms(services),
        content_type_ok,
        offset,
        length,
        body_len,
        services.infra().settings.uploads.max_size,
    )?;
    let mut file = OpenOptions::new()
        .write(true)
        .open(part_path(services, id))?;
    file.set_len(upload.offset)?;
    file.seek(SeekFrom::Start(upload.offset))?;
    Ok(Append {
        upload,
        file,
        settled_length: settled,
        _claim: claim,
    })
}

/// Records `written` more bytes (already fsynced) and, if that completes the upload, starts
/// finishing it in the background. Returns the upload as recorded.
pub fn commit_append(
    services: &Arc<impl UploadsHost>,
    append: Append,
    written: u64,
) -> Result<Upload, UploadOpError> {
    let mut upload = append.upload;
    upload.offset += written;
    if append.settled_length.is_some() {
        upload.length = append.settled_length;
    }
    upload.expires_ms = expiry(services);
    if upload.is_complete() {
        upload.state = UploadState::Verifying;
    }
    services.infra().store.put_upload(&upload)?;
    services.infra().store.flush()?;
    if upload.state == UploadState::Verifying {
        finish::spawn_finish(services.clone(), upload.id.clone());
    }
    Ok(upload)
}

/// Undoes a PATCH that failed (bad checksum, full disk): the file goes back to its offset.
pub fn abandon_append(append: Append) -> Result<(), UploadOpError> {
    append.file.set_len(append.upload.offset)?;
    append.file.sync_all()?;
    Ok(())
}

/// Removes an upload and its bytes.
pub fn terminate(
    services: &Arc<impl UploadsHost>,
    id: &str,
    who: &Uploader,
) -> Result<(), UploadOpError> {
    find_for(services, id, who, UploadUse::End)?;
    let _claim = claim(services, id)?;
    find(services, id)?;
    remove(services, id)
}

pub(crate) fn remove(services: &impl UploadsHost, id: &str) -> Result<(), UploadOpError> {
    match std::fs::remove_file(part_path(services, id)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    services.infra().store.remove_upload(id)?;
    services.infra().store.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uploads_folder_is_synced_into_the_data_folder_when_made() {
        let data = tempfile::tempdir().unwrap();
        let mut synced = Vec::new();
        let made = make_dir(data.path(), |dir: &std::path::Path| {
            assert!(
                dir.join(UPLOADS).is_dir(),
                "synced once the folder is in it"
            );
            synced.push(dir.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert_eq!(made, [data.path().join(UPLOADS)]);
        assert_eq!(synced, [data.path().to_path_buf()]);
        assert!(make_dir(data.path(), |_| panic!("nothing new to sync"))
            .unwrap()
            .is_empty());
    }
}
