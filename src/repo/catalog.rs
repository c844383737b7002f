//! The catalogue's courses, drafts and published versions, and the change sequence stations
//! sync by.

use super::StoreError;
use crate::domain::catalog::Course;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseEntry {
    /// Unpublished changes, if any.
    pub draft: Option<Course>,
    /// The version stations hold: published or retired.
    pub published: Option<Course>,
    /// The change sequence number of the last change stations must hear of; 0 for never.
    pub changed_seq: u64,
}

impl CourseEntry {
    pub fn id(&self) -> &str {
        self.draft
            .as_ref()
            .or(self.published.as_ref())
            .map_or("", |c| c.id.as_str())
    }
}

/// Courses: drafts, frozen published versions, lesson ids, and the sequence stations sync by.
pub trait CatalogRepo {
    fn course_entry(&self, id: &str) -> Result<Option<CourseEntry>, StoreError>;

    /// Every course, in id order.
    fn course_entries(&self) -> Result<Vec<CourseEntry>, StoreError>;

    fn course_version(&self, id: &str, version: u32) -> Result<Option<Course>, StoreError>;

    /// The course a lesson id belongs to (or once belonged to).
    fn lesson_course(&self, lesson: &str) -> Result<Option<String>, StoreError>;

    /// The last change sequence number given out.
    fn catalog_seq(&self) -> Result<u64, StoreError>;

    /// Writes a course's draft and claims its new lesson ids, together.
    fn save_draft(&self, entry: &CourseEntry, new_lessons: &[String]) -> Result<(), StoreError>;

    /// Writes a change stations must hear of: takes the next sequence number for it, stores the
    /// entry with it and, when given, freezes a newly published version. Returns the number.
    fn save_change(&self, entry: &CourseEntry, frozen: Option<&Course>) -> Result<u64, StoreError>;
}
