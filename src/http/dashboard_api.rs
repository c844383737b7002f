//! What the hours dashboard reads beyond the organisation report, with the same permission
//! (a manager of that subtree), as JSON or (with `Accept: text/csv` or `format=csv`) CSV:
//! - `GET /api/v1/reports/orgs/{id}/months?year=`: the subtree's credited time per month;
//! - `GET /api/v1/reports/orgs/{id}/members?year=&behind=&offset=&limit=`: its members' years,
//!   the furthest behind first, a page at a time (a county can hold 100,000 members, too many
//!   to send to a phone on a weak link at once);
//! - `GET /api/v1/reports/orgs/{id}/anomalies?year=`: members whose record looks wrong, each
//!   with the reasons and their evidence.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::org::Action;
use crate::domain::standing::{behind_first, Place};
use crate::ledger::anomalies;
use crate::ledger::monthly::{self, MonthsError};
use crate::ledger::report::{self, MemberRow};
use crate::services::Services;
use actix_web::middleware::Compress;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/api/v1/reports/orgs/{id}/months")
            .wrap(Compress::default())
            .route(web::get().to(get_org_months)),
    )
    .service(
        super::resource("/api/v1/reports/orgs/{id}/members")
            .wrap(Compress::default())
            .route(web::get().to(get_org_members)),
    )
    .service(
        super::resource("/api/v1/reports/orgs/{id}/anomalies")
            .wrap(Compress::default())
            .route(web::get().to(get_org_anomalies)),
    );
}

pub async fn get_org_anomalies(
    req: HttpRequest,
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<String>,
    params: web::Query<MonthsParams>,
) -> Result<HttpResponse, ApiError> {
    let year = super::hours::year(&services, params.year)?;
    let csv = super::hours::wants_csv(&req, params.format.as_deref())?;
    let org = id.into_inner();
    let found = web::block(move || -> Result<_, ApiError> {
        caller.may(&services, &Action::ReadOrg(&org))?;
        match anomalies::org_anomalies(&services, &org, year)? {
            Some(found) => Ok(found),
            None => Err(caller.missing(&services, "no such organisation".into())),
        }
    })
    .await??;
    if !csv {
        return Ok(HttpResponse::Ok().json(found));
    }
    let body = anomalies::anomalies_csv(&found)
        .map_err(|e| ApiError::internal("writing the CSV failed", &e))?;
    Ok(super::hours::csv_file(
        body,
        &format!("anomalies-{}-{year}.csv", found.org),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthsParams {
    year: Option<i32>,
    /// `csv` or `json`; otherwise the Accept header decides.
    format: Option<String>,
}

pub async fn get_org_months(
    req: HttpRequest,
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<String>,
    params: web::Query<MonthsParams>,
) -> Result<HttpResponse, ApiError> {
    let year = super::hours::year(&services, params.year)?;
    let csv = super::hours::wants_csv(&req, params.format.as_deref())?;
    let org = id.into_inner();
    let months = web::block(move || -> Result<_, ApiError> {
        caller.may(&services, &Action::ReadOrg(&org))?;
        match monthly::org_months(&services, &org, year) {
            Ok(Some(months)) => Ok(months),
            Ok(None) => Err(caller.missing(&services, "no such organisation".into())),
            Err(MonthsError::Store(e)) => Err(e.into()),
            Err(e) => Err(ApiError::internal("placing the months failed", &e)),
        }
    })
    .await??;
    if !csv {
        return Ok(HttpResponse::Ok().json(months));
    }
    let body = monthly::months_csv(&months)
        .map_err(|e| ApiError::internal("writing the CSV failed", &e))?;
    Ok(super::hours::csv_file(
        body,
        &format!("months-{}-{year}.csv", months.org),
    ))
}

fn place(row: &MemberRow) -> Place<'_> {
    Place {
        member: &row.member,
        met: row.met,
        credited_ms: row.credited_ms,
        required_hours: row.required_hours,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersParams {
    year: Option<i32>,
    format: Option<String>,
    /// Only those who have not met their requirement.
    behind: Option<bool>,
    offset: Option<usize>,
    /// Rows in this answer (default: all from `offset` on).
    limit: Option<usize>,
}

#[derive(Serialize)]
struct MembersPage<'a> {
    org: &'a str,
    year: i32,
    /// Members of the subtree, and how many of them have not met their requirement.
    total: usize,
    behind: usize,
    /// Rows that match the filter, of which this answer holds `members` from `offset` on.
    matching: usize,
    offset: usize,
    members: &'a [MemberRow],
}

pub async fn get_org_members(
    req: HttpRequest,
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<String>,
    params: web::Query<MembersParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let year = super::hours::year(&services, params.year)?;
    let csv = super::hours::wants_csv(&req, params.format.as_deref())?;
    let org = id.into_inner();
    let asked = org.clone();
    let mut rows = web::block(move || -> Result<_, ApiError> {
        caller.may(&services, &Action::ReadOrg(&asked))?;
        let Some(found) = report::org_report(&services, &asked, year)? else {
            return Err(caller.missing(&services, "no such organisation".into()));
        };
        let mut rows = report::member_rows(&services, &found);
        rows.sort_by(|a, b| behind_first(&place(a), &place(b)));
        Ok(rows)
    })
    .await??;
    let (total, behind) = (rows.len(), rows.iter().filter(|r| !r.met).count());
    if params.behind == Some(true) {
        rows.retain(|r| !r.met);
    }
    let matching = rows.len();
    let offset = params.offset.unwrap_or(0).min(matching);
    let end = params
        .limit
        .map_or(matching, |limit| offset.saturating_add(limit).min(matching));
    let page = &rows[offset..end];
    if csv {
        let body = report::members_csv(page)
            .map_err(|e| ApiError::internal("writing the CSV failed", &e))?;
        return Ok(super::hours::csv_file(
            body,
            &format!("members-{org}-{year}.csv"),
        ));
    }
    Ok(HttpResponse::Ok().json(MembersPage {
        org: &org,
        year,
        total,
        behind,
        matching,
        offset,
        members: page,
    }))
}
