//! `yuanjiao ingest DIR`: reads course folders (each with a `course.toml`), stores every variant
//! file as a blob, and makes the catalogue say what the folder says through the same edits
//! and publish the API uses. Running it twice changes nothing.

use crate::catalog::{self, Applied, CatalogOpError};
use crate::domain::catalog::Variant;
use crate::domain::lang::Lang;
use crate::domain::manifest::{CourseManifest, ManifestError};
use crate::domain::media::{Probe, Unplayable};
use crate::domain::representation::content_type_for;
use crate::media::isolation::ProbeError;
use crate::media::jobs;
use crate::repo::StoreError;
use crate::services::{AddBlobError, Services};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "course.toml";

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0} holds no {MANIFEST}, and no folder inside it does")]
    NoCourses(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Invalid {
        path: PathBuf,
        source: ManifestError,
    },
    #[error("{path}: slug {slug:?} must equal the folder name")]
    SlugMismatch { path: PathBuf, slug: String },
    #[error("{path}: storing {file}: {source}")]
    Store {
        path: PathBuf,
        file: String,
        source: AddBlobError,
    },
    #[error("{path}: cannot play: {reason}")]
    Unplayable { path: PathBuf, reason: Unplayable },
    #[error("{path}: {source}")]
    Probe {
        path: PathBuf,
        source: crate::media::isolation::WorkerError,
    },
    #[error("{path}: {source}")]
    Catalog {
        path: PathBuf,
        source: CatalogOpError,
    },
    #[error(transparent)]
    Record(#[from] StoreError),
}

/// Hears how an ingest goes, file by file (the command line draws progress bars with it).
pub trait IngestObserver {
    /// Wraps the reader of a file about to be hashed and stored.
    fn reading(&mut self, _file: &str, reader: File) -> Box<dyn Read> {
        Box::new(reader)
    }

    fn stored(&mut self, _outcome: &FileOutcome) {}
}

/// Takes no notice.
pub struct Quiet;

impl IngestObserver for Quiet {}

/// Whether a file is audio or video, and so must be probed before it is accepted.
fn is_media(file: &str) -> bool {
    let mime = content_type_for(file);
    mime.starts_with("video/") || mime.starts_with("audio/")
}

/// One variant file as stored.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub lesson: String,
    pub lang: Lang,
    pub file: String,
    pub sha256: String,
    pub size: u64,
    pub new: bool,
    /// True when this ingest queued renditions for it.
    pub queued: bool,
    /// What the probe found, for audio and video.
    pub probe: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CourseOutcome {
    pub slug: String,
    pub record: Applied,
    pub files: Vec<FileOutcome>,
}

/// The course folders under `dir`: `dir` itself if it has a manifest, else its subfolders that do.
pub fn course_dirs(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    if dir.join(MANIFEST).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let read_error = |source| IngestError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.join(MANIFEST).is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    if dirs.is_empty() {
        return Err(IngestError::NoCourses(dir.to_path_buf()));
    }
    Ok(dirs)
}

/// Reads and checks a course folder's manifest, and that every variant file is there.
pub fn read_manifest(dir: &Path) -> Result<CourseManifest, IngestError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|source| IngestError::Read {
        path: path.clone(),
        source,
    })?;
    let manifest: CourseManifest = toml::from_str(&text).map_err(|e| IngestError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    manifest.validate().map_err(|source| IngestError::Invalid {
        path: path.clone(),
        source,
    })?;
    if dir.file_name().and_then(|n| n.to_str()) != Some(manifest.slug.as_str()) {
        return Err(IngestError::SlugMismatch {
            path,
            slug: manifest.slug,
        });
    }
    for file in manifest.lessons.iter().flat_map(|l| l.variants.values()) {
        let variant = dir.join(file);
        if !variant.is_file() {
            return Err(IngestError::Read {
                path: variant,
                source: io::Error::new(io::ErrorKind::NotFound, "variant file is missing"),
            });
        }
    }
    Ok(manifest)
}

/// Ingests one course folder. Every audio and video file is probed first: one that cannot
/// play stops the course before anything of it is stored.
pub fn ingest_course(
    services: &Services,
    dir: &Path,
    observer: &mut dyn IngestObserver,
) -> Result<CourseOutcome, IngestError> {
    let manifest = read_manifest(dir)?;
    let mut probes: BTreeMap<String, Probe> = BTreeMap::new();
    for file in manifest.lessons.iter().flat_map(|l| l.variants.values()) {
        if is_media(file) && !probes.contains_key(file) {
            let path = dir.join(file);
            let probe = jobs::admit(&services.settings, &path).map_err(|e| match e {
                ProbeError::Unplayable(reason) => IngestError::Unplayable { path, reason },
                ProbeError::Worker(source) => IngestError::Probe { path, source },
            })?;
            probes.insert(file.clone(), probe);
        }
    }
    let mut variants: BTreeMap<String, BTreeMap<Lang, Variant>> = BTreeMap::new();
    let mut files = Vec::new();
    for lesson in &manifest.lessons {
        for (lang, file) in &lesson.variants {
            let path = dir.join(file);
            let store_error = |source| IngestError::Store {
                path: path.clone(),
                file: file.clone(),
                source,
            };
            let reader =
                File::open(&path).map_err(|e| store_error(AddBlobError::Blob(e.into())))?;
            let (stored, _) = services
                .add_blob(observer.reading(file, reader), file)
                .map_err(store_error)?;
            let queued = match probes.get(file) {
                Some(probe) => jobs::register(services, &stored.sha256, probe)?,
                None => false,
            };
            let outcome = FileOutcome {
                lesson: lesson.id.clone(),
                lang: lang.clone(),
                file: file.clone(),
                sha256: stored.sha256.to_hex(),
                size: stored.size,
                new: stored.new,
                queued,
                probe: probes.get(file).map(Probe::summary),
            };
            observer.stored(&outcome);
            let variant = catalog::variant_of(services, &outcome.sha256).map_err(|source| {
                IngestError::Catalog {
                    path: path.clone(),
                    source,
                }
            })?;
            variants
                .entry(lesson.id.clone())
                .or_default()
                .insert(lang.clone(), variant);
            files.push(outcome);
        }
    }
    services.store.flush()?;
    let record = catalog::apply_manifest(services, &manifest, &variants, &"cli:ingest".into())
        .map_err(|source| IngestError::Catalog {
            path: dir.join(MANIFEST),
            source,
        })?;
    Ok(CourseOutcome {
        slug: manifest.slug,
        record,
        files,
    })
}
