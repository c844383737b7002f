//! What callers may read of people: organisations, members, stations and the audit log, each
//! filtered or refused by the authorisation policy (`access`), so that no request reads the
//! repositories itself.

use super::PeopleHost;
use crate::access::{self, AccessError};
use crate::domain::lang::Lang;
use crate::domain::org::{permits, Action, Member, Org, Principal};
use crate::repo::{AuditEntry, MemberRecord, StoreError, Terminal};

/// The organisations `who` may read, in id order.
pub fn visible_orgs(host: &impl PeopleHost, who: &Principal) -> Result<Vec<Org>, StoreError> {
    let directory = host.infra().store.org_directory()?;
    Ok(directory
        .orgs
        .iter()
        .filter(|o| permits(who, &Action::ReadOrg(&o.id), &directory.tree))
        .cloned()
        .collect())
}

/// An organisation `who` may read; None if there is none by that id.
pub fn read_org(
    host: &impl PeopleHost,
    who: &Principal,
    id: &str,
) -> Result<Option<Org>, AccessError> {
    access::check(host, who, &Action::ReadOrg(id))?;
    Ok(host.infra().store.org(id)?)
}

/// An organisation, or `missing` (so that ids cannot be probed); what `who` may do with it is
/// the caller's to check.
pub fn find_org(host: &impl PeopleHost, who: &Principal, id: &str) -> Result<Org, AccessError> {
    host.infra()
        .store
        .org(id)?
        .ok_or_else(|| access::missing(host, who, format!("no organisation {id:?}")))
}

/// A member's record, or `missing`; what `who` may do with it is the caller's to check.
pub fn find_member(
    host: &impl PeopleHost,
    who: &Principal,
    id: &str,
) -> Result<MemberRecord, AccessError> {
    host.infra()
        .store
        .member(id)?
        .ok_or_else(|| access::missing(host, who, format!("no member {id:?}")))
}

/// A member `who` may read.
pub fn read_member(
    host: &impl PeopleHost,
    who: &Principal,
    id: &str,
) -> Result<MemberRecord, AccessError> {
    let record = find_member(host, who, id)?;
    access::check(host, who, &Action::ReadMember(&record.member))?;
    Ok(record)
}

/// A station, or `missing`.
pub fn find_terminal(
    host: &impl PeopleHost,
    who: &Principal,
    id: &str,
) -> Result<Terminal, AccessError> {
    host.infra()
        .store
        .terminal(id)?
        .ok_or_else(|| access::missing(host, who, format!("no station {id:?}")))
}

/// The members `who` may read, in id order.
pub fn visible_members(host: &impl PeopleHost, who: &Principal) -> Result<Vec<Member>, StoreError> {
    let store = &host.infra().store;
    let tree = store.org_tree()?;
    Ok(store
        .members()?
        .into_iter()
        .map(|r| r.member)
        .filter(|m| permits(who, &Action::ReadMember(m), &tree))
        .collect())
}

/// The stations `who` may manage, in id order.
pub fn managed_terminals(
    host: &impl PeopleHost,
    who: &Principal,
) -> Result<Vec<Terminal>, StoreError> {
    let store = &host.infra().store;
    let tree = store.org_tree()?;
    Ok(store
        .terminals()?
        .into_iter()
        .filter(|t| permits(who, &Action::WriteTerminal { org: &t.org }, &tree))
        .collect())
}

/// The audit log from position `after` (exclusive), at most `limit` entries, for those who may
/// read it.
pub fn audit_log(
    host: &impl PeopleHost,
    who: &Principal,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, AuditEntry)>, AccessError> {
    access::check(host, who, &Action::ReadAudit)?;
    Ok(host.infra().store.audit_log(after, limit)?)
}

/// A station's record, for its own `GET /me` or its sync.
pub fn terminal(host: &impl PeopleHost, station: &str) -> Result<Option<Terminal>, StoreError> {
    host.infra().store.terminal(station)
}

/// A member, for their own `GET /me`.
pub fn member(host: &impl PeopleHost, member: &str) -> Result<Option<Member>, StoreError> {
    Ok(host.infra().store.member(member)?.map(|r| r.member))
}

/// The languages a member or station set in their profile, for requests that name none.
pub fn profile_languages(host: &impl PeopleHost, who: &Principal) -> Result<Vec<Lang>, StoreError> {
    let store = &host.infra().store;
    Ok(match who {
        Principal::Member { member } => store.member(member)?.map(|r| r.member.languages),
        Principal::Terminal { station, .. } => store.terminal(station)?.map(|t| t.languages),
        _ => None,
    }
    .unwrap_or_default())
}
