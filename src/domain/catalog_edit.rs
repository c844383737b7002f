//! Edits to a course draft, as pure changes that either all apply and leave a valid course, or
//! leave it untouched.

use super::catalog::{
    check_identifier, Audience, CatalogError, Course, CourseState, Lesson, LessonKind, Localized,
    Program, Theme, Variant,
};
use super::lang::Lang;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Per-language changes to a text: a value sets that language, `null` removes it
/// (JSON merge-patch, RFC 7396).
pub type LocalizedPatch = BTreeMap<Lang, Option<String>>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoursePatch {
    pub title: Option<LocalizedPatch>,
    pub description: Option<LocalizedPatch>,
    pub translation: Option<LocalizedPatch>,
    pub themes: Option<Vec<Theme>>,
    pub audiences: Option<Vec<Audience>>,
    pub programs: Option<Vec<Program>>,
    /// Every lesson id of the course, in the new order.
    pub lessons: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    pub id: String,
    pub title: Localized,
    #[serde(default)]
    pub description: Localized,
    #[serde(default)]
    pub translation: Localized,
    pub themes: Vec<Theme>,
    pub audiences: Vec<Audience>,
    #[serde(default)]
    pub programs: Vec<Program>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLesson {
    pub id: String,
    pub kind: LessonKind,
    pub duration_ms: u64,
    pub title: Localized,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonPatch {
    pub kind: Option<LessonKind>,
    pub duration_ms: Option<u64>,
    pub title: Option<LocalizedPatch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Course(CoursePatch),
    AddLesson(NewLesson),
    Lesson {
        id: String,
        patch: LessonPatch,
    },
    RemoveLesson(String),
    SetVariant {
        lesson: String,
        lang: Lang,
        variant: Variant,
    },
    RemoveVariant {
        lesson: String,
        lang: Lang,
    },
}

impl Edit {
    /// A short line for the audit log.
    pub fn summary(&self) -> String {
        match self {
            Edit::Course(_) => "course".into(),
            Edit::AddLesson(new) => format!("add-lesson {}", new.id),
            Edit::Lesson { id, .. } => format!("lesson {id}"),
            Edit::RemoveLesson(id) => format!("remove-lesson {id}"),
            Edit::SetVariant {
                lesson,
                lang,
                variant,
            } => format!("set-variant {lesson} {lang} {}", variant.sha256),
            Edit::RemoveVariant { lesson, lang } => format!("remove-variant {lesson} {lang}"),
        }
    }
}

impl NewCourse {
    /// The first draft of the course.
    pub fn draft(self) -> Result<Course, CatalogError> {
        let course = Course {
            id: self.id,
            version: 1,
            state: CourseState::Draft,
            title: self.title,
            description: self.description,
            translation: self.translation,
            themes: self.themes,
            audiences: self.audiences,
            programs: self.programs,
            lessons: Vec::new(),
        };
        course.check()?;
        Ok(course)
    }
}

fn merge(texts: &mut Localized, patch: LocalizedPatch) {
    for (lang, value) in patch {
        match value {
            Some(text) => texts.insert(lang, text),
            None => texts.remove(&lang),
        };
    }
}

/// Applies `edits` in order to a copy of `draft`; returns the result only if it is valid.
pub fn apply(draft: &Course, edits: Vec<Edit>) -> Result<Course, CatalogError> {
    let mut course = draft.clone();
    for edit in edits {
        apply_one(&mut course, edit)?;
    }
    course.check()?;
    Ok(course)
}

fn lesson_mut<'a>(course: &'a mut Course, id: &str) -> Result<&'a mut Lesson, CatalogError> {
    let course_id = course.id.clone();
    course
        .lessons
        .iter_mut()
        .find(|l| l.id == id)
        .ok_or_else(|| CatalogError::UnknownLesson {
            course: course_id,
            lesson: id.to_string(),
        })
}

fn apply_one(course: &mut Course, edit: Edit) -> Result<(), CatalogError> {
    match edit {
        Edit::Course(patch) => patch_course(course, patch)?,
        Edit::AddLesson(new) => {
            check_identifier("lesson id", &new.id)?;
            if course.lesson(&new.id).is_some() {
                return Err(CatalogError::LessonTaken(new.id));
            }
            course.lessons.push(Lesson {
                id: new.id,
                kind: new.kind,
                duration_ms: new.duration_ms,
                title: new.title,
                variants: BTreeMap::new(),
            });
        }
        Edit::Lesson { id, patch } => {
            let lesson = lesson_mut(course, &id)?;
            if let Some(kind) = patch.kind {
                lesson.kind = kind;
            }
            if let Some(duration_ms) = patch.duration_ms {
                lesson.duration_ms = duration_ms;
            }
            if let Some(title) = patch.title {
                merge(&mut lesson.title, title);
            }
        }
        Edit::RemoveLesson(id) => {
            lesson_mut(course, &id)?;
            course.lessons.retain(|l| l.id != id);
        }
        Edit::SetVariant {
            lesson,
            lang,
            variant,
        } => {
            lesson_mut(course, &lesson)?.variants.insert(lang, variant);
        }
        Edit::RemoveVariant { lesson, lang } => {
            if lesson_mut(course, &lesson)?
                .variants
                .remove(&lang)
                .is_none()
            {
                return Err(CatalogError::NoSuchVariant { lesson, lang });
            }
        }
    }
    Ok(())
}

fn patch_course(course: &mut Course, patch: CoursePatch) -> Result<(), CatalogError> {
    if let Some(title) = patch.title {
        merge(&mut course.title, title);
    }
    if let Some(description) = patch.description {
        merge(&mut course.description, description);
    }
    if let Some(translation) = patch.translation {
        merge(&mut course.translation, translation);
    }
    if let Some(themes) = patch.themes {
        course.themes = dedup(themes);
    }
    if let Some(audiences) = patch.audiences {
        course.audiences = dedup(audiences);
    }
    if let Some(programs) = patch.programs {
        course.programs = dedup(programs);
    }
    if let Some(order) = patch.lessons {
        reorder(course, &order)?;
    }
    Ok(())
}

fn dedup<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

fn reorder(course: &mut Course, order: &[String]) -> Result<(), CatalogError> {
    let mut current: Vec<&str> = course.lessons.iter().map(|l| l.id.as_str()).collect();
    let mut wanted: Vec<&str> = order.iter().map(String::as_str).collect();
    current.sort_unstable();
    wanted.sort_unstable();
    if current != wanted {
        return Err(CatalogError::BadOrder(format!(
            "the course has {current:?}, the order names {order:?}"
        )));
    }
    let rank = |l: &Lesson| order.iter().position(|id| *id == l.id);
    course.lessons.sort_by_key(rank);
    Ok(())
}
