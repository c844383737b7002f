//! Courses as an editor writes them in a course folder's `course.toml`. Ingest turns one into
//! the same catalogue edits the API makes.

use super::catalog::{is_identifier, Audience, LessonKind, Localized, Program, Theme};
use super::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A course as written in `course.toml`; variant values are file names in the course folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseManifest {
    pub slug: String,
    pub themes: Vec<Theme>,
    pub audiences: Vec<Audience>,
    #[serde(default)]
    pub programs: Vec<Program>,
    pub title: Localized,
    pub description: Localized,
    /// How each translation was made (e.g. an unreviewed machine-assisted draft).
    #[serde(default)]
    pub translation: Localized,
    pub lessons: Vec<LessonManifest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonManifest {
    pub id: String,
    pub kind: LessonKind,
    pub duration_ms: u64,
    pub title: Localized,
    pub variants: BTreeMap<Lang, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{what} {value:?} must be 1-64 characters of a-z, 0-9 and '-'")]
    BadIdentifier { what: &'static str, value: String },
    #[error("course {0:?} needs at least one theme and one audience")]
    Untagged(String),
    #[error("course {0:?} has no lessons")]
    NoLessons(String),
    #[error("lesson id {0:?} appears twice")]
    DuplicateLesson(String),
    #[error("lesson {0:?} has no language variants")]
    NoVariants(String),
    #[error("{0} has no title in zh-Hans")]
    MissingChineseTitle(String),
    #[error("variant file {0:?} must be a plain file name inside the course folder")]
    BadVariantPath(String),
}

fn check_identifier(what: &'static str, value: &str) -> Result<(), ManifestError> {
    is_identifier(value)
        .then_some(())
        .ok_or_else(|| ManifestError::BadIdentifier {
            what,
            value: value.to_string(),
        })
}

impl CourseManifest {
    /// Checks what serde cannot: identifiers, required fields, file names that stay in the folder.
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_identifier("course slug", &self.slug)?;
        if self.themes.is_empty() || self.audiences.is_empty() {
            return Err(ManifestError::Untagged(self.slug.clone()));
        }
        if self.lessons.is_empty() {
            return Err(ManifestError::NoLessons(self.slug.clone()));
        }
        let chinese = Lang::chinese();
        if !self.title.contains_key(&chinese) {
            return Err(ManifestError::MissingChineseTitle(format!(
                "course {:?}",
                self.slug
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for lesson in &self.lessons {
            check_identifier("lesson id", &lesson.id)?;
            if !seen.insert(lesson.id.as_str()) {
                return Err(ManifestError::DuplicateLesson(lesson.id.clone()));
            }
            if lesson.variants.is_empty() {
                return Err(ManifestError::NoVariants(lesson.id.clone()));
            }
            if !lesson.title.contains_key(&chinese) {
                return Err(ManifestError::MissingChineseTitle(format!(
                    "lesson {:?}",
                    lesson.id
                )));
            }
            for file in lesson.variants.values() {
                let plain = !file.is_empty()
                    && !file.contains(['/', '\\'])
                    && file != "."
                    && file != ".."
                    && !file.starts_with('.');
                if !plain {
                    return Err(ManifestError::BadVariantPath(file.clone()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> CourseManifest {
        toml::from_str(
            r#"
            slug = "party-basics"
            themes = ["constitution-discipline"]
            audiences = ["rural"]
            [title]
            "zh-Hans" = "党的基本知识"
            [description]
            "zh-Hans" = "简介"
            [[lessons]]
            id = "party-basics-01"
            kind = "text"
            duration_ms = 600000
            [lessons.title]
            "zh-Hans" = "第一课"
            [lessons.variants]
            "zh-Hans" = "01.zh-Hans.md"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn a_complete_manifest_is_valid() {
        assert_eq!(manifest().validate(), Ok(()));
    }

    #[test]
    fn variant_files_cannot_leave_the_course_folder() {
        for bad in ["../x.md", "a/b.md", "", "..", ".hidden"] {
            let mut m = manifest();
            m.lessons[0]
                .variants
                .insert("zh-Hans".parse().unwrap(), bad.into());
            assert_eq!(m.validate(), Err(ManifestError::BadVariantPath(bad.into())));
        }
    }

    #[test]
    fn identifiers_and_tags_are_checked() {
        let mut m = manifest();
        m.slug = "Party Basics".into();
        assert!(matches!(
            m.validate(),
            Err(ManifestError::BadIdentifier { .. })
        ));
        let mut m = manifest();
        m.lessons.push(m.lessons[0].clone());
        assert_eq!(
            m.validate(),
            Err(ManifestError::DuplicateLesson("party-basics-01".into()))
        );
        let mut m = manifest();
        m.audiences.clear();
        assert_eq!(
            m.validate(),
            Err(ManifestError::Untagged("party-basics".into()))
        );
        let unknown_theme = toml::to_string(&manifest())
            .unwrap()
            .replace("constitution-discipline", "gossip");
        assert!(toml::from_str::<CourseManifest>(&unknown_theme).is_err());
    }
}
