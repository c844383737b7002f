//! `GET /api/v1/reports/orgs/{id}/months?year=`: an organisation's credited time per month of
//! the year, summed over its subtree, as JSON or (with `Accept: text/csv` or `format=csv`) CSV —
//! for the dashboard's chart and its download. Same permission as the organisation report.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::org::Action;
use crate::ledger::monthly::{self, MonthsError};
use crate::services::Services;
use actix_web::http::header::{self, ACCEPT};
use actix_web::http::StatusCode;
use actix_web::middleware::Compress;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/api/v1/reports/orgs/{id}/months")
            .wrap(Compress::default())
            .route(web::get().to(get_org_months)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthsParams {
    year: Option<i32>,
    /// `csv` or `json`; otherwise the Accept header decides.
    format: Option<String>,
}

fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
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

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

pub async fn get_org_months(
    req: HttpRequest,
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<String>,
    params: web::Query<MonthsParams>,
) -> Result<HttpResponse, ApiError> {
    let year = super::hours::year(&services, params.year)?;
    let csv = wants_csv(&req, params.format.as_deref())?;
    let org = id.into_inner();
    let months = web::block(move || -> Result<_, ApiError> {
        caller.may(&services, &Action::ReadOrg(&org))?;
        match monthly::org_months(&services, &org, year) {
            Ok(Some(months)) => Ok(months),
            Ok(None) => Err(caller.missing(&services, "no such organisation".into())),
            Err(MonthsError::Store(e)) => Err(e.into()),
            Err(e) => Err(internal(e)),
        }
    })
    .await??;
    if !csv {
        return Ok(HttpResponse::Ok().json(months));
    }
    let body = monthly::months_csv(&months).map_err(internal)?;
    let name = format!("months-{}-{year}.csv", months.org);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}
