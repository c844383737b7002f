//! `GET|HEAD /media/{sha256}`: a blob by its address, with RFC 9110 range and precondition
//! semantics decided in `domain::range`. Responses are immutable and never compressed. The
//! type is one `domain::media_type` lists; all but audio and video are sandboxed, and all but
//! those and text are downloads.

use super::error::ApiError;
use super::file_body::{self, Body, Pace, Segment};
use super::media_cache::{self, LookupError};
use super::metrics::Metrics;
use crate::domain::digest::Sha256;
use crate::domain::media_type::Presentation;
use crate::domain::range::{decide, Conditions, Decision, Method, MultipartPlan};
use crate::services::Services;
use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use std::rc::Rc;
use std::sync::Arc;

/// A blob's own address never changes what it names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A derived file's path (`/media/{source}/240p.mp4`) names whatever the current ladder made,
/// so caches keep it a day and then revalidate by its ETag (the blob's hash).
const DERIVED: &str = "public, max-age=86400";

/// `GET|HEAD /media/{sha256}`.
pub async fn get_media(
    req: HttpRequest,
    path: web::Path<String>,
    services: web::Data<Services>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let sha256 = Sha256::parse_hex(&path)?;
    serve_blob(&req, &services, &metrics, sha256, sha256, IMMUTABLE).await
}

/// `GET|HEAD /media/{source}/{path}`: a rendition, the thumbnail or an HLS file made from a
/// source. The path is only a key in the store; it never reaches the file system.
pub async fn get_derived(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    services: web::Data<Services>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let (source, file) = path.into_inner();
    let source = Sha256::parse_hex(&source)?;
    let store = services.clone();
    let key = file.clone();
    let blob =
        web::block(move || crate::catalog::files::made_at(&store.infra, &source, &key)).await??;
    let blob = blob.ok_or_else(|| ApiError::not_found(format!("{source} has no {file:?}")))?;
    serve_blob(&req, &services, &metrics, blob, source, DERIVED).await
}

