//! Who makes a change, as the audit log names them, and the audit entries of changes outside
//! the people trees.

use crate::infra::Infra;
use crate::repo::{AuditEntry, StoreError};

/// Who makes a change, as the audit log names them: a role or name, and the id of the token
/// they acted with (see `GET /api/v1/tokens`), when they had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub token: Option<String>,
}

impl Actor {
    pub fn with_token(name: String, token_id: String) -> Actor {
        Actor {
            name,
            token: Some(token_id),
        }
    }

    /// The audit entry of one thing this actor did at `at_ms`.
    pub fn entry(
        &self,
        at_ms: u64,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            at_ms,
            actor: self.name.clone(),
            token: self.token.clone(),
            action: action.to_string(),
            subject: subject.to_string(),
            detail,
        }
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Actor {
        Actor {
            name: name.to_string(),
            token: None,
        }
    }
}

impl From<String> for Actor {
    fn from(name: String) -> Actor {
        Actor { name, token: None }
    }
}

impl From<&String> for Actor {
    fn from(name: &String) -> Actor {
        Actor::from(name.as_str())
    }
}

impl From<&Actor> for Actor {
    fn from(actor: &Actor) -> Actor {
        actor.clone()
    }
}

/// Appends one audit entry on its own, for changes outside the people trees (the catalogue).
pub fn audit(
    infra: &Infra,
    actor: impl Into<Actor>,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    infra
        .store
        .audit(&actor.into().entry(infra.now_ms(), action, subject, detail))
}
