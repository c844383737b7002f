//! Who is who and who may do what: the organisation tree, members and their posts, the yearly
//! requirement, and the permission rules every handler is checked against in one place.

use super::catalog::Audience;
use super::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgKind {
    Committee,
    GeneralBranch,
    Branch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub kind: OrgKind,
    #[serde(default)]
    pub region: Option<String>,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Post {
    Member,
    Secretary,
    Committee,
}

impl std::str::FromStr for Post {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "member" => Ok(Post::Member),
            "secretary" => Ok(Post::Secretary),
            "committee" => Ok(Post::Committee),
            other => Err(format!(
                "unknown post {other:?}; posts are member, secretary, committee"
            )),
        }
    }
}

/// The field a member works in; the same closed set as a course's audiences.
pub type Field = Audience;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    /// The organisation the member lives under now; it credits their hours.
    pub org: String,
    /// For a mobile member, the organisation at home, which may also see them.
    #[serde(default)]
    pub home_org: Option<String>,
    pub posts: Vec<Post>,
    pub field: Field,
    /// Date of joining, `YYYY-MM-DD`.
    pub joined: String,
    pub languages: Vec<Lang>,
}

impl Member {
    /// Secretaries and committee members owe the leaders' requirement.
    pub fn is_leader(&self) -> bool {
        self.posts
            .iter()
            .any(|p| matches!(p, Post::Secretary | Post::Committee))
    }

    /// Study hours owed in a year.
    pub fn required_hours(&self, member_hours: u32, leader_hours: u32) -> u32 {
        if self.is_leader() {
            leader_hours
        } else {
            member_hours
        }
    }

