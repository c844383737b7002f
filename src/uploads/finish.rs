//! What happens around and after the bytes: expired uploads swept away, and a finished upload
//! turned into a blob, probed, queued for processing and attached to its lesson when ready.

use super::{claim, declared_type, find, now_ms, part_path, remove, UploadOpError, UploadsHost};
use crate::catalog;
use crate::domain::catalog_edit::Edit;
use crate::domain::digest::Sha256;
use crate::domain::media::{interrupted_reason, retry_after_interruption, Probe};
use crate::domain::media_type;
use crate::domain::upload::{blob_type, Attach, BlobType, Upload, UploadState};
use crate::media::isolation::{ProbeError, WorkerError};
use crate::media::jobs;
use crate::repo::{BlobMeta, StoreError};
use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Removes unfinished uploads past their expiry, and files no upload owns. Returns how many.
pub fn sweep(services: &Arc<impl UploadsHost>) -> Result<usize, UploadOpError> {
    let now = now_ms(services);
    let mut removed = 0;
    let uploads = services.infra().store.uploads()?;
    for upload in &uploads {
        if upload.state == UploadState::Receiving && upload.expires_ms <= now {
            if let Ok(_claim) = claim(services, &upload.id) {
                remove(services, &upload.id)?;
                removed += 1;
            }
        }
    }
    let known: HashSet<String> = uploads.iter().map(|u| format!("{}.part", u.id)).collect();
    let dir = services.infra().settings.storage.data_dir.join("uploads");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name)
                && services
                    .infra()
                    .store
                    .upload(name.trim_end_matches(".part"))?
                    .is_none()
            {
                let _ = std::fs::remove_file(entry.path());
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Finishes uploads a stop interrupted, then sweeps on a timer, on its own thread.
pub fn spawn_housekeeping(services: Arc<impl UploadsHost>) -> io::Result<()> {
    for upload in services.infra().store.uploads().unwrap_or_default() {
        if matches!(
            upload.state,
            UploadState::Verifying | UploadState::Moving { .. }
        ) {
            spawn_finish(services.clone(), upload.id);
        }
    }
    std::thread::Builder::new()
        .name("upload-sweeper".into())
        .spawn(move || loop {
            match sweep(&services) {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired uploads removed"),
                Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
            }
            std::thread::sleep(services.infra().settings.uploads.sweep_every);
        })?;
    Ok(())
}

pub(super) fn spawn_finish(services: Arc<impl UploadsHost>, id: String) {
    let spawned = std::thread::Builder::new()
        .name("upload-finish".into())
        .spawn(move || {
            if let Err(e) = finish(&services, &id) {
                tracing::error!(upload = %id, error = %e, "finishing an upload failed");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start finishing an upload");
    }
}

/// A complete upload becomes a blob: audio and video are probed first (an unplayable file is
/// rejected with the probe's reason) and queued for processing; text is attached at once.
fn finish(services: &impl UploadsHost, id: &str) -> Result<(), UploadOpError> {
    let mut upload = find(services, id)?;
    let path = part_path(services, id);
    // Checked again here: a record created under older rules may declare anything.
    let blob_type = blob_type(
        &declared_type(&upload.metadata),
        &services.infra().settings.uploads.allowed_types,
    );
    let media = blob_type == Ok(BlobType::Probed);
    let mut probed = None;
    if upload.state == UploadState::Verifying {
        if let Err(refused) = &blob_type {
            upload.state = UploadState::Rejected {
                reason: refused.to_string(),
            };
            services.infra().store.put_upload(&upload)?;
            services.infra().store.flush()?;
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        if media {
            match verify(services, &mut upload, &path)? {
                Ok(probe) => probed = Some(probe),
                Err(reason) => {
                    upload.state = UploadState::Rejected { reason };
                    services.infra().store.put_upload(&upload)?;
                    services.infra().store.flush()?;
                    let _ = std::fs::remove_file(&path);
                    return Ok(());
                }
            }
        }
        // Record the hash before the file moves, so a crash in between can be finished.
        let (sha256, size) = services.infra().blobs.hash_file(&path)?;
        upload.state = UploadState::Moving {
            sha256: sha256.to_hex(),
            size,
        };
        services.infra().store.put_upload(&upload)?;
        services.infra().store.flush()?;
    }
    let UploadState::Moving { sha256, size } = upload.state.clone() else {
        return Ok(());
    };
    let hash = Sha256::parse_hex(&sha256).map_err(|e| UploadOpError::BadTarget(e.to_string()))?;
    services.infra().blobs.move_in(&path, &hash)?;
    let filename = upload
        .metadata
        .get("filename")
        .cloned()
        .unwrap_or_else(|| format!("{id}.bin"));
    // Probed above, unless this finishes a move a stop interrupted.
    let probe = match probed {
        Some(probe) => Some(probe),
        None if media => jobs::admit(
            &services.infra().settings,
            &services.infra().blobs.path(&hash),
        )
        .ok(),
        None => None,
    };
    // Never the declared string: the probe's type, or a fixed one from the list.
    let mime = match (&blob_type, &probe) {
        (Ok(BlobType::Fixed(fixed)), _) => fixed,
        (_, Some(probe)) => media_type::of_probe(probe),
        _ => media_type::OCTET_STREAM,
    };
    let meta = BlobMeta {
        size,
        mime: mime.to_string(),
        filename,
        created_ms: services.infra().now_ms(),
    };
    services.infra().store.insert_blob_meta(&hash, &meta)?;
    let queued = match &probe {
        Some(probe) => jobs::register(services, &hash, probe)?,
        None => false,
    };
    upload.state = UploadState::Stored { sha256 };
    services.infra().store.put_upload(&upload)?;
    services.infra().store.flush()?;
    // Text, audio without pictures, and media already processed are ready now.
    let ready = !queued
        && services
            .infra()
            .store
            .job(&hash)?
            .is_none_or(|j| j.status == crate::repo::JobStatus::Ready);
    if ready {
        attach_ready(services, &hash)?;
    }
    Ok(())
}

/// Probes a complete upload in a media worker: the playable file's probe, or the reason it is
/// refused. Each try is counted in the upload before it starts, so a file whose probe kills
/// its worker, or the whole server, is refused after `media.max_attempts` tries, at start-up
/// as well, instead of being probed again on every start.
fn verify(
    services: &impl UploadsHost,
    upload: &mut Upload,
    path: &Path,
) -> Result<Result<Probe, String>, UploadOpError> {
    let max = services.infra().settings.media.max_attempts;
    let mut death = None;
    while retry_after_interruption(upload.verify_attempts, max) {
        upload.verify_attempts += 1;
        services.infra().store.put_upload(upload)?;
        services.infra().store.flush()?;
        match jobs::admit(&services.infra().settings, path) {
            Ok(probe) => return Ok(Ok(probe)),
            Err(ProbeError::Unplayable(reason)) => return Ok(Err(reason.to_string())),
            Err(ProbeError::Worker(e @ WorkerError::Start { .. })) => {
                // The server's fault, not the file's: this try does not count.
                upload.verify_attempts -= 1;
                services.infra().store.put_upload(upload)?;
                services.infra().store.flush()?;
                return Err(e.into());
            }
            Err(ProbeError::Worker(e)) => {
                tracing::warn!(upload = %upload.id, attempt = upload.verify_attempts, error = %e, "probing an upload failed");
                death = Some(e);
            }
        }
    }
    Ok(Err(match death {
        Some(e) => format!("cannot probe: {e}"),
        None => interrupted_reason(upload.verify_attempts),
    }))
}

/// Attaches every stored upload of `sha256` that names a lesson; called once the file is
/// ready (for video, when its renditions are made).
pub fn attach_ready(services: &impl UploadsHost, sha256: &Sha256) -> Result<(), StoreError> {
    let hex = sha256.to_hex();
    for mut upload in services.infra().store.uploads()? {
        let stored = matches!(&upload.state, UploadState::Stored { sha256 } if *sha256 == hex);
        let Some(target) = upload.attach.as_mut().filter(|a| stored && !a.done) else {
            continue;
        };
        let outcome = attach(services, &hex, target, &upload.owner);
        target.done = true;
        target.error = outcome.err().map(|e| e.to_string());
        services.infra().store.put_upload(&upload)?;
    }
    services.infra().store.flush()
}

fn attach(
    services: &impl UploadsHost,
    sha256: &str,
    target: &Attach,
    actor: &str,
) -> Result<(), catalog::CatalogOpError> {
    let course = catalog::course_of_lesson(services, &target.lesson)?;
    let variant = catalog::variant_of(services, sha256)?;
    let edit = Edit::SetVariant {
        lesson: target.lesson.clone(),
        lang: target.lang.clone(),
        variant,
    };
    catalog::edit_course(services, &course, vec![edit], actor)?;
    if target.publish {
        match catalog::publish(services, &course, actor) {
            Err(catalog::CatalogOpError::Rule(
                crate::domain::catalog::CatalogError::NothingToPublish(_),
            )) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}
