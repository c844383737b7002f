//! A course folder's manifest, applied through the same edits and publish the API uses:
//! ingest makes the catalogue say what the folder says, and publishes only if that changed.

use super::CatalogHost;
use super::{create_course, edit_course, publish, CatalogOpError};
use crate::domain::catalog::{Course, Localized, Variant};
use crate::domain::catalog_edit::{
    CoursePatch, Edit, LessonPatch, LocalizedPatch, NewCourse, NewLesson,
};
use crate::domain::lang::Lang;
use crate::domain::manifest::CourseManifest;
use crate::people::Actor;
use std::collections::BTreeMap;

/// What ingesting a manifest did to the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Published as this version.
    Published(u32),
    /// The published version already says the same.
    Unchanged(u32),
}

/// Sets every language of `current` to what `wanted` says, removing the ones it lacks.
fn replace(current: &Localized, wanted: &Localized) -> LocalizedPatch {
    let mut patch: LocalizedPatch = current.keys().map(|l| (l.clone(), None)).collect();
    patch.extend(wanted.iter().map(|(l, t)| (l.clone(), Some(t.clone()))));
    patch
}

/// The edits that turn `current` into what `manifest` and its stored `variants` describe.
fn edits_towards(
    current: &Course,
    manifest: &CourseManifest,
    variants: &BTreeMap<String, BTreeMap<Lang, Variant>>,
) -> Vec<Edit> {
    let mut edits = vec![Edit::Course(CoursePatch {
        title: Some(replace(&current.title, &manifest.title)),
        description: Some(replace(&current.description, &manifest.description)),
        translation: Some(replace(&current.translation, &manifest.translation)),
        themes: Some(manifest.themes.clone()),
        audiences: Some(manifest.audiences.clone()),
        programs: Some(manifest.programs.clone()),
        lessons: None,
    })];
    for old in &current.lessons {
        if !manifest.lessons.iter().any(|l| l.id == old.id) {
            edits.push(Edit::RemoveLesson(old.id.clone()));
        }
    }
    let no_variants = BTreeMap::new();
    for lesson in &manifest.lessons {
        let held = current.lesson(&lesson.id);
        match held {
            None => edits.push(Edit::AddLesson(NewLesson {
                id: lesson.id.clone(),
                kind: lesson.kind,
                duration_ms: lesson.duration_ms,
                title: lesson.title.clone(),
            })),
            Some(held) => edits.push(Edit::Lesson {
                id: lesson.id.clone(),
                patch: LessonPatch {
                    kind: Some(lesson.kind),
                    duration_ms: Some(lesson.duration_ms),
                    title: Some(replace(&held.title, &lesson.title)),
                },
            }),
        }
        let wanted = variants.get(&lesson.id).unwrap_or(&no_variants);
        for lang in held.into_iter().flat_map(|h| h.variants.keys()) {
            if !wanted.contains_key(lang) {
                edits.push(Edit::RemoveVariant {
                    lesson: lesson.id.clone(),
                    lang: lang.clone(),
                });
            }
        }
        for (lang, variant) in wanted {
            edits.push(Edit::SetVariant {
                lesson: lesson.id.clone(),
                lang: lang.clone(),
                variant: variant.clone(),
            });
        }
    }
    edits.push(Edit::Course(CoursePatch {
        lessons: Some(manifest.lessons.iter().map(|l| l.id.clone()).collect()),
        ..CoursePatch::default()
    }));
    edits
}

/// Makes the course say what `manifest` says, then publishes it if anything changed.
pub fn apply_manifest(
    services: &impl CatalogHost,
    manifest: &CourseManifest,
    variants: &BTreeMap<String, BTreeMap<Lang, Variant>>,
    actor: &Actor,
) -> Result<Applied, CatalogOpError> {
    let current = match services.infra().store.course_entry(&manifest.slug)? {
        Some(entry) => entry.draft.or(entry.published),
        None => None,
    };
    let current = match current {
        Some(course) => course,
        None => create_course(
            services,
            NewCourse {
                id: manifest.slug.clone(),
                title: manifest.title.clone(),
                description: manifest.description.clone(),
                translation: manifest.translation.clone(),
                themes: manifest.themes.clone(),
                audiences: manifest.audiences.clone(),
                programs: manifest.programs.clone(),
            },
            actor,
        )?,
    };
    let edited = edit_course(
        services,
        &manifest.slug,
        edits_towards(&current, manifest, variants),
        actor,
    )?;
    if edited.state == crate::domain::catalog::CourseState::Published {
        return Ok(Applied::Unchanged(edited.version));
    }
    let published = publish(services, &manifest.slug, actor)?;
    Ok(Applied::Published(published.version))
}
