//! Taking tokens back: `GET /api/v1/tokens` (the live tokens the caller may manage, never a
//! secret), `DELETE /api/v1/tokens/{id}`, `PATCH /api/v1/terminals/{id}` (e.g. `{"disabled":
//! true}`) and `POST /api/v1/terminals/{id}/token` (a new token, the old ones revoked).

use super::auth::Caller;
use super::error::ApiError;
use super::paging::{self, Page};
use crate::domain::org::{permits, Action, Principal, TokenOwner};
use crate::people;
use crate::services::Services;
use crate::tokens::{self, TokenView};
use actix_web::{web, HttpResponse};
use std::collections::HashMap;

type ServicesData = web::Data<Services>;

/// The caller's manageable tokens that are neither revoked nor expired, a page at a time.
pub async fn get_tokens(
    caller: Caller,
    services: ServicesData,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let listed = web::block(move || -> Result<_, ApiError> {
        let tree = services.store.org_tree()?;
        let now = services.now_ms();
        // A member's organisations, read once however many tokens they hold.
        let mut members: HashMap<String, TokenOwner> = HashMap::new();
        let mut visible: Vec<TokenView> = Vec::new();
        for (hash, record) in services.store.tokens(None, usize::MAX)? {
            if record.revoked || record.expires_ms.is_some_and(|at| at <= now) {
                continue;
            }
            let owner = match &record.principal {
                Principal::Member { member } => match members.get(member) {
                    Some(owner) => owner.clone(),
                    None => {
                        let owner = tokens::owner(&services, &record.principal)?;
                        members.insert(member.clone(), owner.clone());
                        owner
                    }
                },
                principal => tokens::owner(&services, principal)?,
            };
            if permits(&caller.0, &Action::ManageToken(&owner), &tree) {
                visible.push(tokens::view(&hash, &record, &owner, now));
            }
        }
        Ok(page.of(visible))
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
    web::block(move || -> Result<(), ApiError> {
        let Some((hash, record)) = tokens::by_id(&services, &id)? else {
            return Err(caller.missing(&services, format!("no token {id:?}")));
        };
        let owner = tokens::owner(&services, &record.principal)?;
        // One's own token may always be given up (that is signing out).
        if hash != tokens::token_hash(caller.token()) {
            caller.may(&services, &Action::ManageToken(&owner))?;
        }
        let _held = match &record.principal {
            Principal::Member { member } => Some(services.locks.member(member)),
            Principal::Terminal { station, .. } => Some(services.locks.terminal(station)),
            _ => None,
        };
        let mut write = crate::repo::PeopleWrite::default();
        tokens::revoke_into(&services, &[hash], &actor, "revoked", &mut write)?;
        services.store.write_people(&write)?;
        services.store.flush()?;
        Ok(())
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

fn terminal_org(services: &Services, caller: &Caller, id: &str) -> Result<String, ApiError> {
    match services.store.terminal(id)? {
        Some(terminal) => Ok(terminal.org),
        None => Err(caller.missing(services, format!("no station {id:?}"))),
    }
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
