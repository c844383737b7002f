//! The catalogue: courses, their lessons and one variant per language, the closed taxonomy of
//! themes, audiences and programs, publish states, and the checks a course must pass to be
//! edited and to be published.

use super::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A closed set of codes, each with a name in Chinese and English.
pub trait Taxon: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn names(self) -> (&'static str, &'static str);
}

macro_rules! taxonomy {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),+ }

        impl Taxon for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn names(self) -> (&'static str, &'static str) {
                match self { $($name::$variant => ($zh, $en)),+ }
            }
        }
    };
}

taxonomy!(Theme {
    IdealsTheory => "理想信念和理论武装", "Ideals, convictions and theory";
    ConstitutionDiscipline => "党章党规党纪", "Party constitution, rules and discipline";
    PolicyAffairs => "路线方针政策和形势", "Line, policy and current affairs";
    PracticalSkills => "业务知识和实用技能", "Professional knowledge and practical skills";
});

taxonomy!(
    /// The field a member works in, which is also who a course is meant for.
    Audience {
        Rural => "农村", "Rural";
        Community => "城市社区", "Urban community";
        Organ => "机关", "Government organ";
        StateEnterprise => "国有企业", "State-owned enterprise";
        PublicInstitution => "事业单位", "Public institution";
        SchoolTeacher => "学校教师", "School teacher";
        Student => "学生", "Student";
        PrivateEnterprise => "非公有制企业", "Private enterprise";
        SocialOrganisation => "社会组织", "Social organisation";
    }
);

taxonomy!(Program {
    SecretaryRotation => "党组织书记轮训", "Branch secretary rotation training";
    RuralRemoteEducation => "农村党员远程教育", "Rural remote education";
    NewMember => "新党员培训", "New-member training";
    MobileMember => "流动党员培训", "Mobile-member training";
    BorderBilingual => "边疆民族地区双语培训", "Border-region bilingual training";
    EmploymentSkills => "创业就业技能培训", "Entrepreneurship and employment skills";
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LessonKind {
    Video,
    Text,
}

impl LessonKind {
    /// Whether a file of this media type can be this kind of lesson. A video lesson may also be
    /// sound only (a radio talk plays where pictures cannot).
    pub fn accepts(self, mime: &str) -> bool {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        match self {
            LessonKind::Video => essence.starts_with("video/") || essence.starts_with("audio/"),
            LessonKind::Text => essence.starts_with("text/") || essence == "application/pdf",
        }
    }
}

/// Text in several languages.
pub type Localized = BTreeMap<Lang, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CourseState {
    Draft,
    Published,
    Retired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    pub id: String,
    /// 1 for the first draft; each publish freezes a version and the next edit starts another.
    pub version: u32,
    pub state: CourseState,
    pub title: Localized,
    pub description: Localized,
    /// How each translation was made (e.g. an unreviewed machine-assisted draft).
    #[serde(default)]
    pub translation: Localized,
    pub themes: Vec<Theme>,
    pub audiences: Vec<Audience>,
    pub programs: Vec<Program>,
    pub lessons: Vec<Lesson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: String,
    pub kind: LessonKind,
    /// How long the lesson nominally takes, which caps what watching it can credit.
    pub duration_ms: u64,
    pub title: Localized,
    pub variants: BTreeMap<Lang, Variant>,
}

/// One language of a lesson: a stored blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub sha256: String,
    pub mime: String,
    pub size: u64,
}

/// The longest nominal lesson: a full day.
pub const MAX_LESSON_MS: u64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{what} {value:?} must be 1-64 characters of a-z, 0-9 and '-'")]
    BadIdentifier { what: &'static str, value: String },
    #[error("course {0:?} needs at least one theme and one audience")]
    Untagged(String),
    #[error("{0} has no title in zh-Hans")]
    MissingChineseTitle(String),
    #[error("{what} in {lang} is empty")]
    EmptyText { what: String, lang: Lang },
    #[error("course {course:?} has no lesson {lesson:?}")]
    UnknownLesson { course: String, lesson: String },
    #[error("lesson id {0:?} is already taken")]
    LessonTaken(String),
    #[error("the new order must name each of the course's lessons once: {0}")]
    BadOrder(String),
    #[error("lesson {lesson:?} is {kind:?}, and a {mime} file cannot be that")]
    KindMismatch {
        lesson: String,
        kind: LessonKind,
        mime: String,
    },
    #[error("lesson {lesson:?} must last between 1 ms and 24 hours, not {duration_ms} ms")]
    BadDuration { lesson: String, duration_ms: u64 },
    #[error("lesson {lesson:?} has no {lang} variant")]
    NoSuchVariant { lesson: String, lang: Lang },
    #[error("course {0:?} has no lessons, so nothing to play")]
    NoPlayableLesson(String),
    #[error("lesson {0:?} has no zh-Hans variant, where every language falls back to")]
    NoChineseVariant(String),
    #[error("course {0:?} has no unpublished changes")]
    NothingToPublish(String),
    #[error("course {0:?} is not published")]
    NotPublished(String),
}

impl CatalogError {
    /// A stable kebab-case code for API clients.
    pub fn code(&self) -> &'static str {
        use CatalogError::*;
        match self {
            BadIdentifier { .. } => "bad-identifier",
            Untagged(_) => "untagged",
            MissingChineseTitle(_) => "missing-chinese-title",
            EmptyText { .. } => "empty-text",
            UnknownLesson { .. } => "unknown-lesson",
            LessonTaken(_) => "lesson-taken",
            BadOrder(_) => "bad-order",
            KindMismatch { .. } => "kind-mismatch",
            BadDuration { .. } => "bad-duration",
            NoSuchVariant { .. } => "no-such-variant",
            NoPlayableLesson(_) => "no-playable-lesson",
            NoChineseVariant(_) => "no-chinese-variant",
            NothingToPublish(_) => "nothing-to-publish",
            NotPublished(_) => "not-published",
        }
    }
}

