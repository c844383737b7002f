//! `GET /api/v1/assets/{sha256}`: what a stored file is (its probe), how its processing goes,
//! and the URLs of everything made from it.

use super::error::ApiError;
use crate::domain::digest::Sha256;
use crate::domain::media::Probe;
use crate::repo::{BlobMeta, Job};
use crate::services::Services;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Asset {
    sha256: String,
    size: u64,
    mime: String,
    filename: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    processing: Option<Job>,
    /// Path under the source → URL, for every derived file.
    files: BTreeMap<String, String>,
}

pub async fn get_asset(
    path: web::Path<String>,
    services: web::Data<Services>,
) -> Result<HttpResponse, ApiError> {
    let sha256 = Sha256::parse_hex(&path)?;
    let found =
        web::block(move || crate::catalog::files::asset(&services.infra, &sha256)).await??;
    let Some(crate::catalog::files::Asset {
        meta,
        probe,
        job: processing,
        derived,
    }) = found
    else {
        return Err(ApiError::not_found(format!("no asset {sha256}")));
    };
    if let Some(job) = processing.as_ref().filter(|j| j.unplayable) {
        return Err(ApiError::unplayable(job.error.clone().unwrap_or_default()));
    }
    let BlobMeta {
        size,
        mime,
        filename,
        ..
    } = meta;
    let hex = sha256.to_hex();
    let files = derived
        .into_iter()
        .map(|(path, _)| {
            let url = format!("/media/{hex}/{path}");
            (path, url)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Asset {
        url: format!("/media/{hex}"),
        sha256: hex,
        size,
        mime,
        filename,
        probe,
        processing,
        files,
    }))
}
