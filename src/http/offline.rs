//! `POST /api/v1/lessons/{id}/offline` (a member's own token): an offline grant for the lesson
//! in the negotiated language, with the files to download under it. Reports of plays of those
//! files name the grant instead of a play session and are credited, by the usual rules, for
//! play within its validity (`ledger.offline_grant_days`).

use super::auth::Caller;
use super::catalog::LangParam;
use super::error::ApiError;
use super::play::choose;
use crate::catalog::files::{downloadable, made_from};
use crate::domain::catalog::LessonKind;
use crate::domain::lang::Negotiated;
use crate::domain::org::Principal;
use crate::ledger::grants::GrantAttention;
use crate::services::Services;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

#[derive(Serialize)]
struct Grant<'a> {
    grant: String,
    expires: String,
    lesson: &'a str,
    kind: LessonKind,
    title: &'a str,
    duration_ms: u64,
    lang: &'a Negotiated,
    /// Lightest first: what the member can choose to keep.
    files: Vec<File>,
    /// The checks to ask while playing offline, when they are on.
    attention: Option<GrantAttention>,
}

#[derive(Serialize)]
struct File {
    /// `audio`, `240p`, `360p`…, or `source` when processing made none.
    name: String,
    path: String,
    url: String,
    size: u64,
    sha256: String,
    mime: String,
}

pub async fn post_offline(
    req: HttpRequest,
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<String>,
    params: web::Query<LangParam>,
) -> Result<HttpResponse, ApiError> {
    let chosen = choose(&req, &caller, &services, &id, params.lang.as_deref()).await?;
    let Principal::Member { member } = &caller.0 else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "an offline grant is for a member's own token: the reports it backs are that member's",
        ));
    };
    let variant = chosen.variant()?;
    let source = crate::domain::digest::Sha256::parse_hex(&variant.sha256)?;
    let made = {
        let services = services.clone();
        web::block(move || made_from(&services.infra, &source)).await??
    };
    let now = services.now_ms() as i64;
    let days = i64::from(services.settings.ledger.offline_grant_days);
    let expires_ms = now + days * 86_400_000;
    let sessions = &services.play_sessions;
    let grant = sessions.issue_grant(member, &chosen.lesson.id, now, expires_ms);
    let mut files: Vec<File> = downloadable(&made)
        .into_iter()
        .map(|f| File {
            name: f.path.strip_suffix(".mp4").unwrap_or("audio").to_string(),
            url: format!("/media/{}/{}?og={grant}", variant.sha256, f.path),
            path: f.path.clone(),
            size: f.size.unwrap_or_default(),
            sha256: f.sha256.clone(),
            mime: f.mime.clone().unwrap_or_default(),
        })
        .collect();
    if files.is_empty() {
        files.push(File {
            name: "source".into(),
            path: String::new(),
            url: format!("/media/{}?og={grant}", variant.sha256),
            size: variant.size,
            sha256: variant.sha256.clone(),
            mime: variant.mime.clone(),
        });
    }
    let expires = jiff::Timestamp::from_millisecond(expires_ms)
        .map(|t| t.to_string())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad-time", e.to_string()))?;
    let answer = Grant {
        attention: sessions.grant_attention(&services.settings.ledger, &grant),
        grant,
        expires,
        lesson: &chosen.lesson.id,
        kind: chosen.lesson.kind,
        title: chosen.title(&services),
        duration_ms: chosen.lesson.duration_ms,
        lang: &chosen.lang,
        files,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(&answer))
}
