//! Members: created, changed, moved, disabled and enabled, each under the member's lock and
//! written with its audit entry (and any revoked tokens) in one transaction.

use super::{commit, hash_pin, Actor, PeopleHost, PeopleOpError};
use crate::domain::org::{check_id, Member, Principal};
use crate::repo::{MemberRecord, PeopleWrite};

/// Creates a member in an existing organisation.
pub fn create_member(
    services: &impl PeopleHost,
    member: &Member,
    pin: &str,
    actor: impl Into<Actor>,
) -> Result<(), PeopleOpError> {
    member.validate()?;
    for org in member.orgs() {
        check_id("organisation id", org)?;
        if services.infra().store.org(org)?.is_none() {
            return Err(PeopleOpError::UnknownOrg(org.to_string()));
        }
    }
    // Hashed before the lock is taken: Argon2 is the slow part, and needs no record.
    let pin_hash = hash_pin(pin)?;
    let _held = services.locks().member(&member.id);
    if services.infra().store.member(&member.id)?.is_some() {
        return Err(PeopleOpError::Exists(format!("member {:?}", member.id)));
    }
    let record = MemberRecord {
        member: member.clone(),
        pin_hash,
        failed_sign_ins: 0,
        locked_until_ms: 0,
        disabled: false,
    };
    let entry = actor.into().entry(
        services.infra().now_ms(),
        "member.create",
        &member.id,
        serde_json::json!({ "after": member }),
    );
    let write = PeopleWrite {
        members: vec![record],
        audit: vec![entry],
        ..PeopleWrite::default()
    };
    Ok(commit(services, &write)?)
}

/// Changes to a member; absent fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub name: Option<String>,
    pub org: Option<String>,
    /// `Some(None)` clears it: the member is no longer away from home.
    #[serde(default, with = "explicit_null")]
    pub home_org: Option<Option<String>>,
    pub posts: Option<Vec<crate::domain::org::Post>>,
    pub languages: Option<Vec<crate::domain::lang::Lang>>,
    /// `true` revokes the member's tokens and refuses sign-in until it is `false` again.
    pub disabled: Option<bool>,
}

mod explicit_null {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// A member as managers see it: the record without its PIN hash and sign-in counters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberView {
    #[serde(flatten)]
    pub member: Member,
    pub disabled: bool,
}

/// Applies a change to a member (a move between organisations among them); the audit log keeps
/// the record before and after, so history stays intact.
pub fn change_member(
    services: &impl PeopleHost,
    id: &str,
    change: &MemberChange,
    actor: impl Into<Actor>,
) -> Result<MemberView, PeopleOpError> {
    let actor = actor.into();
    let _held = services.locks().member(id);
    let mut record = services
        .infra()
        .store
        .member(id)?
        .ok_or_else(|| PeopleOpError::NotFound(format!("member {id:?}")))?;
    let before = record.member.clone();
    let was_disabled = record.disabled;
    let m = &mut record.member;
    if let Some(name) = &change.name {
        m.name = name.clone();
    }
    if let Some(org) = &change.org {
        m.org = org.clone();
    }
    if let Some(home) = &change.home_org {
        m.home_org = home.clone();
    }
    if let Some(posts) = &change.posts {
        m.posts = posts.clone();
    }
    if let Some(languages) = &change.languages {
        m.languages = languages.clone();
    }
    m.validate()?;
    for org in m.orgs() {
        if services.infra().store.org(org)?.is_none() {
            return Err(PeopleOpError::UnknownOrg(org.to_string()));
        }
    }
    if let Some(disabled) = change.disabled {
        record.disabled = disabled;
    }
    let now = services.infra().now_ms();
    let mut write = PeopleWrite::default();
    if record.disabled && !was_disabled {
        let principal = Principal::Member {
            member: id.to_string(),
        };
        let hashes = services.infra().store.tokens_of(&principal)?;
        crate::tokens::revoke_into(
            services.infra(),
            &hashes,
            &actor,
            "member disabled",
            &mut write,
        )?;
    }
    let after = MemberView {
        member: record.member.clone(),
        disabled: record.disabled,
    };
    write.audit.push(actor.entry(
        now,
        "member.update",
        id,
        serde_json::json!({
            "before": before, "after": after.member,
            "disabled": { "before": was_disabled, "after": record.disabled },
        }),
    ));
    write.members.push(record);
    commit(services, &write)?;
    Ok(after)
}
