use super::*;

fn tree() -> OrgTree {
    // county → township → (general branch → branch-a), township → branch-b; another county.
    OrgTree::new([
        ("county".to_string(), None),
        ("township".to_string(), Some("county".to_string())),
        ("general".to_string(), Some("township".to_string())),
        ("branch-a".to_string(), Some("general".to_string())),
        ("branch-b".to_string(), Some("township".to_string())),
        ("other-county".to_string(), None),
        ("other-branch".to_string(), Some("other-county".to_string())),
    ])
}

fn member(id: &str, org: &str, home: Option<&str>, posts: Vec<Post>) -> Member {
    Member {
        id: id.into(),
        name: "成员".into(),
        org: org.into(),
        home_org: home.map(str::to_string),
        posts,
        field: Field::Rural,
        joined: "2019-07-01".into(),
        languages: vec![],
    }
}

#[test]
fn subtrees_are_read_from_parent_links() {
    let t = tree();
    assert!(t.within("branch-a", "county"));
    assert!(t.within("branch-a", "branch-a"));
    assert!(!t.within("county", "branch-a"));
    assert!(!t.within("other-branch", "county"));
    assert!(!t.within("unknown", "county"));
    let cyclic = OrgTree::new([
        ("a".to_string(), Some("b".to_string())),
        ("b".to_string(), Some("a".to_string())),
    ]);
    assert!(!cyclic.within("a", "c"), "a damaged cycle ends");
}

#[test]
fn nothing_is_within_anything_through_a_damaged_record() {
    // "general" could not be read: branch-a still names it as parent, nothing more is known.
    let t = OrgTree::new(tree().parents.into_iter().filter(|(id, _)| id != "general"))
        .with_damaged(["general".to_string()]);
    assert!(!t.within("branch-a", "county"), "not through the damage");
    assert!(!t.within("branch-a", "general"));
    assert!(!t.within("general", "general"));
    assert!(
        t.within("branch-a", "branch-a"),
        "below it, nothing depends on it"
    );
    assert!(t.within("branch-b", "county"), "the rest of the tree works");
    assert_eq!(t.damaged_above("branch-a"), Some("general"));
    assert_eq!(t.damaged_above("general"), Some("general"));
    assert_eq!(t.damaged_above("branch-b"), None);
    let manager = Principal::Manager {
        org: "county".into(),
    };
    let in_a = member("M1", "branch-a", None, vec![Post::Member]);
    let in_b = member("M2", "branch-b", None, vec![Post::Member]);
    assert!(!permits(&manager, &Action::ReadMember(&in_a), &t));
    assert!(permits(&manager, &Action::ReadMember(&in_b), &t));
    assert!(permits(&Principal::Admin, &Action::ReadMember(&in_a), &t));
    assert_eq!(Action::ReadMember(&in_a).orgs(), ["branch-a"]);
}

#[test]
fn the_permission_rules_decide_each_role_and_action() {
    let t = tree();
    let in_a = member("M1", "branch-a", None, vec![Post::Member]);
    let mobile = member("M2", "other-branch", Some("branch-b"), vec![Post::Member]);
    let manager = |org: &str| Principal::Manager { org: org.into() };
    let station = Principal::Terminal {
        station: "st-1".into(),
        org: "branch-a".into(),
    };
    let me = Principal::Member {
        member: "M1".into(),
    };
    use Action::*;
    let cases: Vec<(Principal, Action, bool)> = vec![
        (Principal::Admin, ReadAudit, true),
        (Principal::Admin, RevokeToken, true),
        (Principal::Admin, SeeMissing, true),
        (manager("county"), SeeMissing, false),
        (manager("county"), RevokeToken, false),
        (Principal::Admin, WriteOrg { parent: None }, true),
        (Principal::Editor, EditCatalogue, true),
        (Principal::Editor, ReadMember(&in_a), false),
        (Principal::Editor, IssueToken { manager_of: None }, false),
        (manager("township"), ReadOrg("branch-a"), true),
        (manager("township"), ReadOrg("county"), false),
        (
            manager("township"),
            WriteOrg {
                parent: Some("general"),
            },
            true,
        ),
        (
            manager("township"),
            WriteOrg {
                parent: Some("county"),
            },
            false,
        ),
        (manager("township"), WriteOrg { parent: None }, false),
        (manager("township"), ReadMember(&in_a), true),
        (manager("township"), ReadMember(&mobile), true),
        (manager("township"), CreditMember(&mobile), false),
        (manager("other-county"), CreditMember(&mobile), true),
        (manager("other-county"), ReadMember(&in_a), false),
        (manager("township"), WriteMember { org: "branch-b" }, true),
        (manager("general"), WriteMember { org: "branch-b" }, false),
        (manager("township"), WriteTerminal { org: "branch-a" }, true),
        (
            manager("township"),
            IssueToken {
                manager_of: Some("general"),
            },
            true,
        ),
        (
            manager("township"),
            IssueToken {
                manager_of: Some("township"),
            },
            false,
        ),
        (manager("township"), IssueToken { manager_of: None }, false),
        (manager("county"), ReadAudit, false),
        (manager("county"), EditCatalogue, false),
        (station.clone(), CreditMember(&in_a), true),
        (station.clone(), ReadMember(&in_a), true),
        (station.clone(), CreditMember(&mobile), false),
        (station.clone(), Play, true),
        (station.clone(), Sync, true),
        (station.clone(), EditCatalogue, false),
        (station, ReadOrg("branch-a"), false),
        (Principal::Editor, Play, false),
        (Principal::Editor, Sync, false),
        (manager("county"), Play, false),
        (manager("county"), Sync, false),
        (me.clone(), Play, true),
        (me.clone(), Sync, false),
        (me.clone(), RegisterHours(&in_a), false),
        (manager("township"), RegisterHours(&in_a), true),
        (manager("other-county"), RegisterHours(&in_a), false),
        (me.clone(), EditCatalogue, false),
        (me.clone(), ReadMember(&in_a), true),
        (me.clone(), CreditMember(&in_a), true),
        (me.clone(), ReadMember(&mobile), false),
        (me, WriteMember { org: "branch-a" }, false),
    ];
    for (who, action, want) in cases {
        assert_eq!(permits(&who, &action, &t), want, "{who:?} {action:?}");
    }
}

