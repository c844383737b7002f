//! `GET /api/v1/me`: who a token belongs to, so a page can greet its user and scope itself
//! (a station's organisation, languages and audiences; a member's record; a manager's subtree).

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::org::Principal;
use crate::people;
use crate::services::Services;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub async fn get_me(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, ApiError> {
    let body = match &caller.0 {
        Principal::Admin => json!({"role": "admin"}),
        Principal::Editor => json!({"role": "editor"}),
        Principal::Manager { org } => json!({"role": "manager", "org": org}),
        Principal::Terminal { station, org } => {
            let terminal = people::terminal(&services, station)?;
            // What the station's media URLs carry, so the server knows what it delivered.
            let delivery = services.play_sessions.station_tag(station);
            json!({"role": "terminal", "org": org, "station": terminal, "delivery_tag": delivery})
        }
        Principal::Member { member } => {
            let member = people::member(&services, member)?;
            json!({"role": "member", "member": member})
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}
