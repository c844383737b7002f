//! `GET /healthz` (readiness) and `GET /metrics` (Prometheus text).

use super::error::ApiError;
use super::metrics::Metrics;
use crate::services::Services;
use actix_web::{web, HttpResponse};
use serde::Serialize;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    store_open: bool,
    blobs_writable: bool,
    free_bytes: Option<u64>,
    min_free_bytes: u64,
    /// False below the free-space floor: reads are served, writes refused with 507.
    accepting_writes: bool,
}

/// 200 when the store answers and the blob folder takes files; 503 otherwise.
pub async fn get_healthz(services: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    let health = web::block(move || {
        let store_open = services.infra.store_answers();
        let blobs_writable = services.blobs.is_writable();
        Health {
            status: if store_open && blobs_writable {
                "ready"
            } else {
                "unavailable"
            },
            store_open,
            blobs_writable,
            free_bytes: services.floor.free_bytes().ok(),
            min_free_bytes: services.floor.min_free(),
            accepting_writes: services.floor.check().is_ok(),
        }
    })
    .await?;
    let mut response = if health.status == "ready" {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    Ok(response
        .insert_header(("cache-control", "no-store"))
        .json(health))
}

pub async fn get_metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(metrics.render())
}
