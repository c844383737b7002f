//! `GET /api/v1/editor/courses`: every course an editor may work on, drafts included. The public
//! list shows only what stations hold; an editor must also find the courses nobody has published
//! yet, and see which published ones carry unpublished changes.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::catalog::{Course, CourseState, Localized};
use crate::domain::org::Action;
use crate::repo::CourseEntry;
use crate::services::Services;
use actix_web::{web, HttpResponse};
use serde::Serialize;

#[derive(Serialize)]
struct EditorCourse {
    id: String,
    /// Titles of the version being edited (the draft, else the published one).
    title: Localized,
    lessons: usize,
    /// The version a new edit changes, when there are unpublished changes.
    draft_version: Option<u32>,
    /// The version stations hold, and whether it is published or retired.
    published_version: Option<u32>,
    published_state: Option<CourseState>,
}

impl EditorCourse {
    fn of(entry: CourseEntry) -> Option<EditorCourse> {
        let shown: &Course = entry.draft.as_ref().or(entry.published.as_ref())?;
        Some(EditorCourse {
            id: shown.id.clone(),
            title: shown.title.clone(),
            lessons: shown.lessons.len(),
            draft_version: entry.draft.as_ref().map(|c| c.version),
            published_version: entry.published.as_ref().map(|c| c.version),
            published_state: entry.published.as_ref().map(|c| c.state),
        })
    }
}

pub async fn get_courses(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, ApiError> {
    caller.may(&services, &Action::EditCatalogue)?;
    let entries = web::block(move || crate::catalog::course_entries(&services)).await??;
    let courses: Vec<EditorCourse> = entries.into_iter().filter_map(EditorCourse::of).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "courses": courses })))
}
