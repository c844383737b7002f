//! The people every permission test starts from: county → township → branch, other-county →
//! other-branch, member M1 in branch, and one token per kind of caller.

use super::TestApp;
use yuanjiao::domain::org::{Field, Member, Org, OrgKind, Post, Principal};
use yuanjiao::people;

pub fn org(id: &str, kind: OrgKind, parent: Option<&str>) -> Org {
    Org {
        id: id.into(),
        name: format!("{id} 党组织"),
        kind,
        region: None,
        parent: parent.map(str::to_string),
    }
}

/// The callers, in this order: admin, editor, manager (of township), other-manager (of
/// other-county), terminal, member (M1), revoked, expired, none.
pub fn seed(app: &TestApp) -> Vec<(&'static str, Option<String>)> {
    let s = &app.services;
    for o in [
        org("county", OrgKind::Committee, None),
        org("township", OrgKind::Committee, Some("county")),
        org("branch", OrgKind::Branch, Some("township")),
        org("other-county", OrgKind::Committee, None),
        org("other-branch", OrgKind::Branch, Some("other-county")),
    ] {
        people::create_org(s, &o, "test").unwrap();
    }
    let m1 = Member {
        id: "M1".into(),
        name: "卓玛".into(),
        org: "branch".into(),
        home_org: None,
        posts: vec![Post::Member],
        field: Field::Rural,
        joined: "2019-07-01".into(),
        languages: vec!["bo-Tibt".parse().unwrap()],
    };
    people::create_member(s, &m1, "4821", "test").unwrap();
    let token = |p: Principal| Some(people::issue_token(s, p, None, "test").unwrap());
    let revoked = people::issue_token(s, Principal::Admin, None, "test").unwrap();
    people::revoke_token(s, &revoked, "test").unwrap();
    let expired = people::issue_token(s, Principal::Admin, Some(1), "test").unwrap();
    vec![
        ("admin", token(Principal::Admin)),
        ("editor", token(Principal::Editor)),
        (
            "manager",
            token(Principal::Manager {
                org: "township".into(),
            }),
        ),
        (
            "other-manager",
            token(Principal::Manager {
                org: "other-county".into(),
            }),
        ),
        (
            "terminal",
            token(Principal::Terminal {
                station: "st-0".into(),
                org: "branch".into(),
            }),
        ),
        (
            "member",
            token(Principal::Member {
                member: "M1".into(),
            }),
        ),
        ("revoked", Some(revoked)),
        ("expired", Some(expired)),
        ("none", None),
    ]
}
