//! The one place where errors become HTTP status codes and a `{"code","message"}` body.

use crate::disk::SpaceError;
use crate::domain::digest::BadDigest;
use crate::repo::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde::Serialize;
use std::fmt;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    /// A media file that was understood but cannot be played, with the reason.
    pub fn unplayable(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unplayable", reason)
    }

    /// The response, on a builder the caller may have given extra headers.
    pub fn respond(&self, mut builder: HttpResponseBuilder) -> HttpResponse {
        builder.status(self.status).json(ErrorBody {
            code: self.code,
            message: &self.message,
        })
    }

    /// Server-side faults are logged once, here, with their cause; the client gets no internals.
    pub(super) fn internal(what: &str, cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{what}; the server log has the cause"),
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.respond(HttpResponse::build(self.status))
    }
}

impl From<BadDigest> for ApiError {
    fn from(e: BadDigest) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-digest", e.to_string())
    }
}

impl From<SpaceError> for ApiError {
    fn from(e: SpaceError) -> Self {
        match e {
            SpaceError::BelowFloor { .. } => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient-storage",
                e.to_string(),
            ),
            SpaceError::Unknown(ref io) => Self::internal("cannot read free disk space", io),
        }
    }
}

impl From<crate::access::AccessError> for ApiError {
    fn from(e: crate::access::AccessError) -> Self {
        use crate::access::AccessError as E;
        match e {
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            E::Damaged(_) => {
                Self::new(StatusCode::FORBIDDEN, "damaged-organisation", e.to_string())
            }
            E::Missing(what) => Self::not_found(what),
            E::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Space(space) => space.into(),
            // Nothing was acknowledged: the client may send the same request again.
            StoreError::NotDurable(_) | StoreError::Stale(_) | StoreError::Closed(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-durable",
                format!("{e}; nothing was saved, send it again"),
            ),
            other => Self::internal("database error", &other),
        }
    }
}

impl From<crate::people::PeopleOpError> for ApiError {
    fn from(e: crate::people::PeopleOpError) -> Self {
        use crate::people::PeopleOpError as E;
        match e {
            E::Invalid(_) => Self::new(StatusCode::BAD_REQUEST, "invalid", e.to_string()),
            E::UnknownOrg(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-organisation",
                e.to_string(),
            ),
            E::Exists(_) => Self::new(StatusCode::CONFLICT, "exists", e.to_string()),
            E::NotFound(_) => Self::not_found(e.to_string()),
            E::Disabled(_) => Self::new(StatusCode::CONFLICT, "disabled", e.to_string()),
            E::Hash(_) => Self::internal("cannot hash a PIN", &e),
            E::Access(a) => a.into(),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::sign_in::SignInError> for ApiError {
    fn from(e: crate::sign_in::SignInError) -> Self {
        use crate::sign_in::SignInError as E;
        match e {
            E::Refused => Self::new(StatusCode::UNAUTHORIZED, "sign-in-refused", e.to_string()),
            E::Locked { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "sign-in-locked",
                e.to_string(),
            ),
            E::Throttled { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "sign-in-throttled",
                e.to_string(),
            ),
            E::Busy => Self::new(StatusCode::TOO_MANY_REQUESTS, "sign-in-busy", e.to_string()),
            E::Disabled => Self::new(StatusCode::FORBIDDEN, "member-disabled", e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::catalog::CatalogOpError> for ApiError {
    fn from(e: crate::catalog::CatalogOpError) -> Self {
        use crate::catalog::CatalogOpError as E;
        use crate::domain::catalog::CatalogError as Rule;
        let message = e.to_string();
        match e {
            E::Rule(rule @ (Rule::NothingToPublish(_) | Rule::NotPublished(_))) => {
                Self::new(StatusCode::CONFLICT, rule.code(), message)
            }
            E::Rule(rule) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, rule.code(), message),
            E::NoCourse(_) | E::NoLesson(_) => Self::not_found(message),
            E::CourseExists(_) => Self::new(StatusCode::CONFLICT, "exists", message),
            E::UnknownBlob(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-blob", message)
            }
            E::Unplayable { .. } => Self::unplayable(message),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::catalog::SyncError> for ApiError {
    fn from(e: crate::catalog::SyncError) -> Self {
        use crate::catalog::SyncError as E;
        match e {
            E::Ahead { .. } => Self::new(StatusCode::CONFLICT, "resync", e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::ledger::session::SessionError> for ApiError {
    fn from(e: crate::ledger::session::SessionError) -> Self {
        use crate::ledger::session::SessionError as E;
        let message = e.to_string();
        match e {
            E::NotAStation | E::NotYours(_) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            E::NotFound(_) => Self::not_found(message),
            E::Exists(_) => Self::new(StatusCode::CONFLICT, "exists", message),
            E::Ended(_) => Self::new(StatusCode::CONFLICT, "ended", message),
            E::Invalid(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::ledger::registration::RegisterError> for ApiError {
    fn from(e: crate::ledger::registration::RegisterError) -> Self {
        use crate::domain::watch::{RegistrationError, Rejection};
        use crate::ledger::registration::RegisterError as E;
        let message = e.to_string();
        match e {
            E::Invalid(RegistrationError::Conflict(_)) => {
                Self::new(StatusCode::CONFLICT, "conflict", message)
            }
            E::Invalid(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            E::Refused(Rejection::UnknownMember(_)) => Self::not_found(message),
            E::Refused(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::domain::watch_body::BodyError> for ApiError {
    fn from(e: crate::domain::watch_body::BodyError) -> Self {
        use crate::domain::watch_body::BodyError as E;
        match e {
            E::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", e.to_string())
            }
            E::NotJson(_) | E::NotReports(_) | E::Unreadable(_) => {
                Self::new(StatusCode::BAD_REQUEST, "bad-json", e.to_string())
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal("background task failed", &e)
    }
}

/// Turns the framework's own rejections (bad JSON, bad path, payload too large) into our body.
pub fn framework_error(
    status: StatusCode,
    code: &'static str,
    err: impl fmt::Display,
) -> actix_web::Error {
    ApiError::new(status, code, err.to_string()).into()
}