/// A parameter of the query a media URL carries: `ps` (a member's play session, as `GET /play`
/// wrote it), `og` (an offline grant) or `st` (a station's tag).
fn param<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Runs on the worker thread: the representation is cached with its open file, and the body's
/// reads never wait for the disk. `source` is the blob the file was made from (itself, for a
/// source), whose delivery a play session's reports rest on.
async fn serve_blob(
    req: &HttpRequest,
    services: &Services,
    metrics: &Metrics,
    sha256: Sha256,
    source: Sha256,
    cache_control: &'static str,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found(format!("no blob {sha256}"));
    let rep = match media_cache::lookup(services, &sha256) {
        Ok(found) => found.ok_or_else(not_found)?,
        Err(LookupError::Store(e)) => return Err(e.into()),
        Err(e @ LookupError::Missing(_)) => {
            tracing::error!(%sha256, error = %e, "cannot serve a recorded blob");
            return Err(not_found());
        }
    };
    let method = match *req.method() {
        actix_web::http::Method::GET => Method::Get,
        actix_web::http::Method::HEAD => Method::Head,
        _ => Method::Other,
    };
    let values = HeaderValues::of(req);
    let size = rep.meta.size;
    let decision = decide(method, &values.conditions(), &rep.validators, size);

    let mut response = HttpResponse::Ok();
    if rep.served.presentation != Presentation::Media {
        // Should a browser open it as a page anyway, it gets no script and no origin.
        response.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox"),
        ));
    }
    response
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((header::ETAG, rep.etag.clone()))
        .insert_header((header::LAST_MODIFIED, rep.last_modified.clone()))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ));
    let delivers =
        method == Method::Get && matches!(decision, Decision::Full | Decision::Partial(_));
    if delivers && !req.query_string().is_empty() {
        let sessions = &services.play_sessions;
        // A play session's or an offline grant's: both are recorded by their head.
        if let Some(id) = param(req, "ps").or_else(|| param(req, "og")) {
            sessions.delivered(&services.infra, id, &source);
        }
        if let Some(tag) = param(req, "st") {
            sessions.delivered_to_station(&services.infra, tag, &source);
        }
    }
    let segments = match decision {
        Decision::NotModified => return Ok(response.status(StatusCode::NOT_MODIFIED).finish()),
        Decision::PreconditionFailed => {
            return Ok(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "the blob does not match the request's If-Match or If-Unmodified-Since",
            )
            .respond(response))
        }
        Decision::RangeNotSatisfiable => {
            response.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            return Ok(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                format!("no requested range overlaps the {size} bytes of this blob"),
            )
            .respond(response));
        }
        Decision::Full => {
            response.insert_header((header::CONTENT_TYPE, rep.content_type.clone()));
            vec![Segment::File {
                offset: 0,
                len: size,
            }]
        }
        Decision::Partial(ranges) if ranges.len() == 1 => {
            let range = ranges[0];
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_TYPE, rep.content_type.clone()))
                .insert_header((header::CONTENT_RANGE, range.content_range(size)));
            vec![Segment::File {
                offset: range.first,
                len: range.len(),
            }]
        }
        Decision::Partial(ranges) => {
            let boundary = format!("{:032x}", rand::random::<u128>());
            let plan = MultipartPlan::new(&boundary, rep.served.content_type, &ranges, size);
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .content_type(format!("multipart/byteranges; boundary={boundary}"));
            multipart_segments(plan)
        }
    };
    response
        .insert_header((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")))
        .insert_header(("repr-digest", rep.repr_digest.clone()))
        .insert_header((header::CONTENT_DISPOSITION, rep.disposition.clone()));
    let len = file_body::total_len(&segments);
    if method == Method::Head {
        // The head of a GET, with its length, and no body.
        let no_body = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
        return Ok(response.body(SizedStream::new(len, no_body)));
    }
    let body = file_body::body(
        Arc::clone(&rep.file),
        segments,
        pace(req),
        metrics.bytes_served.clone(),
    )
    .await
    .map_err(|e| {
        tracing::error!(%sha256, error = %e, "blob file is shorter than recorded");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the blob cannot be read",
        )
    })?;
    Ok(match body {
        Body::Ready(bytes) => response.body(bytes),
        Body::Stream(stream) => response.body(SizedStream::new(len, stream)),
    })
}

/// The connection's pace record, set up when it was accepted.
fn pace(req: &HttpRequest) -> Rc<Pace> {
    req.conn_data::<Rc<Pace>>()
        .cloned()
        .unwrap_or_else(Pace::new)
}

fn multipart_segments(plan: MultipartPlan) -> Vec<Segment> {
    let mut segments = Vec::with_capacity(plan.parts.len() * 2 + 1);
    for (head, range) in plan.parts {
        segments.push(Segment::Bytes(Bytes::from(head)));
        segments.push(Segment::File {
            offset: range.first,
            len: range.len(),
        });
    }
    segments.push(Segment::Bytes(Bytes::from(plan.close)));
    segments
}

/// Conditional header values, repeated fields joined with ", " as RFC 9110 §5.3 allows.
struct HeaderValues([Option<String>; 6]);

impl HeaderValues {
    const NAMES: [header::HeaderName; 6] = [
        header::IF_MATCH,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_UNMODIFIED_SINCE,
        header::IF_RANGE,
        header::RANGE,
    ];

    fn of(req: &HttpRequest) -> Self {
        HeaderValues(Self::NAMES.map(|name| {
            let values: Vec<&str> = req
                .headers()
                .get_all(name)
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(", "))
        }))
    }

    fn conditions(&self) -> Conditions<'_> {
        let [if_match, if_none_match, if_modified_since, if_unmodified_since, if_range, range] =
            self.0.each_ref().map(|v| v.as_deref());
        Conditions {
            if_match,
            if_none_match,
            if_modified_since,
            if_unmodified_since,
            if_range,
            range,
        }
    }
}
