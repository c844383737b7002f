//! `GET|HEAD /media/{sha256}`: a blob by its address, with RFC 9110 range and precondition
//! semantics decided in `domain::range`. Responses are immutable and never compressed.

use super::error::ApiError;
use super::file_body::{self, Body, Segment};
use super::metrics::Metrics;
use crate::domain::digest::Sha256;
use crate::domain::range::{decide, Conditions, Decision, Method, MultipartPlan, Validators};
use crate::domain::representation::inline_disposition;
use crate::services::Services;
use crate::store::BlobMeta;
use actix_web::body::SizedStream;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use std::time::{Duration, UNIX_EPOCH};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Looks the blob up and opens it in the handler: both are a sled cache hit and one open(2),
/// cheaper than a hop to the blocking pool (as nginx opens files in its event loop).
pub async fn get_media(
    req: HttpRequest,
    path: web::Path<String>,
    services: web::Data<Services>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let sha256 = Sha256::parse_hex(&path)?;
    let Some((meta, file)) = services.find_blob(&sha256)? else {
        return Err(ApiError::not_found(format!("no blob {sha256}")));
    };
    let method = match *req.method() {
        actix_web::http::Method::GET => Method::Get,
        actix_web::http::Method::HEAD => Method::Head,
        _ => Method::Other,
    };
    let last_modified = UNIX_EPOCH + Duration::from_millis(meta.created_ms);
    let validators = Validators {
        etag: sha256.to_hex(),
        last_modified,
    };
    let values = HeaderValues::of(&req);
    let decision = decide(method, &values.conditions(), &validators, meta.size);

    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::ETAG, format!("\"{sha256}\"")))
        .insert_header((
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(last_modified),
        ))
        .insert_header((header::CACHE_CONTROL, IMMUTABLE));
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
            response.insert_header((header::CONTENT_RANGE, format!("bytes */{}", meta.size)));
            return Ok(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                format!(
                    "no requested range overlaps the {} bytes of this blob",
                    meta.size
                ),
            )
            .respond(response));
        }
        Decision::Full => {
            response.content_type(meta.mime.as_str());
            vec![Segment::File {
                offset: 0,
                len: meta.size,
            }]
        }
        Decision::Partial(ranges) if ranges.len() == 1 => {
            let range = ranges[0];
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .content_type(meta.mime.as_str())
                .insert_header((header::CONTENT_RANGE, range.content_range(meta.size)));
            vec![Segment::File {
                offset: range.first,
                len: range.len(),
            }]
        }
        Decision::Partial(ranges) => {
            let boundary = format!("{:032x}", rand::random::<u128>());
            let plan = MultipartPlan::new(&boundary, &meta.mime, &ranges, meta.size);
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .content_type(format!("multipart/byteranges; boundary={boundary}"));
            multipart_segments(plan)
        }
    };
    representation_headers(&mut response, &sha256, &meta);
    let len = file_body::total_len(&segments);
    if method == Method::Head {
        // The head of a GET, with its length, and no body.
        return Ok(response.body(SizedStream::new(
            len,
            futures_util::stream::empty::<Result<Bytes, std::io::Error>>(),
        )));
    }
    let body = file_body::body(file, segments, metrics.bytes_served.clone()).map_err(|e| {
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

fn representation_headers(response: &mut HttpResponseBuilder, sha256: &Sha256, meta: &BlobMeta) {
    response
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header(("repr-digest", sha256.repr_digest()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            inline_disposition(&meta.filename),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
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
