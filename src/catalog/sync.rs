//! Station sync: the courses that changed after a sequence number, as the station holds them
//! (its languages and audiences only), and every file it must fetch for them.

use super::View;
use crate::domain::catalog::{Audience, Course};
use crate::domain::digest::Sha256;
use crate::domain::lang::{Fallbacks, Lang};
use crate::infra::Infra;
use crate::repo::{StoreError, Terminal};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a station holds: its languages with everything they fall back to, and its audiences.
pub struct Station {
    pub languages: BTreeSet<Lang>,
    pub audiences: Vec<Audience>,
}

impl Station {
    pub fn of(terminal: &Terminal, fallbacks: &Fallbacks) -> Station {
        let mut languages: BTreeSet<Lang> = terminal
            .languages
            .iter()
            .flat_map(|l| fallbacks.chain(l))
            .collect();
        languages.insert(Lang::chinese());
        Station {
            languages,
            audiences: terminal.audiences.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Change {
    /// Hold this version of the course (replacing any other).
    Put {
        seq: u64,
        course: Course,
        /// For each variant blob, the files made from it: path → blob.
        files: BTreeMap<String, BTreeMap<String, String>>,
    },
    /// Drop the course, if held.
    Delete { seq: u64, id: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
    pub mime: String,
    pub url: String,
}

pub struct Page {
    /// The sequence number the station is at once it has applied this page.
    pub seq: u64,
    pub changes: Vec<Change>,
    pub blobs: Vec<BlobRef>,
    pub more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "this server's catalogue is at {head}, behind the {since} asked for; sync again from 0"
    )]
    Ahead { since: u64, head: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Up to `limit` changes after `since`, and the blobs the `Put`s among them need.
pub fn changes(
    infra: &Infra,
    view: &View,
    station: &Station,
    since: u64,
    limit: usize,
) -> Result<Page, SyncError> {
    if since > view.seq() {
        return Err(SyncError::Ahead {
            since,
            head: view.seq(),
        });
    }
    let mut pending = view.changes_after(since);
    let mut changes = Vec::new();
    let mut blobs = BTreeMap::new();
    let mut last = since;
    for (course, seq) in pending.by_ref().take(limit) {
        last = seq;
        changes.push(
            match course.for_station(&station.languages, &station.audiences) {
                Some(course) => {
                    let files = files_of(infra, &course, &mut blobs)?;
                    Change::Put { seq, course, files }
                }
                None => Change::Delete {
                    seq,
                    id: course.id.clone(),
                },
            },
        );
    }
    let more = pending.next().is_some();
    Ok(Page {
        seq: if more { last } else { view.seq() },
        changes,
        blobs: blobs.into_values().collect(),
        more,
    })
}

/// Adds every blob of `course` (variants and what was made from them) to `blobs`, and returns
/// the derived files of each variant.
fn files_of(
    infra: &Infra,
    course: &Course,
    blobs: &mut BTreeMap<String, BlobRef>,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, StoreError> {
    let mut files = BTreeMap::new();
    for variant in course.lessons.iter().flat_map(|l| l.variants.values()) {
        let Ok(source) = Sha256::parse_hex(&variant.sha256) else {
            continue;
        };
        add_blob(infra, &source, blobs)?;
        let derived = infra.store.derived_files(&source)?;
        for (_, blob) in &derived {
            if let Ok(blob) = Sha256::parse_hex(blob) {
                add_blob(infra, &blob, blobs)?;
            }
        }
        if !derived.is_empty() {
            files.insert(variant.sha256.clone(), derived.into_iter().collect());
        }
    }
    Ok(files)
}

fn add_blob(
    infra: &Infra,
    sha256: &Sha256,
    blobs: &mut BTreeMap<String, BlobRef>,
) -> Result<(), StoreError> {
    let hex = sha256.to_hex();
    if blobs.contains_key(&hex) {
        return Ok(());
    }
    if let Some(meta) = infra.store.blob_meta(sha256)? {
        blobs.insert(
            hex.clone(),
            BlobRef {
                url: format!("/media/{hex}"),
                sha256: hex,
                size: meta.size,
                // What /media serves it as, so a station serving it on does the same.
                mime: crate::domain::media_type::served(&meta.mime)
                    .content_type
                    .to_string(),
            },
        );
    }
    Ok(())
}
