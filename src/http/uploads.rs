//! tus 1.0 at `/uploads` (OPTIONS, POST) and `/uploads/{id}` (HEAD, PATCH, DELETE), editors
//! only, and `GET /api/v1/uploads/{id}`: what became of an upload. A PATCH body streams to the
//! upload's file through a small queue, so memory stays bounded whatever the chunk size.

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::org::{Action, Principal};
use crate::domain::upload::{
    parse_checksum, parse_metadata, parse_number, Algorithm, Upload, UploadError, UploadUse,
    CHECKSUM_ALGORITHMS, PATCH_TYPE, TUS_EXTENSIONS, TUS_VERSION,
};
use crate::services::Services;
use crate::uploads::{self, Append, UploadOpError, Uploader};
use actix_web::http::header::{HeaderMap, CACHE_CONTROL, CONTENT_LENGTH, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use futures_util::StreamExt as _;
use sha2::Digest as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

type ServicesData = web::Data<Services>;

/// Chunks queued between the network and the disk for one PATCH.
const QUEUE: usize = 8;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every request but OPTIONS names the protocol version it speaks.
fn speaks_tus(req: &HttpRequest) -> Result<(), ApiError> {
    match header(req.headers(), "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(UploadError::UnsupportedVersion.into()),
    }
}

/// An editor (or admin) token, as the owner of the uploads it creates.
fn editor(caller: &Caller, services: &Services) -> Result<Uploader, ApiError> {
    caller.may(services, &Action::EditCatalogue)?;
    Ok(Uploader {
        identity: caller.identity(),
        admin: caller.0 == Principal::Admin,
    })
}

/// `POST /uploads/{id}` with `X-HTTP-Method-Override: PATCH|DELETE`, for clients behind
/// proxies that pass only GET and POST.
pub async fn post_override(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    match header(req.headers(), "x-http-method-override") {
        Some("PATCH") => patch_upload(req, caller, services, id, body).await,
        Some("DELETE") => delete_upload(req, caller, services, id).await,
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "use HEAD, PATCH or DELETE (or POST with X-HTTP-Method-Override)",
        )),
    }
}

fn expires(upload: &Upload) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(upload.expires_ms.max(0) as u64);
    httpdate::fmt_http_date(at)
}

fn number(req: &HttpRequest, name: &'static str) -> Result<Option<u64>, ApiError> {
    header(req.headers(), name)
        .map(|v| parse_number(name, v))
        .transpose()
        .map_err(Into::into)
}

pub async fn options_uploads(services: ServicesData) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Tus-Version", TUS_VERSION))
        .insert_header(("Tus-Extension", TUS_EXTENSIONS))
        .insert_header((
            "Tus-Max-Size",
            services.settings.uploads.max_size.to_string(),
        ))
        .insert_header(("Tus-Checksum-Algorithm", CHECKSUM_ALGORITHMS))
        .finish()
}

pub async fn post_upload(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    let who = editor(&caller, &services)?;
    let length = number(&req, "Upload-Length")?;
    let deferred = match header(req.headers(), "upload-defer-length") {
        None => false,
        Some("1") => true,
        Some(_) => return Err(UploadError::BadNumber("Upload-Defer-Length").into()),
    };
    let metadata = parse_metadata(header(req.headers(), "upload-metadata").unwrap_or(""))?;
    let services = services.into_inner();
    let created = {
        let services = services.clone();
        let owner = who.identity.clone();
        web::block(move || uploads::create(&services, &owner, length, deferred, metadata)).await??
    };
    let location = format!("/uploads/{}", created.id);
    // creation-with-upload: the first bytes may come with the POST.
    let with_body = header(req.headers(), "content-type") == Some(PATCH_TYPE)
        && number(&req, "Content-Length")?.unwrap_or(1) > 0;
    let upload = if with_body {
        match append(&req, services.clone(), created.id.clone(), &who, 0, body).await {
            Ok(upload) => upload,
            Err(error) => {
                // Refused whole: leave no upload that nobody was told of.
                let id = created.id;
                web::block(move || uploads::terminate(&services, &id, &who)).await??;
                return Err(error);
            }
        }
    } else {
        created
    };
    let mut response = HttpResponse::Created();
    response
        .insert_header((LOCATION, location))
        .insert_header(("Upload-Expires", expires(&upload)));
    if with_body {
        response.insert_header(("Upload-Offset", upload.offset.to_string()));
    }
    Ok(response.finish())
}

