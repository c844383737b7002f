//! `POST /api/v1/watch` (one report or a batch) and group study at
//! `/api/v1/group-sessions`, `/{id}/attendance`, `/{id}/end`.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::org::Principal;
use crate::domain::watch_body::{parse_watch_body, BodyError};
use crate::ledger::session::{self, Checks, End, Open};
use crate::ledger::{self, Outcome};
use crate::repo::StoreError;
use crate::services::Services;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use serde::Serialize;

type ServicesData = web::Data<Services>;

#[derive(Serialize)]
struct ReportResult {
    id: String,
    status: &'static str,
    credited_ms: i64,
    reason: Option<String>,
    /// When only part of the report's wall time had evidence behind it: that part, as epoch ms
    /// on the server's clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    credited_wall: Option<(i64, i64)>,
}

#[derive(Serialize)]
struct Results {
    results: Vec<ReportResult>,
}

/// The most a caller may send: a station's batch carries days of offline viewing; anyone else
/// sends a few reports at a time.
fn body_limit(services: &Services, caller: &Principal) -> (usize, &'static str) {
    let l = &services.settings.ledger;
    match caller {
        Principal::Terminal { .. } => (l.max_station_body, "ledger.max_station_body"),
        _ => (l.max_member_body, "ledger.max_member_body"),
    }
}

/// Reads the body, refusing it as soon as it is known to pass `limit`: by its declared length
/// before a byte is read, else once the bytes read pass it.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    (limit, key): (usize, &'static str),
) -> Result<web::Bytes, BodyError> {
    let too_large = || BodyError::TooLarge { limit, key };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.map_or(0, |len| len as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

pub async fn post_watch(
    caller: Caller,
    services: ServicesData,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, body_limit(&services, &caller.0)).await?;
    let actor = caller.actor();
    let audit_actor = caller.audit_actor();
    let principal = caller.0;
    // Parsing and crediting run on the blocking pool, one report or ten thousand: a member's
    // year of plays makes even one report's maximum flow real work. The answer then waits for
    // the flush without holding a thread.
    let reports = web::block(move || parse_watch_body(&body)).await??;
    let ids: Vec<String> = reports.iter().map(|r| r.id.clone()).collect();
    // Another process may credit one of these members first; then they are read again and
    // credited afresh (what is already stored comes back as duplicates).
    let mut tries = 0;
    let outcomes = loop {
        tries += 1;
        let blocking = services.clone();
        let (principal, actor, audit_actor, ids, reports) = (
            principal.clone(),
            actor.clone(),
            audit_actor.clone(),
            ids.clone(),
            reports.clone(),
        );
        let (outcomes, ticket) = web::block(move || -> Result<_, ApiError> {
            let (outcomes, ticket) =
                ledger::submit_unflushed(&blocking, &principal, &actor, reports)?;
            ledger::evidence::audit_admin_reports(
                &blocking,
                &principal,
                &audit_actor,
                &ids,
                &outcomes,
            )?;
            Ok((outcomes, ticket))
        })
        .await??;
        match ledger::wait_durable(services.clone().into_inner(), ticket).await {
            Err(StoreError::Stale(_)) if tries < ledger::STALE_TRIES => {
                tokio::time::sleep(ledger::stale_pause(tries)).await;
                continue;
            }
            done => break done.map(|()| outcomes)?,
        }
    };
    let results = ids
        .into_iter()
        .zip(outcomes)
        .map(|(id, outcome)| match outcome {
            Outcome::Credited(ms) => ReportResult {
                id,
                status: "credited",
                credited_ms: ms,
                reason: None,
                credited_wall: None,
            },
            Outcome::CreditedInPart { ms, wall } => ReportResult {
                id,
                status: "credited",
                credited_ms: ms,
                reason: None,
                credited_wall: Some(wall),
            },
            Outcome::Duplicate => ReportResult {
                id,
                status: "duplicate",
                credited_ms: 0,
                reason: None,
                credited_wall: None,
            },
            Outcome::Rejected(why) => ReportResult {
                id,
                status: "rejected",
                credited_ms: 0,
                reason: Some(why.to_string()),
                credited_wall: None,
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