    /// The organisations that may see this member: where they live now, and home.
    pub fn orgs(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.org.as_str()).chain(self.home_org.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeopleError {
    #[error("{what} {value:?} must be 1-64 characters of letters, digits, '-' and '_'")]
    BadId { what: &'static str, value: String },
    #[error("{0:?} is not a date of the form YYYY-MM-DD")]
    BadDate(String),
    #[error("name must not be empty")]
    NoName,
    #[error("a member holds at least one post")]
    NoPost,
    #[error("a PIN is 4 to 12 digits")]
    BadPin,
    #[error("a {child:?} cannot sit under a {parent:?}")]
    BadNesting { child: OrgKind, parent: OrgKind },
    #[error("a committee at the top of the tree has no parent; every other organisation has one")]
    MissingParent,
    #[error("an organisation cannot move under itself or its own subtree")]
    Cycle,
    #[error("a token's role is admin, editor, or manager with its organisation (got {0})")]
    BadRole(String),
}

pub fn check_id(what: &'static str, value: &str) -> Result<(), PeopleError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or_else(|| PeopleError::BadId {
        what,
        value: value.to_string(),
    })
}

/// `YYYY-MM-DD`, a real calendar day.
pub fn check_date(value: &str) -> Result<(), PeopleError> {
    let bad = || PeopleError::BadDate(value.to_string());
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (u32, u32, u32) = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => (y, m, d),
        _ => return Err(bad()),
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    (y >= 1900 && (1..=days).contains(&d))
        .then_some(())
        .ok_or_else(bad)
}

pub fn check_pin(pin: &str) -> Result<(), PeopleError> {
    let ok = (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(()).ok_or(PeopleError::BadPin)
}

impl Org {
    /// Checks the organisation on its own and against its parent's kind.
    pub fn validate(&self, parent_kind: Option<OrgKind>) -> Result<(), PeopleError> {
        check_id("organisation id", &self.id)?;
        if self.name.trim().is_empty() {
            return Err(PeopleError::NoName);
        }
        match (self.kind, parent_kind) {
            (OrgKind::Committee, None) => Ok(()),
            (_, None) => Err(PeopleError::MissingParent),
            // Committees nest (county → township); branches sit under either level above.
            (OrgKind::Committee, Some(OrgKind::Committee))
            | (OrgKind::GeneralBranch, Some(OrgKind::Committee))
            | (OrgKind::Branch, Some(OrgKind::Committee | OrgKind::GeneralBranch)) => Ok(()),
            (child, Some(parent)) => Err(PeopleError::BadNesting { child, parent }),
        }
    }
}

impl Member {
    pub fn validate(&self) -> Result<(), PeopleError> {
        check_id("member id", &self.id)?;
        check_id("organisation id", &self.org)?;
        if self.name.trim().is_empty() {
            return Err(PeopleError::NoName);
        }
        if self.posts.is_empty() {
            return Err(PeopleError::NoPost);
        }
        check_date(&self.joined)
    }
}

/// Who is asking, as their token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "kebab-case")]
pub enum Principal {
    Admin,
    Editor,
    /// Manages one organisation and everything under it.
    Manager {
        org: String,
    },
    /// A station, bound to one organisation.
    Terminal {
        station: String,
        org: String,
    },
    Member {
        member: String,
    },
}

impl Principal {
    /// The admin, editor or manager a token request names.
    pub fn named(role: &str, org: Option<String>) -> Result<Principal, PeopleError> {
        match (role, org) {
            ("admin", None) => Ok(Principal::Admin),
            ("editor", None) => Ok(Principal::Editor),
            ("manager", Some(org)) => Ok(Principal::Manager { org }),
            (role, org) => Err(PeopleError::BadRole(format!(
                "{role:?} with organisation {org:?}"
            ))),
        }
    }
}

/// What is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    ReadOrg(&'a str),
    /// Create or change an organisation placed under `parent` (None: a new top).
    WriteOrg {
        parent: Option<&'a str>,
    },
    ReadMember(&'a Member),
    /// Create or change a member in organisation `org`.
    WriteMember {
        org: &'a str,
    },
    /// Create or revoke a station of `org`.
    WriteTerminal {
        org: &'a str,
    },
    /// Issue an editor or manager token (manager of `org`).
    IssueToken {
        manager_of: Option<&'a str>,
    },
    /// Credit watched time to a member.
    CreditMember(&'a Member),
    /// Register hours of an offline activity for a member.
    RegisterHours(&'a Member),
    ReadAudit,
    /// Revoke a token that is not the caller's own.
    RevokeToken,
    /// See or revoke a token of this owner (`GET`/`DELETE /api/v1/tokens`).
    ManageToken(&'a TokenOwner),
    /// Learn that a member or organisation id does not exist (others get 403, so ids do not leak).
    SeeMissing,
    EditCatalogue,
    /// Play a lesson (the answer carries the caller's resume position).
    Play,
    /// Follow the catalogue's changes as a station.
    Sync,
}

/// Whose a token is, for deciding who may see and revoke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOwner {
    Admin,
    Editor,
    Manager(String),
    Terminal(String),
    /// A member's token: the organisations the member belongs to (none if the member is gone).
    Member(Vec<String>),
}

impl TokenOwner {
    pub fn orgs(&self) -> Vec<&str> {
        match self {
            TokenOwner::Admin | TokenOwner::Editor => Vec::new(),
            TokenOwner::Manager(org) | TokenOwner::Terminal(org) => vec![org],
            TokenOwner::Member(orgs) => orgs.iter().map(String::as_str).collect(),
        }
    }
}

/// Parent links of the organisation tree, for subtree questions, and the organisations whose
/// records could not be read: nothing is known of where they sit, so no answer may pass
/// through them.
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    parents: HashMap<String, Option<String>>,
    damaged: BTreeSet<String>,
}

impl OrgTree {
    pub fn new(links: impl IntoIterator<Item = (String, Option<String>)>) -> Self {
        OrgTree {
            parents: links.into_iter().collect(),
            damaged: BTreeSet::new(),
        }
    }

    /// The tree with these organisations' records unreadable.
    pub fn with_damaged(mut self, damaged: impl IntoIterator<Item = String>) -> Self {
        self.damaged.extend(damaged);
        self
    }

    pub fn contains(&self, org: &str) -> bool {
        self.parents.contains_key(org)
    }

    /// True when `org` is `top` or lies beneath it, on a path of readable records (a damaged
    /// organisation, and whatever is asked through it, is never within anything). Bounded by
    /// the tree's size, so a cycle in damaged data cannot loop forever.
    pub fn within(&self, org: &str, top: &str) -> bool {
        let mut current = Some(org);
        for _ in 0..=self.parents.len() {
            match current {
                Some(c) if self.damaged.contains(c) => return false,
                Some(c) if c == top => return true,
                Some(c) => current = self.parents.get(c).and_then(|p| p.as_deref()),
                None => return false,
            }
        }
        false
    }

    /// The first damaged organisation on the way up from `org` (itself included), if any.
    pub fn damaged_above(&self, org: &str) -> Option<&str> {
        let mut current = Some(org);
        for _ in 0..=self.parents.len() {
            let c = current?;
            if let Some(damaged) = self.damaged.get(c) {
                return Some(damaged);
            }
            current = self.parents.get(c).and_then(|p| p.as_deref());
        }
        None
    }
}

impl Action<'_> {
    /// The organisations the action is about.
    pub fn orgs(&self) -> Vec<&str> {
        use Action::*;
        match self {
            ReadOrg(org) | WriteMember { org } | WriteTerminal { org } => vec![org],
            WriteOrg { parent } => parent.iter().copied().collect(),
            IssueToken { manager_of } => manager_of.iter().copied().collect(),
            ReadMember(m) | CreditMember(m) | RegisterHours(m) => m.orgs().collect(),
            ManageToken(owner) => owner.orgs(),
            ReadAudit | RevokeToken | SeeMissing | EditCatalogue | Play | Sync => vec![],
        }
    }
}

/// The one permission rule set. Admins may do everything; editors edit the catalogue; a
/// manager acts within their subtree; a station credits the members of its organisation; a
/// member reads their own record.
pub fn permits(who: &Principal, action: &Action, tree: &OrgTree) -> bool {
    use Action::*;
    match who {
        Principal::Admin => true,
        Principal::Editor => matches!(action, EditCatalogue),
        Principal::Manager { org: top } => {
            let under = |org: &str| tree.within(org, top);
            match action {
                ReadOrg(org) => under(org),
                // A manager adds organisations below their own, never a new top or a sibling.
                WriteOrg { parent } => parent.is_some_and(under),
                ReadMember(m) => m.orgs().any(under),
                WriteMember { org } | WriteTerminal { org } => under(org),
                IssueToken { manager_of } => manager_of.is_some_and(|o| under(o) && o != top),
                CreditMember(m) | RegisterHours(m) => under(&m.org),
                // Tokens of their subtree, but not those of their own level or above.
                ManageToken(owner) => match owner {
                    TokenOwner::Manager(org) => under(org) && org != top,
                    TokenOwner::Terminal(org) => under(org),
                    TokenOwner::Member(orgs) => orgs.iter().any(|o| under(o)),
                    TokenOwner::Admin | TokenOwner::Editor => false,
                },
                ReadAudit | RevokeToken | SeeMissing | EditCatalogue | Play | Sync => false,
            }
        }
        Principal::Terminal { org, .. } => match action {
            ReadMember(m) | CreditMember(m) => m.org == *org,
            Play | Sync => true,
            _ => false,
        },
        Principal::Member { member } => match action {
            ReadMember(m) => m.id == *member,
            CreditMember(m) => m.id == *member,
            Play => true,
            _ => false,
        },
    }
}

#[cfg(test)]
#[path = "org_tests.rs"]
mod tests;
