//! `POST /api/v1/watch` (one report or a batch) and group study at
//! `/api/v1/group-sessions`, `/{id}/attendance`, `/{id}/end`.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::watch::WatchReport;
use crate::ledger::session::{self, Checks, End, Open};
use crate::ledger::{self, Outcome};
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

type ServicesData = web::Data<Services>;

/// The most reports one request may carry.
const MAX_BATCH: usize = 10_000;

#[derive(Serialize)]
struct ReportResult {
    id: String,
    status: &'static str,
    credited_ms: i64,
    reason: Option<String>,
}

#[derive(Serialize)]
struct Results {
    results: Vec<ReportResult>,
}

fn bad_body(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad-json", message)
}

/// One report, or `{"reports": [...]}`; anything not shaped like that is 400.
fn parse(body: &[u8]) -> Result<Vec<WatchReport>, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad_body(format!("not JSON: {e}")))?;
    let batch = match value {
        serde_json::Value::Object(mut map) if map.contains_key("reports") => {
            if map.len() != 1 {
                return Err(bad_body(
                    "a batch is {\"reports\": [...]} and nothing else".into(),
                ));
            }
            match map.remove("reports") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return Err(bad_body("\"reports\" must be an array".into())),
            }
        }
        one => vec![one],
    };
    if batch.len() > MAX_BATCH {
        return Err(bad_body(format!("at most {MAX_BATCH} reports per request")));
    }
    batch
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            serde_json::from_value(item).map_err(|e| bad_body(format!("report {n}: {e}")))
        })
        .collect()
}

/// Requests with at most this many reports are credited without leaving the worker thread.
const INLINE_REPORTS: usize = 4;

pub async fn post_watch(
    caller: Caller,
    services: ServicesData,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let reports = parse(&body)?;
    let ids: Vec<String> = reports.iter().map(|r| r.id.clone()).collect();
    let actor = caller.actor();
    let principal = caller.0.clone();
    // A few reports are credited on this worker (a hop to the blocking pool and back cost more
    // than the work); a station's batch goes to the blocking pool. Either way the answer waits
    // for the flush without holding a thread.
    let (outcomes, ticket) = if reports.len() <= INLINE_REPORTS {
        ledger::submit_unflushed(&services, &principal, &actor, reports)?
    } else {
        let services = services.clone();
        web::block(move || ledger::submit_unflushed(&services, &principal, &actor, reports))
            .await??
    };
    ledger::wait_durable(services.into_inner(), ticket).await?;
    let results = ids
        .into_iter()
        .zip(outcomes)
        .map(|(id, outcome)| match outcome {
            Outcome::Credited(ms) => ReportResult {
                id,
                status: "credited",
                credited_ms: ms,
                reason: None,
            },
            Outcome::Duplicate => ReportResult {
                id,
                status: "duplicate",
                credited_ms: 0,
                reason: None,
            },
            Outcome::Rejected(why) => ReportResult {
                id,
                status: "rejected",
                credited_ms: 0,
                reason: Some(why.to_string()),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(Results { results }))
}

pub async fn post_group_session(
    caller: Caller,
    services: ServicesData,
    body: web::Json<Open>,
) -> Result<HttpResponse, ApiError> {
    let open = body.into_inner();
    let opened = web::block(move || session::open(&services, &caller.0, open)).await??;
    Ok(HttpResponse::Created().json(opened))
}

pub async fn post_attendance(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<Checks>,
) -> Result<HttpResponse, ApiError> {
    let checks = body.into_inner();
    let updated = web::block(move || session::check(&services, &caller.0, &id, checks)).await??;
    Ok(HttpResponse::Ok().json(updated))
}

#[derive(Serialize)]
struct Ended {
    session: String,
    results: Vec<session::Credited>,
}

pub async fn post_end(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<End>,
) -> Result<HttpResponse, ApiError> {
    let end = body.into_inner();
    let actor = caller.actor();
    let session_id = id.into_inner();
    let answer_id = session_id.clone();
    let results =
        web::block(move || session::end(&services, &caller.0, &session_id, end, &actor)).await??;
    Ok(HttpResponse::Ok().json(Ended {
        session: answer_id,
        results,
    }))
}
