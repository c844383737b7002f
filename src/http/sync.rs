//! `GET /api/v1/sync/changes?since=N`: what a station must change to hold the published
//! catalogue for its languages and audiences, a page at a time.

use super::auth::Caller;
use super::error::ApiError;
use super::json::{revalidatable, Audience};
use crate::catalog::sync::{self, BlobRef, Change, Station};
use crate::domain::org::{Action, Principal};
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    #[serde(default)]
    since: u64,
    limit: Option<usize>,
    /// The station to sync as; only an admin names one (a station is who its token says).
    station: Option<String>,
}

#[derive(Serialize)]
struct SyncBody {
    seq: u64,
    changes: Vec<Change>,
    blobs: Vec<BlobRef>,
    next: Option<String>,
}

pub async fn get_changes(
    req: HttpRequest,
    caller: Caller,
    services: web::Data<Services>,
    params: web::Query<SyncParams>,
) -> Result<HttpResponse, ApiError> {
    caller.may(&services, &Action::Sync)?;
    let params = params.into_inner();
    let station_id = match (&caller.0, params.station) {
        (Principal::Terminal { station, .. }, _) => station.clone(),
        (Principal::Admin, Some(station)) => station,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-query",
                "name the station to sync as: station=<id>",
            ))
        }
    };
    let max = services.settings.catalog.max_page_size;
    let limit = params
        .limit
        .unwrap_or(services.settings.catalog.sync_page_size);
    if limit == 0 || limit > max {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-query",
            format!("limit must be between 1 and {max}"),
        ));
    }
    let since = params.since;
    let mut more_query = String::new();
    if let Some(limit) = params.limit {
        more_query.push_str(&format!("&limit={limit}"));
    }
    if matches!(caller.0, Principal::Admin) {
        more_query.push_str(&format!("&station={station_id}"));
    }
    let page = {
        let services = services.clone();
        web::block(move || -> Result<_, ApiError> {
            let terminal = crate::people::terminal(&services, &station_id)?
                .ok_or_else(|| ApiError::not_found(format!("no station {station_id:?}")))?;
            let station = Station::of(&terminal, &services.fallbacks);
            let view = services.catalog.view(&services)?;
            Ok(sync::changes(&services, &view, &station, since, limit)?)
        })
        .await??
    };
    let body = SyncBody {
        next: page
            .more
            .then(|| format!("/api/v1/sync/changes?since={}{more_query}", page.seq)),
        seq: page.seq,
        changes: page.changes,
        blobs: page.blobs,
    };
    revalidatable(&req, &body, None, Audience::Private)
}
