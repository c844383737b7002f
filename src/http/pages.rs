//! The web pages for stations, members, editors and managers: static files from `web/`,
//! embedded in release builds (read from disk in debug builds, so a page edit needs no rebuild).
//! Every file is same-origin only: the CSP below forbids any other host.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Pages;

/// Pages fetch, play and store only from this server; stations are often offline, and a page
/// that reached for another host would hang there.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
                   style-src 'self'; script-src 'self'; connect-src 'self'; worker-src 'self'; \
                   object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// `GET /`: the page that leads to the four others.
pub async fn get_root(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

/// `GET /ui/{path}`: one page or asset; a folder means its `index.html`.
pub async fn get_ui(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    if path.is_empty() || path.ends_with('/') {
        return serve(&req, &format!("{path}index.html"));
    }
    if Pages::get(&format!("{path}/index.html")).is_some() {
        // `/ui/station` → `/ui/station/`, so the page's relative links resolve inside it.
        return HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, format!("/ui/{path}/")))
            .finish();
    }
    serve(&req, &path)
}

fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(file) = Pages::get(path) else {
        return actix_web::ResponseError::error_response(&super::ApiError::not_found(format!(
            "no page {path:?}"
        )));
    };
    // Weak: a gzipped and a plain answer share it.
    let etag = format!("W/\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut answer = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, etag))
        // Revalidate every time: a station must never run yesterday's page against today's API.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if fresh {
        return answer.finish();
    }
    answer
        .insert_header((header::CONTENT_TYPE, content_type(path)))
        .body(file.data.into_owned())
}

fn content_type(path: &str) -> HeaderValue {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let text = mime.type_() == "text"
        || matches!(
            mime.subtype().as_str(),
            "javascript" | "json" | "manifest+json"
        );
    let value = if text {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}