/// Lowercase ASCII letters, digits and '-', 1 to 64 of them: safe in URLs, keys and file names.
pub fn is_identifier(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(crate) fn check_identifier(what: &'static str, value: &str) -> Result<(), CatalogError> {
    is_identifier(value)
        .then_some(())
        .ok_or_else(|| CatalogError::BadIdentifier {
            what,
            value: value.to_string(),
        })
}

fn check_texts(what: &str, texts: &Localized, need_chinese: bool) -> Result<(), CatalogError> {
    if need_chinese && !texts.contains_key(&Lang::chinese()) {
        return Err(CatalogError::MissingChineseTitle(what.to_string()));
    }
    match texts.iter().find(|(_, text)| text.trim().is_empty()) {
        Some((lang, _)) => Err(CatalogError::EmptyText {
            what: what.to_string(),
            lang: lang.clone(),
        }),
        None => Ok(()),
    }
}

impl Course {
    /// What every stored course, draft or not, satisfies.
    pub fn check(&self) -> Result<(), CatalogError> {
        check_identifier("course id", &self.id)?;
        if self.themes.is_empty() || self.audiences.is_empty() {
            return Err(CatalogError::Untagged(self.id.clone()));
        }
        let course = format!("course {:?}", self.id);
        check_texts(&format!("the title of {course}"), &self.title, true).map_err(|e| match e {
            CatalogError::MissingChineseTitle(_) => CatalogError::MissingChineseTitle(course),
            other => other,
        })?;
        check_texts(
            &format!("the description of course {:?}", self.id),
            &self.description,
            false,
        )?;
        let mut seen = BTreeSet::new();
        for lesson in &self.lessons {
            check_identifier("lesson id", &lesson.id)?;
            if !seen.insert(lesson.id.as_str()) {
                return Err(CatalogError::LessonTaken(lesson.id.clone()));
            }
            lesson.check()?;
        }
        Ok(())
    }

    /// What a course must satisfy to be published: lessons, each with a Chinese variant.
    pub fn check_publishable(&self) -> Result<(), CatalogError> {
        self.check()?;
        if self.lessons.iter().all(|l| l.variants.is_empty()) {
            return Err(CatalogError::NoPlayableLesson(self.id.clone()));
        }
        match self
            .lessons
            .iter()
            .find(|l| !l.variants.contains_key(&Lang::chinese()))
        {
            Some(lesson) => Err(CatalogError::NoChineseVariant(lesson.id.clone())),
            None => Ok(()),
        }
    }

    /// True when the two differ only in version and state.
    pub fn same_content(&self, other: &Course) -> bool {
        let mut other = other.clone();
        other.version = self.version;
        other.state = self.state;
        *self == other
    }

    pub fn lesson(&self, id: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.id == id)
    }

    /// Every language at least one lesson has a variant in.
    pub fn languages(&self) -> BTreeSet<Lang> {
        self.lessons
            .iter()
            .flat_map(|l| l.variants.keys().cloned())
            .collect()
    }

    /// The course as a station with these languages and audiences holds it: only variants in
    /// those languages, or nothing when the course is not for the station. An empty audience
    /// list means every audience.
    pub fn for_station(
        &self,
        languages: &BTreeSet<Lang>,
        audiences: &[Audience],
    ) -> Option<Course> {
        if self.state != CourseState::Published {
            return None;
        }
        if !audiences.is_empty() && !self.audiences.iter().any(|a| audiences.contains(a)) {
            return None;
        }
        let mut course = self.clone();
        for lesson in &mut course.lessons {
            lesson.variants.retain(|lang, _| languages.contains(lang));
        }
        course.lessons.retain(|l| !l.variants.is_empty());
        (!course.lessons.is_empty()).then_some(course)
    }
}

impl Lesson {
    pub fn check(&self) -> Result<(), CatalogError> {
        if self.duration_ms == 0 || self.duration_ms > MAX_LESSON_MS {
            return Err(CatalogError::BadDuration {
                lesson: self.id.clone(),
                duration_ms: self.duration_ms,
            });
        }
        check_texts(&format!("lesson {:?}", self.id), &self.title, true)?;
        match self.variants.values().find(|v| !self.kind.accepts(&v.mime)) {
            Some(variant) => Err(CatalogError::KindMismatch {
                lesson: self.id.clone(),
                kind: self.kind,
                mime: variant.mime.clone(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
