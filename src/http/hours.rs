//! `GET /api/v1/members/{id}/hours` and `/resume`, `POST /members/{id}/registrations`, and
//! `GET /api/v1/reports/orgs/{id}` as JSON or CSV.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::org::{Action, Member};
use crate::domain::watch::Registration;
use crate::ledger::registration;
use crate::ledger::report::{self, OrgReport};
use crate::services::Services;
use actix_web::http::header::{self, ACCEPT};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

type ServicesData = web::Data<Services>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearParam {
    year: Option<i32>,
}

pub(super) fn year(services: &Services, asked: Option<i32>) -> Result<i32, ApiError> {
    match asked {
        Some(y) if !(2000..=2200).contains(&y) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-query",
            format!("year {y} is out of range"),
        )),
        Some(y) => Ok(y),
        None => Ok(report::this_year(services)),
    }
}

/// The member, if the caller may see them (404 or 403 otherwise, as for the member record).
fn member_for(caller: &Caller, services: &Services, id: &str) -> Result<Member, ApiError> {
    Ok(crate::people::read_member(services, &caller.0, id)?.member)
}

pub async fn get_hours(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    params: web::Query<YearParam>,
) -> Result<HttpResponse, ApiError> {
    let year = year(&services, params.year)?;
    let hours = web::block(move || -> Result<_, ApiError> {
        let member = member_for(&caller, &services, &id)?;
        Ok(report::hours(&services, &member, year)?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(hours))
}

#[derive(Serialize)]
struct ResumeBody {
    member: String,
    lessons: Vec<report::Resume>,
}

pub async fn get_resume(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = web::block(move || -> Result<_, ApiError> {
        let member = member_for(&caller, &services, &id)?;
        Ok(ResumeBody {
            lessons: report::resume(&services, &member.id)?,
            member: member.id,
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(body))
}

pub async fn post_registration(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    let entry = body.into_inner();
    let answer = entry.clone();
    let created = web::block(move || {
        registration::register(&services, &caller.0, &caller.actor(), &id, entry)
    })
    .await??;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    year: Option<i32>,
    /// `org` (default): one row per organisation; `member`: one row per member.
    by: Option<String>,
    /// `csv` or `json`; otherwise the Accept header decides.
    format: Option<String>,
}

#[derive(Serialize)]
struct ReportBody<'a> {
    year: i32,
    #[serde(flatten)]
    summary: &'a crate::domain::hours::OrgSummary,
}

pub async fn get_org_report(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    params: web::Query<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let year = year(&services, params.year)?;
    let by_member = match params.by.as_deref() {
        None | Some("org") => false,
        Some("member") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-query",
                format!("by={other:?}: use org or member"),
            ))
        }
    };
    let wants_csv = wants_csv(&req, params.format.as_deref())?;
    caller.may(&services, &Action::ReadOrg(&id))?;
    let org = id.into_inner();
    let services2 = services.clone();
    let found: Option<OrgReport> =
        web::block(move || report::org_report(&services2, &org, year)).await??;
    let Some(found) = found else {
        return Err(caller.missing(&services, "no such organisation".into()));
    };
    let csv = match (by_member, wants_csv) {
        (true, false) => {
            let members = report::member_rows(&services, &found);
            return Ok(
                HttpResponse::Ok().json(serde_json::json!({ "year": year, "members": members }))
            );
        }
        (false, false) => {
            return Ok(HttpResponse::Ok().json(ReportBody {
                year,
                summary: &found.summary,
            }))
        }
        (true, true) => report::members_csv(&report::member_rows(&services, &found)),
        (false, true) => report::orgs_csv(&found, year),
    }
    .map_err(|e| ApiError::internal("writing the CSV failed", &e))?;
    Ok(csv_file(
        csv,
        &format!("report-{}-{year}.csv", found.summary.org),
    ))
}

/// Whether a report is asked for as CSV: `format=csv|json`, else the Accept header.
pub(super) fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-query",
            format!("format={other:?}: use csv or json"),
        )),
        None => Ok(req
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))),
    }
}

/// A CSV report as a download named `name`.
pub(super) fn csv_file(body: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}
