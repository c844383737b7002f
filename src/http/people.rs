//! `/api/v1/orgs`, `/members`, `/terminals`, `/tokens`, `/session` and `/audit`.
//! Each handler authenticates, asks the rules, calls one use case, and answers.

use super::auth::Caller;
use super::error::ApiError;
use super::paging::{self, Page};
use crate::domain::lang::Lang;
use crate::domain::org::{Action, Field, Member, Org, Post, Principal};
use crate::people;
use crate::repo::Terminal;
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

type ServicesData = web::Data<Services>;

pub async fn post_org(
    caller: Caller,
    services: ServicesData,
    body: web::Json<Org>,
) -> Result<HttpResponse, ApiError> {
    let org = body.into_inner();
    caller.may(
        &services,
        &Action::WriteOrg {
            parent: org.parent.as_deref(),
        },
    )?;
    let actor = caller.audit_actor();
    let created = org.clone();
    web::block(move || people::create_org(&services, &org, actor)).await??;
    Ok(HttpResponse::Created().json(created))
}

/// The organisations the caller may read, a page at a time, decoded off the async workers.
pub async fn get_orgs(
    caller: Caller,
    services: ServicesData,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let listed = web::block(move || -> Result<_, ApiError> {
        Ok(page.of(people::visible_orgs(&services, &caller.0)?))
    })
    .await??;
    Ok(paging::respond(listed))
}

pub async fn get_org(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = people::read_org(&services, &caller.0, &id)?;
    let org = org.ok_or_else(|| ApiError::not_found(format!("no organisation {id:?}")))?;
    Ok(HttpResponse::Ok().json(org))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    id: String,
    name: String,
    org: String,
    #[serde(default)]
    home_org: Option<String>,
    posts: Vec<Post>,
    field: Field,
    joined: String,
    #[serde(default)]
    languages: Vec<Lang>,
    pin: String,
}

pub async fn post_member(
    caller: Caller,
    services: ServicesData,
    body: web::Json<NewMember>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let member = Member {
        id: new.id,
        name: new.name,
        org: new.org,
        home_org: new.home_org,
        posts: new.posts,
        field: new.field,
        joined: new.joined,
        languages: new.languages,
    };
    caller.may(&services, &Action::WriteMember { org: &member.org })?;
    if let Some(home) = &member.home_org {
        caller.may(&services, &Action::WriteMember { org: home })?;
    }
    let actor = caller.audit_actor();
    let created = member.clone();
    web::block(move || people::create_member(&services, &member, &new.pin, actor)).await??;
    Ok(HttpResponse::Created().json(created))
}

pub async fn get_member(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = people::read_member(&services, &caller.0, &id)?;
    Ok(HttpResponse::Ok().json(people::MemberView {
        member: record.member,
        disabled: record.disabled,
    }))
}

pub async fn post_terminal(
    caller: Caller,
    services: ServicesData,
    body: web::Json<Terminal>,
) -> Result<HttpResponse, ApiError> {
    let terminal = body.into_inner();
    caller.may(&services, &Action::WriteTerminal { org: &terminal.org })?;
    let actor = caller.audit_actor();
    let token = web::block(move || people::create_terminal(&services, &terminal, actor)).await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "token": token })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    role: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

pub async fn post_token(
    caller: Caller,
    services: ServicesData,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    let NewToken { role, org, expires } = body.into_inner();
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid", m);
    let principal = Principal::named(&role, org).map_err(|e| bad(e.to_string()))?;
    if principal == Principal::Admin {
        return Err(bad(
            "admin tokens come only from `yuanjiao admin token`".into()
        ));
    }
    let manager_of = match &principal {
        Principal::Manager { org } => Some(org.as_str()),
        _ => None,
    };
    caller.may(&services, &Action::IssueToken { manager_of })?;
    let expires_ms = match expires {
        None => None,
        Some(text) => {
            let at = humantime::parse_rfc3339(&text)
                .map_err(|e| bad(format!("expires {text:?}: {e}")))?;
            Some(
                at.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            )
        }
    };
    let actor = caller.audit_actor();
    let token =
        web::block(move || people::issue_token_for(&services, principal, expires_ms, actor))
            .await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "token": token })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    member: String,
    pin: String,
}

