//! JSON answers that caches and clients can revalidate: a weak ETag over the body (weak, since
//! the body may be sent compressed), 304 when the client already has it, and the negotiated
//! language in `Content-Language` with `Vary: Accept-Language`.

use super::error::ApiError;
use crate::domain::representation::none_match_hits;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::Digest as _;

/// Who may keep a copy: the public catalogue, or answers made for one caller.
#[derive(Clone, Copy)]
pub enum Audience {
    Public,
    Private,
}

/// A 200 (or 304) with `body`; `languages` is what `Content-Language` says, if negotiated.
pub fn revalidatable(
    req: &HttpRequest,
    body: &impl Serialize,
    languages: Option<&[&str]>,
    audience: Audience,
) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let mut hasher = sha2::Sha256::new();
    hasher.update(&bytes);
    let content_language = languages.map(|l| l.join(", "));
    if let Some(cl) = &content_language {
        hasher.update(cl.as_bytes());
    }
    let etag = format!("W/\"{}\"", &hex::encode(hasher.finalize())[..32]);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| none_match_hits(v, &etag));
    let mut builder = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder.insert_header((header::ETAG, etag));
    builder.insert_header((
        header::CACHE_CONTROL,
        match audience {
            Audience::Public => "public, no-cache",
            Audience::Private => "private, no-cache",
        },
    ));
    if let Some(cl) = content_language {
        if let Ok(value) = HeaderValue::from_str(&cl) {
            builder.insert_header((header::CONTENT_LANGUAGE, value));
        }
        builder.append_header((header::VARY, "Accept-Language"));
    }
    if fresh {
        return Ok(builder.finish());
    }
    Ok(builder.content_type("application/json").body(bytes))
}