pub async fn head_upload(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    let who = editor(&caller, &services)?;
    let upload = uploads::find_for(&services, &id, &who, UploadUse::See)?;
    let now = services.now_ms() as i64;
    if upload.expires_ms <= now && !upload.is_complete() {
        return Err(UploadError::Expired.into());
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("Upload-Offset", upload.offset.to_string()))
        .insert_header(("Upload-Expires", expires(&upload)));
    match upload.length {
        Some(length) => response.insert_header(("Upload-Length", length.to_string())),
        None => response.insert_header(("Upload-Defer-Length", "1")),
    };
    if !upload.metadata.is_empty() {
        let encoded: Vec<String> = upload
            .metadata
            .iter()
            .map(|(k, v)| {
                let value = base64::engine::general_purpose::STANDARD.encode(v);
                format!("{k} {value}")
            })
            .collect();
        response.insert_header(("Upload-Metadata", encoded.join(",")));
    }
    Ok(response.finish())
}

pub async fn patch_upload(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    let who = editor(&caller, &services)?;
    let offset = number(&req, "Upload-Offset")?.ok_or(UploadError::BadNumber("Upload-Offset"))?;
    let upload = append(
        &req,
        services.into_inner(),
        id.into_inner(),
        &who,
        offset,
        body,
    )
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("Upload-Offset", upload.offset.to_string()))
        .insert_header(("Upload-Expires", expires(&upload)))
        .finish())
}

/// What the disk side of a PATCH ended with.
struct Written {
    append: Append,
    bytes: u64,
    digest: Option<Vec<u8>>,
    error: Option<ApiError>,
}

/// Appends a request body at `offset`; returns the upload as recorded afterwards.
async fn append(
    req: &HttpRequest,
    services: Arc<Services>,
    id: String,
    who: &Uploader,
    offset: u64,
    mut body: web::Payload,
) -> Result<Upload, ApiError> {
    let content_type_ok = header(req.headers(), "content-type")
        .is_some_and(|t| t.split(';').next().unwrap_or_default().trim() == PATCH_TYPE);
    let length = number(req, "Upload-Length")?;
    let body_len = header(req.headers(), CONTENT_LENGTH.as_str())
        .map(|v| parse_number("Content-Length", v))
        .transpose()?;
    let checksum = header(req.headers(), "upload-checksum")
        .map(parse_checksum)
        .transpose()?;
    let begun = {
        let services = services.clone();
        let who = who.clone();
        web::block(move || {
            uploads::begin_append(
                &services,
                &id,
                &who,
                content_type_ok,
                offset,
                length,
                body_len,
            )
        })
        .await??
    };
    let room = begun.upload.room(services.settings.uploads.max_size);
    let (sender, receiver) = tokio::sync::mpsc::channel::<web::Bytes>(QUEUE);
    let algorithm = checksum.as_ref().map(|(a, _)| *a);
    let floor = services.floor.clone();
    let writer = web::block(move || write_chunks(begun, receiver, room, algorithm, floor));
    let mut cut_off = false;
    let feeding = async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    if sender.send(bytes).await.is_err() {
                        break; // the writer stopped: its error says why
                    }
                }
                Err(_) => {
                    cut_off = true;
                    break;
                }
            }
        }
        drop(sender);
    };
    let (written, ()) = tokio::join!(writer, feeding);
    let written = written?;
    let failed = |append: Append, error: ApiError| async move {
        web::block(move || uploads::abandon_append(append)).await??;
        Err::<Upload, ApiError>(error)
    };
    if let Some(error) = written.error {
        return failed(written.append, error).await;
    }
    if let (Some((algorithm, expected)), Some(actual)) = (&checksum, &written.digest) {
        if expected != actual || cut_off {
            let name = algorithm.name();
            return failed(written.append, UploadError::ChecksumMismatch(name).into()).await;
        }
    }
    // A client cut off mid-body keeps what arrived: it resumes from there.
    let recorded =
        web::block(move || uploads::commit_append(&services, written.append, written.bytes))
            .await??;
    Ok(recorded)
}

