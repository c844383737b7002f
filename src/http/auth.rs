//! Who is calling: the bearer token, checked by the token use case, and the request's way to ask
//! the authorisation policy (`access`).

use super::error::ApiError;
use crate::access;
use crate::domain::org::{Action, Principal};
use crate::infra::HasInfra;
use crate::services::Services;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// The authenticated caller of a request; a missing, unknown, revoked or expired token is 401.
/// Holds the token (for signing out with it) and its public id (for the audit log).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal, String, String);

fn unauthenticated(why: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", why)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let services = req
        .app_data::<web::Data<Services>>()
        .ok_or_else(|| unauthenticated("no token store"))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthenticated("send Authorization: Bearer <token>"))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthenticated("send Authorization: Bearer <token>"))?;
    // One keyed read of the token's hash: nothing secret is compared byte by byte.
    match crate::tokens::authenticate(services, token)? {
        Some(found) => Ok(Caller(found.principal, token.to_string(), found.token_id)),
        None => Err(unauthenticated("the token is unknown, revoked or expired")),
    }
}

impl Caller {
    /// 403 unless the rules allow this caller the action (see `access::check`).
    pub fn may(&self, services: &impl HasInfra, action: &Action) -> Result<(), ApiError> {
        Ok(access::check(services, &self.0, action)?)
    }

    /// The bearer token this request came with.
    pub fn token(&self) -> &str {
        &self.1
    }

    /// A 404 for a missing record, for callers who may learn of it; 403 for the rest.
    pub fn missing(&self, services: &impl HasInfra, what: String) -> ApiError {
        access::missing(services, &self.0, what).into()
    }

    /// Who this caller is, one by one: as the audit log names them, except that editor tokens,
    /// which carry no name, each count as their own editor (for per-editor limits).
    pub fn identity(&self) -> String {
        match &self.0 {
            Principal::Editor => format!("editor:{}", &self.2[..12]),
            _ => self.actor(),
        }
    }

    /// This caller as the audit log records them: their role or name, and their token's id.
    pub fn audit_actor(&self) -> crate::people::Actor {
        crate::people::Actor::with_token(self.actor(), self.2.clone())
    }

    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        match &self.0 {
            Principal::Admin => "admin".into(),
            Principal::Editor => "editor".into(),
            Principal::Manager { org } => format!("manager:{org}"),
            Principal::Terminal { station, .. } => format!("terminal:{station}"),
            Principal::Member { member } => format!("member:{member}"),
        }
    }
}
