//! Catalogue use cases: create and edit course drafts, attach blobs as variants, publish and
//! retire, each change audited. Permission checks happen before these are called. Writes are
//! serialised by one lock (edits are rare) and readers use an in-memory view rebuilt after each
//! change stations must hear of.

pub mod files;
mod manifest;
pub mod sync;
mod view;

pub use manifest::{apply_manifest, Applied};
pub use sync::{BlobRef, Change, Page, Station, SyncError};
pub use view::{Listing, Query, View};

use crate::audit::{audit, Actor};
use crate::domain::catalog::{CatalogError, Course, CourseState, LessonKind, Variant};
use crate::domain::catalog_edit::{self, Edit, NewCourse};
use crate::domain::digest::Sha256;
use crate::infra::{HasInfra, Infra};
use crate::repo::{CourseEntry, StoreError};
use serde_json::json;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum CatalogOpError {
    #[error(transparent)]
    Rule(#[from] CatalogError),
    #[error("no course {0:?}")]
    NoCourse(String),
    #[error("no lesson {0:?}")]
    NoLesson(String),
    #[error("course {0:?} already exists")]
    CourseExists(String),
    #[error("no stored file {0}; upload it first")]
    UnknownBlob(String),
    #[error("{sha256} cannot be a lesson variant: {reason}")]
    Unplayable { sha256: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the catalogue's use cases stand on: the infrastructure and the catalogue's own state.
pub trait CatalogHost: HasInfra {
    fn catalog(&self) -> &Catalog;
}

impl<T: std::ops::Deref> CatalogHost for T
where
    T::Target: CatalogHost,
{
    fn catalog(&self) -> &Catalog {
        (**self).catalog()
    }
}

/// The write lock and the current read view.
#[derive(Default)]
pub struct Catalog {
    write: Mutex<()>,
    view: RwLock<Option<Arc<View>>>,
}

impl Catalog {
    /// The view readers use; built from the store on first use.
    pub fn view(&self, infra: &Infra) -> Result<Arc<View>, StoreError> {
        if let Some(view) = self
            .view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            return Ok(view.clone());
        }
        let _writer = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let mut slot = self.view.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(view) = slot.as_ref() {
            return Ok(view.clone());
        }
        let view = Arc::new(View::load(&*infra.store)?);
        *slot = Some(view.clone());
        Ok(view)
    }

    /// The view, if one has been built (no waiting on the store).
    pub fn current(&self) -> Option<Arc<View>> {
        self.view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Rebuilds the view after a change, if one is in use (a command-line ingest has none).
    fn refresh(&self, infra: &Infra) -> Result<(), StoreError> {
        let mut slot = self.view.write().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            *slot = Some(Arc::new(View::load(&*infra.store)?));
        }
        Ok(())
    }
}

fn entry(services: &impl CatalogHost, id: &str) -> Result<CourseEntry, CatalogOpError> {
    services
        .infra()
        .store
        .course_entry(id)?
        .ok_or_else(|| CatalogOpError::NoCourse(id.to_string()))
}

/// A course as an editor sees it: its draft, else the version stations hold.
pub fn course_for_editing(host: &impl CatalogHost, id: &str) -> Result<Course, CatalogOpError> {
    host.infra()
        .store
        .course_entry(id)?
        .and_then(|e| e.draft.or(e.published))
        .ok_or_else(|| CatalogOpError::NoCourse(id.to_string()))
}

/// Every course entry, draft and published, in id order (for the editor's list).
pub fn course_entries(host: &impl CatalogHost) -> Result<Vec<CourseEntry>, StoreError> {
    host.infra().store.course_entries()
}

/// The course a lesson belongs to.
pub fn course_of_lesson(
    services: &impl CatalogHost,
    lesson: &str,
) -> Result<String, CatalogOpError> {
    services
        .infra()
        .store
        .lesson_course(lesson)?
        .ok_or_else(|| CatalogOpError::NoLesson(lesson.to_string()))
}

/// A stored blob as a lesson variant. Audio and video must have passed the probe.
pub fn variant_of(services: &impl CatalogHost, sha256: &str) -> Result<Variant, CatalogOpError> {
    let unknown = || CatalogOpError::UnknownBlob(sha256.to_string());
    let hash = Sha256::parse_hex(sha256).map_err(|_| unknown())?;
    let meta = services
        .infra()
        .store
        .blob_meta(&hash)?
        .ok_or_else(unknown)?;
    if LessonKind::Video.accepts(&meta.mime) {
        let unplayable = |reason: String| CatalogOpError::Unplayable {
            sha256: sha256.to_string(),
            reason,
        };
        if let Some(job) = services.infra().store.job(&hash)?.filter(|j| j.unplayable) {
            return Err(unplayable(job.error.unwrap_or_default()));
        }
        if services.infra().store.probe(&hash)?.is_none() {
            return Err(unplayable(
                "it has not been probed as playable media".into(),
            ));
        }
    }
    Ok(Variant {
        sha256: hash.to_hex(),
        mime: meta.mime,
        size: meta.size,
    })
}

pub fn create_course(
    services: &impl CatalogHost,
    new: NewCourse,
    actor: impl Into<Actor>,
) -> Result<Course, CatalogOpError> {
    let catalog = services.catalog();
    let _writer = catalog.write.lock().unwrap_or_else(PoisonError::into_inner);
    let draft = new.draft()?;
    if services.infra().store.course_entry(&draft.id)?.is_some() {
        return Err(CatalogOpError::CourseExists(draft.id));
    }
    let entry = CourseEntry {
        draft: Some(draft.clone()),
        published: None,
        changed_seq: 0,
    };
    services.infra().store.save_draft(&entry, &[])?;
    audit(
        services.infra(),
        actor,
        "course.create",
        &draft.id,
        json!({ "draft": draft }),
    )?;
    services.infra().store.flush()?;
    Ok(draft)
}

/// Applies edits to a course's draft, starting one from the published version if there is
/// none. All edits apply or none do. Returns the draft, or the published version when the
/// edits leave nothing unpublished.
pub fn edit_course(
    services: &impl CatalogHost,
    id: &str,
    edits: Vec<Edit>,
    actor: impl Into<Actor>,
) -> Result<Course, CatalogOpError> {
    let catalog = services.catalog();
    let _writer = catalog.write.lock().unwrap_or_else(PoisonError::into_inner);
    let mut entry = entry(services, id)?;
    let base = match (&entry.draft, &entry.published) {
        (Some(draft), _) => draft.clone(),
        (None, Some(published)) => Course {
            version: published.version + 1,
            state: CourseState::Draft,
            ..published.clone()
        },
        (None, None) => return Err(CatalogOpError::NoCourse(id.to_string())),
    };
    let summary: Vec<String> = edits.iter().map(Edit::summary).collect();
    let edited = catalog_edit::apply(&base, edits)?;
    let mut new_lessons = Vec::new();
    for lesson in &edited.lessons {
        match services.infra().store.lesson_course(&lesson.id)? {
            Some(owner) if owner != id => {
                return Err(CatalogError::LessonTaken(lesson.id.clone()).into())
            }
            Some(_) => {}
            None => new_lessons.push(lesson.id.clone()),
        }
    }
    let unchanged = entry
        .published
        .as_ref()
        .is_some_and(|p| p.same_content(&edited));
    let previous = entry.draft.replace(edited.clone());
    if unchanged {
        entry.draft = None;
    }
    if entry.draft == previous {
        return Ok(entry.draft.or(entry.published).unwrap_or(edited));
    }
    services.infra().store.save_draft(&entry, &new_lessons)?;
    audit(
        services.infra(),
        actor,
        "course.edit",
        id,
        json!({ "edits": summary }),
    )?;
    services.infra().store.flush()?;
    Ok(match (unchanged, entry.published) {
        (true, Some(published)) => published,
        _ => edited,
    })
}

/// Freezes the draft as the next published version (or brings a retired course back).
pub fn publish(
    services: &impl CatalogHost,
    id: &str,
    actor: impl Into<Actor>,
) -> Result<Course, CatalogOpError> {
    let catalog = services.catalog();
    let _writer = catalog.write.lock().unwrap_or_else(PoisonError::into_inner);
    let mut entry = entry(services, id)?;
    let mut course = match (entry.draft.take(), &entry.published) {
        (Some(draft), _) => draft,
        (None, Some(retired)) if retired.state == CourseState::Retired => Course {
            version: retired.version + 1,
            ..retired.clone()
        },
        (None, _) => return Err(CatalogError::NothingToPublish(id.to_string()).into()),
    };
    course.check_publishable()?;
    course.state = CourseState::Published;
    entry.published = Some(course.clone());
    let frozen = course.clone();
    announce(
        services,
        &entry,
        Some(&frozen),
        "course.publish",
        actor.into(),
    )?;
    Ok(course)
}

/// Withdraws a published course: stations drop it at their next sync. Its draft is kept.
pub fn retire(
    services: &impl CatalogHost,
    id: &str,
    actor: impl Into<Actor>,
) -> Result<Course, CatalogOpError> {
    let catalog = services.catalog();
    let _writer = catalog.write.lock().unwrap_or_else(PoisonError::into_inner);
    let mut entry = entry(services, id)?;
    let course = match entry.published.as_mut() {
        Some(course) if course.state == CourseState::Published => {
            course.state = CourseState::Retired;
            course.clone()
        }
        _ => return Err(CatalogError::NotPublished(id.to_string()).into()),
    };
    announce(services, &entry, None, "course.retire", actor.into())?;
    Ok(course)
}

/// Records a change stations must hear of, audits it, and refreshes the readers' view.
fn announce(
    services: &impl CatalogHost,
    entry: &CourseEntry,
    frozen: Option<&Course>,
    action: &str,
    actor: Actor,
) -> Result<(), CatalogOpError> {
    let seq = services.infra().store.save_change(entry, frozen)?;
    let version = entry.published.as_ref().map_or(0, |c| c.version);
    audit(
        services.infra(),
        actor,
        action,
        entry.id(),
        json!({ "version": version, "seq": seq }),
    )?;
    services.infra().store.flush()?;
    services.catalog().refresh(services.infra())?;
    Ok(())
}

/// Tells stations again about every published course that uses `sha256`, because files made
/// from it (renditions, HLS, a thumbnail) are now there to fetch. Returns how many courses.
pub fn files_ready(services: &impl CatalogHost, sha256: &Sha256) -> Result<usize, StoreError> {
    let catalog = services.catalog();
    let _writer = catalog.write.lock().unwrap_or_else(PoisonError::into_inner);
    let hex = sha256.to_hex();
    let mut touched = 0;
    for entry in services.infra().store.course_entries()? {
        let uses = entry.published.as_ref().is_some_and(|c| {
            c.state == CourseState::Published
                && c.lessons
                    .iter()
                    .any(|l| l.variants.values().any(|v| v.sha256 == hex))
        });
        if uses {
            services.infra().store.save_change(&entry, None)?;
            touched += 1;
        }
    }
    if touched > 0 {
        services.infra().store.flush()?;
        catalog.refresh(services.infra())?;
    }
    Ok(touched)
}
