//! The one authorisation policy: whether a principal may do an action, by the rules of
//! `domain::org::permits` over the organisation tree the repositories hold, and why not. Use
//! cases and the request layer both ask here; neither reads the tree itself.

use crate::domain::org::{permits, Action, Principal};
use crate::infra::HasInfra;
use crate::repo::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("this token does not allow that")]
    Forbidden,
    /// Refused because a record the decision rests on cannot be read: say so, not "not yours".
    #[error(
        "the record of organisation {0:?} cannot be read, so nothing in or under it can be \
         checked; an admin must repair it"
    )]
    Damaged(String),
    /// Not there, told only to a caller who may learn that (see `missing`).
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ok if the rules allow `who` the action. The tree comes from the repositories' cache, read
/// again only after an organisation changes.
pub fn check(host: &impl HasInfra, who: &Principal, action: &Action) -> Result<(), AccessError> {
    let tree = host.infra().store.org_tree()?;
    if permits(who, action, &tree) {
        return Ok(());
    }
    let damaged = action
        .orgs()
        .into_iter()
        .find_map(|o| tree.damaged_above(o));
    Err(match damaged {
        Some(org) => AccessError::Damaged(org.to_string()),
        None => AccessError::Forbidden,
    })
}

/// A record that is not there: `Missing` for callers who may learn of it, the refusal for the
/// rest, so that ids cannot be probed.
pub fn missing(host: &impl HasInfra, who: &Principal, what: String) -> AccessError {
    match check(host, who, &Action::SeeMissing) {
        Ok(()) => AccessError::Missing(what),
        Err(refused) => refused,
    }
}