#[test]
fn leaders_owe_more_hours() {
    assert_eq!(
        member("a", "b", None, vec![Post::Member]).required_hours(32, 56),
        32
    );
    assert_eq!(
        member("a", "b", None, vec![Post::Member, Post::Secretary]).required_hours(32, 56),
        56
    );
    assert_eq!(
        member("a", "b", None, vec![Post::Committee]).required_hours(32, 56),
        56
    );
}

#[test]
fn organisations_nest_as_the_party_does() {
    let org = |kind| Org {
        id: "x".into(),
        name: "支部".into(),
        kind,
        region: None,
        parent: None,
    };
    use OrgKind::*;
    assert_eq!(org(Committee).validate(None), Ok(()));
    assert_eq!(org(Branch).validate(None), Err(PeopleError::MissingParent));
    assert_eq!(org(Branch).validate(Some(GeneralBranch)), Ok(()));
    assert_eq!(org(Branch).validate(Some(Committee)), Ok(()));
    assert_eq!(org(GeneralBranch).validate(Some(Committee)), Ok(()));
    assert_eq!(org(Committee).validate(Some(Committee)), Ok(()));
    assert_eq!(
        org(Committee).validate(Some(Branch)),
        Err(PeopleError::BadNesting {
            child: Committee,
            parent: Branch
        })
    );
    assert!(matches!(
        org(GeneralBranch).validate(Some(GeneralBranch)),
        Err(PeopleError::BadNesting { .. })
    ));
}

#[test]
fn ids_dates_and_pins_are_checked() {
    assert!(check_id("member id", "M0001").is_ok());
    for bad in ["", "a b", "../x", &"x".repeat(65), "成员"] {
        assert!(check_id("member id", bad).is_err(), "{bad}");
    }
    for good in ["2019-07-01", "2024-02-29", "2000-02-29"] {
        assert_eq!(check_date(good), Ok(()), "{good}");
    }
    for bad in [
        "2019-7-01",
        "2023-02-29",
        "1900-02-29",
        "2019-13-01",
        "2019-04-31",
        "2019/07/01",
        "",
        "1899-12-31",
    ] {
        assert!(check_date(bad).is_err(), "{bad}");
    }
    assert!(check_pin("4821").is_ok());
    for bad in ["123", "12a4", "1234567890123", ""] {
        assert!(check_pin(bad).is_err(), "{bad}");
    }
}

#[test]
fn token_requests_name_a_role_and_only_managers_an_organisation() {
    assert_eq!(Principal::named("admin", None), Ok(Principal::Admin));
    assert_eq!(
        Principal::named("manager", Some("x".into())),
        Ok(Principal::Manager { org: "x".into() })
    );
    for (role, org) in [
        ("editor", Some("x")),
        ("manager", None),
        ("terminal", None),
        ("root", None),
    ] {
        assert!(
            Principal::named(role, org.map(str::to_string)).is_err(),
            "{role} {org:?}"
        );
    }
}

#[test]
fn managers_see_and_revoke_the_tokens_of_their_subtree_below_their_own_level() {
    let t = tree();
    let township = Principal::Manager {
        org: "township".into(),
    };
    let station = Principal::Terminal {
        station: "st-1".into(),
        org: "branch-a".into(),
    };
    let cases = [
        (TokenOwner::Terminal("branch-a".into()), true),
        (TokenOwner::Member(vec!["branch-b".into()]), true),
        // A mobile member living elsewhere, at home under the township.
        (
            TokenOwner::Member(vec!["other-branch".into(), "branch-a".into()]),
            true,
        ),
        (TokenOwner::Manager("general".into()), true),
        (TokenOwner::Manager("township".into()), false),
        (TokenOwner::Manager("county".into()), false),
        (TokenOwner::Terminal("other-branch".into()), false),
        (TokenOwner::Member(vec![]), false),
        (TokenOwner::Editor, false),
        (TokenOwner::Admin, false),
    ];
    for (owner, expected) in cases {
        let action = Action::ManageToken(&owner);
        assert_eq!(permits(&township, &action, &t), expected, "{owner:?}");
        assert!(
            permits(&Principal::Admin, &action, &t),
            "admins manage every token"
        );
        assert!(!permits(&station, &action, &t), "stations manage none");
    }
}
