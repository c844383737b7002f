//! Editing the catalogue (editor role): `POST /api/v1/courses`, `PATCH /courses/{id}`,
//! `POST /courses/{id}/lessons`, `PATCH|DELETE /lessons/{id}`,
//! `PUT|DELETE /lessons/{id}/variants/{lang}`, `POST /courses/{id}/publish|retire`, and
//! `GET /courses/{id}/draft`. Each answers with the course as it now stands.

use super::auth::Caller;
use super::error::ApiError;
use crate::catalog::{self, CatalogOpError};
use crate::domain::catalog::Course;
use crate::domain::catalog_edit::{CoursePatch, Edit, LessonPatch, NewCourse, NewLesson};
use crate::domain::lang::Lang;
use crate::domain::org::Action;
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

type ServicesData = web::Data<Services>;

/// Checks the editor's right, then runs one use case on the blocking pool.
async fn edit<F>(caller: &Caller, services: ServicesData, op: F) -> Result<Course, ApiError>
where
    F: FnOnce(&Services, &crate::people::Actor) -> Result<Course, CatalogOpError> + Send + 'static,
{
    caller.may(&services, &Action::EditCatalogue)?;
    let actor = caller.audit_actor();
    Ok(web::block(move || op(&services, &actor)).await??)
}

pub async fn post_course(
    caller: Caller,
    services: ServicesData,
    body: web::Json<NewCourse>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let course = edit(&caller, services, move |s, actor| {
        catalog::create_course(s, new, actor)
    })
    .await?;
    Ok(HttpResponse::Created().json(course))
}

pub async fn get_draft(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let course = edit(&caller, services, move |s, _| {
        catalog::course_for_editing(s, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(course))
}

pub async fn patch_course(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<CoursePatch>,
) -> Result<HttpResponse, ApiError> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let course = edit(&caller, services, move |s, actor| {
        catalog::edit_course(s, &id, vec![Edit::Course(patch)], actor)
    })
    .await?;
    Ok(HttpResponse::Ok().json(course))
}

pub async fn post_lesson(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<NewLesson>,
) -> Result<HttpResponse, ApiError> {
    let (id, new) = (id.into_inner(), body.into_inner());
    let course = edit(&caller, services, move |s, actor| {
        catalog::edit_course(s, &id, vec![Edit::AddLesson(new)], actor)
    })
    .await?;
    Ok(HttpResponse::Created().json(course))
}

/// Runs `edit` on the course that holds lesson `id`.
async fn edit_lesson(
    caller: Caller,
    services: ServicesData,
    id: String,
    make: impl FnOnce(&Services, String) -> Result<Edit, CatalogOpError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let course = edit(&caller, services, move |s, actor| {
        let course = catalog::course_of_lesson(s, &id)?;
        let change = make(s, id)?;
        catalog::edit_course(s, &course, vec![change], actor)
    })
    .await?;
    Ok(HttpResponse::Ok().json(course))
}

pub async fn patch_lesson(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<LessonPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner();
    edit_lesson(caller, services, id.into_inner(), move |_, id| {
        Ok(Edit::Lesson { id, patch })
    })
    .await
}

pub async fn delete_lesson(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    edit_lesson(caller, services, id.into_inner(), |_, id| {
        Ok(Edit::RemoveLesson(id))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantBody {
    /// A stored file (uploaded or ingested), by its address.
    sha256: String,
}

fn path_lang(tag: &str) -> Result<Lang, ApiError> {
    tag.parse().map_err(|e: crate::domain::lang::UnknownLang| {
        ApiError::new(StatusCode::BAD_REQUEST, "unknown-language", e.to_string())
    })
}

pub async fn put_variant(
    caller: Caller,
    services: ServicesData,
    path: web::Path<(String, String)>,
    body: web::Json<VariantBody>,
) -> Result<HttpResponse, ApiError> {
    let (lesson, tag) = path.into_inner();
    let lang = path_lang(&tag)?;
    let sha256 = body.into_inner().sha256;
    edit_lesson(caller, services, lesson, move |s, lesson| {
        let variant = catalog::variant_of(s, &sha256)?;
        Ok(Edit::SetVariant {
            lesson,
            lang,
            variant,
        })
    })
    .await
}

pub async fn delete_variant(
    caller: Caller,
    services: ServicesData,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (lesson, tag) = path.into_inner();
    let lang = path_lang(&tag)?;
    edit_lesson(caller, services, lesson, move |_, lesson| {
        Ok(Edit::RemoveVariant { lesson, lang })
    })
    .await
}

pub async fn post_publish(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let course = edit(&caller, services, move |s, actor| {
        catalog::publish(s, &id, actor)
    })
    .await?;
    Ok(HttpResponse::Ok().json(course))
}

pub async fn post_retire(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let course = edit(&caller, services, move |s, actor| {
        catalog::retire(s, &id, actor)
    })
    .await?;
    Ok(HttpResponse::Ok().json(course))
}
