//! The files a lesson's variant is played and downloaded as: what processing made from its
//! source (renditions, sound only, HLS, thumbnail), each with its own hash and size, so a member
//! page can say what each costs and check a download.

use crate::domain::digest::Sha256;
use crate::domain::media::Probe;
use crate::infra::Infra;
use crate::repo::{BlobMeta, Job, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeFile {
    /// Path under the variant, e.g. `240p.mp4`, `audio.m4a`, `hls/master.m3u8`.
    pub path: String,
    pub sha256: String,
    /// `None` while the blob's record is missing (a file being made right now).
    pub size: Option<u64>,
    pub mime: Option<String>,
}

/// Everything made from `source`, in path order.
pub fn made_from(infra: &Infra, source: &Sha256) -> Result<Vec<MadeFile>, StoreError> {
    let store = &infra.store;
    let mut files = Vec::new();
    for (path, sha256) in store.derived_files(source)? {
        let meta = match Sha256::parse_hex(&sha256) {
            Ok(blob) => store.blob_meta(&blob)?,
            Err(_) => None,
        };
        files.push(MadeFile {
            path,
            sha256,
            size: meta.as_ref().map(|m| m.size),
            mime: meta.map(|m| m.mime),
        });
    }
    Ok(files)
}

/// The blob made from `source` at `path` (e.g. `240p.mp4`).
pub fn made_at(infra: &Infra, source: &Sha256, path: &str) -> Result<Option<Sha256>, StoreError> {
    infra.store.derived(source, path)
}

/// What was recorded of a stored blob: size, type, name.
pub fn blob(infra: &Infra, sha256: &Sha256) -> Result<Option<BlobMeta>, StoreError> {
    infra.store.blob_meta(sha256)
}

/// Everything known of a stored blob, for `GET /api/v1/assets/{sha256}`.
pub struct Asset {
    pub meta: BlobMeta,
    pub probe: Option<Probe>,
    pub job: Option<Job>,
    /// (path, blob) of each file made from it.
    pub derived: Vec<(String, String)>,
}

pub fn asset(infra: &Infra, sha256: &Sha256) -> Result<Option<Asset>, StoreError> {
    let store = &infra.store;
    let Some(meta) = store.blob_meta(sha256)? else {
        return Ok(None);
    };
    Ok(Some(Asset {
        meta,
        probe: store.probe(sha256)?,
        job: store.job(sha256)?,
        derived: store.derived_files(sha256)?,
    }))
}

/// What a member can take home of a variant, lightest first: the sound alone and the video
/// renditions by height; the source itself when processing made none (a text lesson, or one
/// still being processed).
pub fn downloadable(made: &[MadeFile]) -> Vec<&MadeFile> {
    let height = |f: &MadeFile| -> Option<u32> {
        if f.path == "audio.m4a" {
            return Some(0);
        }
        f.path.strip_suffix("p.mp4")?.parse().ok()
    };
    let mut list: Vec<(&MadeFile, u32)> = made
        .iter()
        .filter_map(|f| Some((f, height(f)?)))
        .filter(|(f, _)| f.size.is_some())
        .collect();
    list.sort_by_key(|&(_, h)| h);
    list.into_iter().map(|(f, _)| f).collect()
}
