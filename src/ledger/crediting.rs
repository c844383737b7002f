//! Who may credit whom (a manager only within their organisation, read from the tree), and the
//! limits on a report's age and clock skew, as the settings give them.

use crate::domain::org::{permits, Action, Member, OrgTree, Principal};
use crate::domain::watch::{Limits, Rejection};
use crate::infra::Infra;
use crate::repo::StoreError;
use std::sync::Arc;

pub(crate) fn limits(infra: &Infra) -> Limits {
    let l = &infra.settings.ledger;
    Limits {
        offline_max_age_ms: l.offline_max_age.as_millis() as i64,
        max_clock_skew_ms: l.max_clock_skew.as_millis() as i64,
    }
}

/// Who may credit whom; the organisation tree is read only for managers, who need it.
pub(crate) struct Crediting<'a> {
    caller: &'a Principal,
    tree: Arc<OrgTree>,
}

impl<'a> Crediting<'a> {
    pub(crate) fn new(infra: &Infra, caller: &'a Principal) -> Result<Self, StoreError> {
        let tree = match caller {
            Principal::Manager { .. } => infra.store.org_tree()?,
            _ => Arc::default(),
        };
        Ok(Crediting { caller, tree })
    }

    /// The member, if this caller may credit them.
    pub(crate) fn member(
        &self,
        infra: &Infra,
        id: &str,
    ) -> Result<Result<Member, Rejection>, StoreError> {
        let Some(record) = infra.store.member(id)? else {
            return Ok(Err(Rejection::UnknownMember(id.to_string())));
        };
        if permits(
            self.caller,
            &Action::CreditMember(&record.member),
            &self.tree,
        ) {
            Ok(Ok(record.member))
        } else {
            Ok(Err(Rejection::Forbidden(id.to_string())))
        }
    }
}
