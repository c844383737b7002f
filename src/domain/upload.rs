//! Resumable uploads (tus 1.0: core, creation, creation-with-upload, creation-defer-length,
//! termination, checksum, expiration) as pure decisions over an upload's recorded state:
//! which header values are valid, whether a PATCH may append, and what an upload becomes.

use super::media_type;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TUS_VERSION: &str = "1.0.0";
pub const TUS_EXTENSIONS: &str =
    "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration";
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";
/// The body type every PATCH must declare.
pub const PATCH_TYPE: &str = "application/offset+octet-stream";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    /// Who created it: the identity of the token (`Caller::identity`), which alone may write
    /// into it. Records from before owners were kept have none: only an admin reaches those.
    #[serde(default)]
    pub owner: String,
    /// Total size; `None` while deferred.
    pub length: Option<u64>,
    /// Bytes received and durable.
    pub offset: u64,
    pub metadata: BTreeMap<String, String>,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub state: UploadState,
    /// The lesson variant the file is for, from the metadata.
    #[serde(default)]
    pub attach: Option<Attach>,
    /// Probes of the complete file started so far, each counted before it starts (see
    /// `domain::media::retry_after_interruption`).
    #[serde(default)]
    pub verify_attempts: u32,
}

/// Where a finished upload goes in the catalogue, and how that went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attach {
    pub lesson: String,
    pub lang: super::lang::Lang,
    /// Publish the course once the variant is attached.
    pub publish: bool,
    pub done: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum UploadState {
    /// Bytes are still coming.
    Receiving,
    /// Every byte is here; it is being probed and hashed.
    Verifying,
    /// Hashed and accepted; being moved into the blob store (redone after a crash).
    Moving { sha256: String, size: u64 },
    /// Stored as a blob (and, for audio and video, queued for processing).
    Stored { sha256: String },
    /// Refused once complete, with the reason (e.g. the probe's).
    Rejected { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("Tus-Resumable must be {TUS_VERSION}")]
    UnsupportedVersion,
    #[error("{0} must be a non-negative integer")]
    BadNumber(&'static str),
    #[error("give Upload-Length, or Upload-Defer-Length: 1, not both")]
    LengthMissing,
    #[error("the upload would be {length} bytes, over the {max} allowed")]
    TooLarge { length: u64, max: u64 },
    #[error("Upload-Metadata: {0}")]
    BadMetadata(String),
    #[error("files of type {0:?} are not accepted here")]
    TypeNotAllowed(String),
    #[error("filetype: {0}")]
    MalformedType(String),
    #[error("filetype: a {essence} upload takes no parameter {name:?}")]
    TypeParameter { essence: String, name: String },
    #[error("filetype: text must be UTF-8, not charset {0:?}")]
    NotUtf8(String),
    #[error("a PATCH body must be sent as {PATCH_TYPE}")]
    WrongContentType,
    #[error("Upload-Offset is {got}, but the upload is at {expected}")]
    OffsetMismatch { expected: u64, got: u64 },
    #[error("Upload-Checksum: {0}")]
    BadChecksum(String),
    #[error("the chunk's {0} checksum does not match its bytes")]
    ChecksumMismatch(&'static str),
    #[error("the body would take the upload past its length of {0} bytes")]
    PastLength(u64),
    #[error("Upload-Length is already {0} and cannot change")]
    LengthFixed(u64),
    #[error("the upload is complete and takes no more bytes")]
    Complete,
    #[error("the upload has expired")]
    Expired,
}

/// The hash a client may send with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }
}

/// A non-negative integer header.
pub fn parse_number(name: &'static str, value: &str) -> Result<u64, UploadError> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UploadError::BadNumber(name));
    }
    value.parse().map_err(|_| UploadError::BadNumber(name))
}

/// `Upload-Checksum: <algorithm> <base64 digest>`.
pub fn parse_checksum(value: &str) -> Result<(Algorithm, Vec<u8>), UploadError> {
    let (name, digest) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| UploadError::BadChecksum("expected \"<algorithm> <base64>\"".into()))?;
    let algorithm = match name {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        other => {
            return Err(UploadError::BadChecksum(format!(
                "{other:?} is not one of {CHECKSUM_ALGORITHMS}"
            )))
        }
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(digest.trim())
        .map_err(|_| UploadError::BadChecksum("the digest is not base64".into()))?;
    let expected = match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
    };
    if digest.len() != expected {
        return Err(UploadError::BadChecksum(format!(
            "a {} digest is {expected} bytes",
            algorithm.name()
        )));
    }
    Ok((algorithm, digest))
}

/// `Upload-Metadata: key base64,key base64,key` — keys unique, values UTF-8.
pub fn parse_metadata(value: &str) -> Result<BTreeMap<String, String>, UploadError> {
    let mut pairs = BTreeMap::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, encoded) = item.split_once(' ').unwrap_or((item, ""));
        let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        if !key_ok {
            return Err(UploadError::BadMetadata(format!("bad key {key:?}")));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| UploadError::BadMetadata(format!("{key}: value is not base64")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| UploadError::BadMetadata(format!("{key}: value is not UTF-8")))?;
        if pairs.insert(key.to_string(), text).is_some() {
            return Err(UploadError::BadMetadata(format!("{key} appears twice")));
        }
    }
    Ok(pairs)
}