pub async fn post_session(
    req: actix_web::HttpRequest,
    services: ServicesData,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    let SignIn { member, pin } = body.into_inner();
    // The connection's own address: a header could name anyone.
    let address = req.peer_addr().map(|a| a.ip());
    let signed_in =
        web::block(move || crate::sign_in::sign_in(&services, &member, &pin, address)).await?;
    match signed_in {
        Ok(token) => Ok(HttpResponse::Created().json(serde_json::json!({ "token": token }))),
        Err(e) => {
            let retry_after = e.retry_after_secs();
            let error = ApiError::from(e);
            let mut builder = HttpResponse::build(error.status);
            if let Some(secs) = retry_after {
                builder.insert_header(("retry-after", secs.to_string()));
            }
            Ok(error.respond(builder))
        }
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn get_audit(
    caller: Caller,
    services: ServicesData,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let entries = people::audit_log(&services, &caller.0, query.after, limit)?;
    let body: Vec<_> = entries
        .into_iter()
        .map(|(seq, e)| serde_json::json!({ "seq": seq, "entry": e }))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

pub async fn patch_member(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<people::MemberChange>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_inner();
    let record = people::find_member(&services, &caller.0, &id)?;
    // Allowed where the member is now, and where they are going.
    for org in record.member.orgs() {
        caller.may(&services, &Action::WriteMember { org })?;
    }
    let targets = [change.org.clone(), change.home_org.clone().flatten()];
    for org in targets.iter().flatten() {
        caller.may(&services, &Action::WriteMember { org })?;
    }
    let actor = caller.audit_actor();
    let id = id.into_inner();
    let member =
        web::block(move || people::change_member(&services, &id, &change, actor)).await??;
    Ok(HttpResponse::Ok().json(member))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgChange {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parent: Option<String>,
}

pub async fn patch_org(
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    body: web::Json<OrgChange>,
) -> Result<HttpResponse, ApiError> {
    let OrgChange { name, parent } = body.into_inner();
    let current = people::find_org(&services, &caller.0, &id)?;
    caller.may(
        &services,
        &Action::WriteOrg {
            parent: current.parent.as_deref(),
        },
    )?;
    if let Some(parent) = &parent {
        caller.may(
            &services,
            &Action::WriteOrg {
                parent: Some(parent),
            },
        )?;
    }
    let actor = caller.audit_actor();
    let id = id.into_inner();
    let org = web::block(move || people::change_org(&services, &id, name, parent, actor)).await??;
    Ok(HttpResponse::Ok().json(org))
}

/// The members the caller may read, a page at a time, decoded off the async workers.
pub async fn get_members(
    caller: Caller,
    services: ServicesData,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let listed = web::block(move || -> Result<_, ApiError> {
        Ok(page.of(people::visible_members(&services, &caller.0)?))
    })
    .await??;
    Ok(paging::respond(listed))
}

/// The stations the caller may manage, a page at a time, decoded off the async workers.
pub async fn get_terminals(
    caller: Caller,
    services: ServicesData,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let listed = web::block(move || -> Result<_, ApiError> {
        Ok(page.of(people::managed_terminals(&services, &caller.0)?))
    })
    .await??;
    Ok(paging::respond(listed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    token: String,
}

/// Revokes any token (admins only).
pub async fn post_revoke(
    caller: Caller,
    services: ServicesData,
    body: web::Json<Revoke>,
) -> Result<HttpResponse, ApiError> {
    caller.may(&services, &Action::RevokeToken)?;
    let actor = caller.audit_actor();
    let token = body.into_inner().token;
    if web::block(move || people::revoke_token(&services, &token, actor)).await?? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("no such token"))
    }
}

/// Signs out: revokes the caller's own token.
pub async fn delete_session(
    caller: Caller,
    services: ServicesData,
) -> Result<HttpResponse, ApiError> {
    let (token, actor) = (caller.token().to_string(), caller.audit_actor());
    web::block(move || people::revoke_token(&services, &token, actor)).await??;
    Ok(HttpResponse::NoContent().finish())
}
