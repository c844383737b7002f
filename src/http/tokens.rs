//! Taking tokens back: `GET /api/v1/tokens` (the live tokens the caller may manage, never a
//! secret), `DELETE /api/v1/tokens/{id}`, `PATCH /api/v1/terminals/{id}` (e.g. `{"disabled":
//! true}`) and `POST /api/v1/terminals/{id}/token` (a new token, the old ones revoked).

use super::auth::Caller;
use super::error::ApiError;
use super::paging::{self, Page};
use crate::domain::org::Action;
use crate::people;
use crate::services::Services;
use crate::tokens;
use actix_web::{web, HttpResponse};

type ServicesData = web::Data<Services>;

/// The caller's manageable tokens that are neither revoked nor expired, a page at a time.
pub async fn get_tokens(
    caller: Caller,
    services: ServicesData,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let listed = web::block(move || -> Result<_, ApiError> {
        Ok(page.of(people::manageable_tokens(&services, &caller.0)?))
    })
    .await??;
    Ok(paging::respond(listed))
}

/// Revokes a token by its id; 204 also when it was revoked already.
pub async fn delete_token(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let actor = caller.audit_actor();
    let own = tokens::token_hash(caller.token());
    web::block(move || people::revoke_by_id(&services, &caller.0, &own, &id, actor)).await??;
    Ok(HttpResponse::NoContent().finish())
}

fn terminal_org(services: &Services, caller: &Caller, id: &str) -> Result<String, ApiError> {
    Ok(people::find_terminal(services, &caller.0, id)?.org)
}

pub async fn patch_terminal(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<people::TerminalChange>,
) -> Result<HttpResponse, ApiError> {
    let org = terminal_org(&services, &caller, &id)?;
    caller.may(&services, &Action::WriteTerminal { org: &org })?;
    let (id, change, actor) = (id.into_inner(), body.into_inner(), caller.audit_actor());
    let terminal =
        web::block(move || people::change_terminal(&services, &id, &change, actor)).await??;
    Ok(HttpResponse::Ok().json(terminal))
}

pub async fn post_terminal_token(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = terminal_org(&services, &caller, &id)?;
    caller.may(&services, &Action::WriteTerminal { org: &org })?;
    let (id, actor) = (id.into_inner(), caller.audit_actor());
    let token = web::block(move || people::rotate_terminal_token(&services, &id, actor)).await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "token": token })))
}