/// The declared size of a new upload, checked against the limit.
pub fn creation_length(
    length: Option<u64>,
    deferred: bool,
    max: u64,
) -> Result<Option<u64>, UploadError> {
    match (length, deferred) {
        (Some(length), false) if length > max => Err(UploadError::TooLarge { length, max }),
        (Some(length), false) => Ok(Some(length)),
        (None, true) => Ok(None),
        _ => Err(UploadError::LengthMissing),
    }
}

/// The kinds of file an upload may be, as `uploads.allowed_types` names them.
pub const UPLOAD_KINDS: [&str; 5] = [
    "video/",
    "audio/",
    "text/plain",
    "text/markdown",
    "application/pdf",
];

/// What a finished upload's blob is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobType {
    /// Audio or video: the type comes from the probe, never from the declaration.
    Probed,
    /// A fixed type from `media_type`'s list.
    Fixed(&'static str),
}

/// Checks the type an upload declares (parsed, then matched exactly against the kinds in
/// `allowed`) and says what its blob will be served as. The declared string itself is never
/// used again.
pub fn blob_type(declared: &str, allowed: &[String]) -> Result<BlobType, UploadError> {
    let parsed =
        media_type::parse(declared).map_err(|e| UploadError::MalformedType(e.to_string()))?;
    let not_allowed = || UploadError::TypeNotAllowed(parsed.essence.clone());
    let kind = match parsed.top() {
        "video" => "video/",
        "audio" => "audio/",
        _ => parsed.essence.as_str(),
    };
    if !allowed.iter().any(|a| a == kind) {
        return Err(not_allowed());
    }
    let (blob, params): (BlobType, &[&str]) = match kind {
        "video/" | "audio/" => return Ok(BlobType::Probed),
        "text/plain" => (BlobType::Fixed(media_type::TEXT_PLAIN), &["charset"]),
        "text/markdown" => (BlobType::Fixed(media_type::TEXT_MARKDOWN), &["charset"]),
        "application/pdf" => (BlobType::Fixed(media_type::PDF), &[]),
        _ => return Err(not_allowed()),
    };
    for (name, value) in &parsed.params {
        if !params.contains(&name.as_str()) {
            return Err(UploadError::TypeParameter {
                essence: parsed.essence.clone(),
                name: name.clone(),
            });
        }
        // Text is stored as sent and served as UTF-8, so only UTF-8 (or its ASCII subset) is.
        if name == "charset"
            && !["utf-8", "us-ascii"].contains(&value.to_ascii_lowercase().as_str())
        {
            return Err(UploadError::NotUtf8(value.clone()));
        }
    }
    Ok(blob)
}

/// What a caller wants to do with an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadUse {
    /// HEAD and the status: offset, metadata, outcome.
    See,
    Append,
    /// DELETE.
    End,
}

/// Whether a caller may use an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAccess {
    Granted,
    /// An admin, who may see and end any upload, asking to write into another's.
    Forbidden,
    /// Someone else's upload: to them it does not exist.
    Hidden,
}

impl Upload {
    /// An upload belongs to the token that created it (`identity`); an admin may see and end
    /// any, but writes only into its own.
    pub fn access(&self, identity: &str, admin: bool, what: UploadUse) -> UploadAccess {
        if !self.owner.is_empty() && self.owner == identity {
            UploadAccess::Granted
        } else if !admin {
            UploadAccess::Hidden
        } else if what == UploadUse::Append {
            UploadAccess::Forbidden
        } else {
            UploadAccess::Granted
        }
    }

    pub fn is_complete(&self) -> bool {
        self.length == Some(self.offset)
    }

    /// Checks a PATCH before any byte is written; returns the length it settles, if deferred.
    /// `body_len` is the declared Content-Length, if any.
    pub fn check_patch(
        &self,
        now_ms: i64,
        content_type_ok: bool,
        offset: u64,
        length: Option<u64>,
        body_len: Option<u64>,
        max: u64,
    ) -> Result<Option<u64>, UploadError> {
        if now_ms >= self.expires_ms {
            return Err(UploadError::Expired);
        }
        if self.state != UploadState::Receiving {
            return Err(UploadError::Complete);
        }
        if !content_type_ok {
            return Err(UploadError::WrongContentType);
        }
        if offset != self.offset {
            return Err(UploadError::OffsetMismatch {
                expected: self.offset,
                got: offset,
            });
        }
        let settled = match (self.length, length) {
            (Some(fixed), Some(asked)) if fixed != asked => {
                return Err(UploadError::LengthFixed(fixed))
            }
            (None, Some(asked)) if asked > max => {
                return Err(UploadError::TooLarge { length: asked, max })
            }
            (None, Some(asked)) if asked < offset => {
                return Err(UploadError::PastLength(asked));
            }
            (None, Some(asked)) => Some(asked),
            _ => None,
        };
        let limit = self.length.or(settled).unwrap_or(max);
        if body_len.is_some_and(|n| offset.saturating_add(n) > limit) {
            return Err(UploadError::PastLength(limit));
        }
        Ok(settled)
    }

    /// The most bytes this PATCH may append.
    pub fn room(&self, max: u64) -> u64 {
        self.length.unwrap_or(max).saturating_sub(self.offset)
    }
}

#[cfg(test)]
#[path = "upload_tests.rs"]
mod tests;