/// Writes queued chunks at the end of the upload's file, hashing them when a checksum was
/// sent, never past `room` bytes; fsyncs before returning.
fn write_chunks(
    mut append: Append,
    mut chunks: tokio::sync::mpsc::Receiver<web::Bytes>,
    room: u64,
    algorithm: Option<Algorithm>,
    floor: crate::disk::FreeSpaceFloor,
) -> Written {
    let mut sha1 = sha1::Sha1::new();
    let mut sha256 = sha2::Sha256::new();
    let mut bytes = 0u64;
    let mut since_check = 0u64;
    let mut error = None;
    while let Some(chunk) = chunks.blocking_recv() {
        if bytes + chunk.len() as u64 > room {
            error = Some(UploadError::PastLength(append.upload.offset + room).into());
            break;
        }
        if let Err(e) = append.file.write_all(&chunk) {
            error = Some(ApiError::from(UploadOpError::Io(e)));
            break;
        }
        match algorithm {
            Some(Algorithm::Sha1) => sha1.update(&chunk),
            Some(Algorithm::Sha256) => sha256.update(&chunk),
            None => {}
        }
        bytes += chunk.len() as u64;
        since_check += chunk.len() as u64;
        if since_check >= 8 << 20 {
            since_check = 0;
            if let Err(e) = floor.check() {
                error = Some(e.into());
                break;
            }
        }
    }
    if error.is_none() {
        if let Err(e) = append.file.sync_data() {
            error = Some(UploadOpError::Io(e).into());
        }
    }
    let digest = algorithm.map(|a| match a {
        Algorithm::Sha1 => sha1.clone().finalize().to_vec(),
        Algorithm::Sha256 => sha256.clone().finalize().to_vec(),
    });
    Written {
        append,
        bytes,
        digest,
        error,
    }
}

pub async fn delete_upload(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    let who = editor(&caller, &services)?;
    let services = services.into_inner();
    web::block(move || uploads::terminate(&services, &id, &who)).await??;
    Ok(HttpResponse::NoContent().finish())
}

/// What became of an upload: bytes received, then the blob, its processing, and the lesson it
/// was attached to — or why it was refused.
pub async fn get_upload_status(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = editor(&caller, &services)?;
    let upload = uploads::find_for(&services, &id, &who, UploadUse::See)?;
    let processing = uploads::processing(&services, &upload)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "upload": upload,
        "processing": processing,
    })))
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        use UploadError as E;
        let status = match e {
            E::UnsupportedVersion => StatusCode::PRECONDITION_FAILED,
            E::BadNumber(_)
            | E::LengthMissing
            | E::BadMetadata(_)
            | E::BadChecksum(_)
            | E::MalformedType(_) => StatusCode::BAD_REQUEST,
            E::LengthFixed(_) => StatusCode::BAD_REQUEST,
            E::TooLarge { .. } | E::PastLength(_) => StatusCode::PAYLOAD_TOO_LARGE,
            E::TypeNotAllowed(_)
            | E::TypeParameter { .. }
            | E::NotUtf8(_)
            | E::WrongContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::OffsetMismatch { .. } | E::Complete => StatusCode::CONFLICT,
            E::ChecksumMismatch(_) => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
            E::Expired => StatusCode::GONE,
        };
        let code = match e {
            E::UnsupportedVersion => "unsupported-version",
            E::BadNumber(_) | E::LengthMissing => "bad-header",
            E::BadMetadata(_) => "bad-metadata",
            E::BadChecksum(_) => "bad-checksum",
            E::LengthFixed(_) => "length-fixed",
            E::TooLarge { .. } => "too-large",
            E::PastLength(_) => "past-length",
            E::TypeNotAllowed(_) | E::TypeParameter { .. } | E::NotUtf8(_) => "type-not-allowed",
            E::MalformedType(_) => "bad-type",
            E::WrongContentType => "wrong-content-type",
            E::OffsetMismatch { .. } => "offset-mismatch",
            E::Complete => "complete",
            E::ChecksumMismatch(_) => "checksum-mismatch",
            E::Expired => "expired",
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<UploadOpError> for ApiError {
    fn from(e: UploadOpError) -> Self {
        use UploadOpError as E;
        let message = e.to_string();
        match e {
            E::Rule(rule) => rule.into(),
            E::NotFound(_) => ApiError::not_found(message),
            E::NotYours(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Busy(_) => ApiError::new(StatusCode::LOCKED, "busy", message),
            E::TooMany(_) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too-many", message),
            E::BadTarget(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad-target", message)
            }
            E::Store(s) => s.into(),
            E::Blob(crate::blobs::BlobError::Space(s)) => s.into(),
            E::Io(_) | E::Blob(_) | E::Worker(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
            }
        }
    }
}
