//! What `/media` sends about a blob, prepared once per worker thread. A blob never changes
//! (its address is its content), so neither do its headers nor its file: the hot path then
//! does no database read, no JSON decoding, no header formatting and no open(2) — the open
//! file is kept, as nginx's `open_file_cache` does.

use crate::domain::digest::Sha256;
use crate::domain::media_type::{served, Presentation, Served};
use crate::domain::range::Validators;
use crate::domain::representation::{attachment_disposition, inline_disposition};
use crate::repo::{BlobMeta, StoreError};
use crate::services::Services;
use actix_web::http::header::HeaderValue;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Entries (and so open files) per worker thread; the cache starts over when full.
const CAPACITY: usize = 1024;

pub struct Representation {
    pub meta: BlobMeta,
    pub file: Arc<File>,
    pub validators: Validators,
    pub etag: HeaderValue,
    pub last_modified: HeaderValue,
    /// The type it is served as, decided from the list whatever the record holds.
    pub served: Served,
    pub content_type: HeaderValue,
    pub repr_digest: HeaderValue,
    pub disposition: HeaderValue,
}

thread_local! {
    static CACHE: RefCell<HashMap<Sha256, Rc<Representation>>> = RefCell::new(HashMap::new());
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("blob is recorded but its file cannot be opened: {0}")]
    Missing(io::Error),
}

/// The blob's representation, or None when no such blob is recorded.
pub fn lookup(
    services: &Services,
    sha256: &Sha256,
) -> Result<Option<Rc<Representation>>, LookupError> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(sha256).cloned()) {
        return Ok(Some(hit));
    }
    let Some(meta) = crate::catalog::files::blob(&services.infra, sha256)? else {
        return Ok(None);
    };
    let file = services
        .blobs
        .open_blob(sha256)
        .map_err(LookupError::Missing)?;
    let rep = Rc::new(prepare(Arc::new(file), sha256, meta));
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(*sha256, Rc::clone(&rep));
    });
    Ok(Some(rep))
}

fn header_value(text: String) -> HeaderValue {
    // Every value here is built from ASCII (hex, dates, base64, percent-encoding).
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn prepare(file: Arc<File>, sha256: &Sha256, meta: BlobMeta) -> Representation {
    let last_modified = UNIX_EPOCH + Duration::from_millis(meta.created_ms);
    let etag = sha256.to_hex();
    let served = served(&meta.mime);
    let disposition = match served.presentation {
        Presentation::Media | Presentation::Text => inline_disposition(&meta.filename),
        Presentation::Download => attachment_disposition(&meta.filename),
    };
    Representation {
        file,
        etag: header_value(format!("\"{etag}\"")),
        last_modified: header_value(httpdate::fmt_http_date(last_modified)),
        served,
        content_type: HeaderValue::from_static(served.content_type),
        repr_digest: header_value(sha256.repr_digest()),
        disposition: header_value(disposition),
        validators: Validators {
            etag,
            last_modified,
        },
        meta,
    }
}
