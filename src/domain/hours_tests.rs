use super::*;
use crate::domain::org::Post;

const HOUR: i64 = 45 * 60_000;

fn requirement() -> Requirement {
    Requirement {
        minutes_per_hour: 45,
        member_hours: 32,
        leader_hours: 56,
    }
}

fn org(id: &str, parent: Option<&str>) -> Org {
    Org {
        id: id.into(),
        name: format!("{id} 支部"),
        kind: if parent.is_some() {
            OrgKind::Branch
        } else {
            OrgKind::Committee
        },
        region: None,
        parent: parent.map(String::from),
    }
}

fn line(id: &str, org: &str, posts: Vec<Post>, hours: i64, centralised: u32) -> MemberYearLine {
    MemberYearLine {
        member: Member {
            id: id.into(),
            name: id.into(),
            org: org.into(),
            home_org: None,
            posts,
            field: crate::domain::catalog::Audience::Rural,
            joined: "2020-01-01".into(),
            languages: vec![],
        },
        credited_ms: hours,
        centralised,
    }
}

#[test]
fn hours_are_credited_minutes_over_the_hour_length_to_two_decimals() {
    let r = requirement();
    assert_eq!(r.hours(HOUR), 1.0);
    assert_eq!(r.hours(HOUR / 3), 0.33);
    assert_eq!(r.hours(0), 0.0);
}

#[test]
fn leaders_need_more_hours_and_a_centralised_training() {
    let r = requirement();
    let member = line("a", "b", vec![Post::Member], 0, 0).member;
    let secretary = line("s", "b", vec![Post::Secretary], 0, 0).member;
    assert!(r.standing(&member, 32 * HOUR, 0).met);
    assert!(!r.standing(&member, 32 * HOUR - 1, 0).met);
    assert!(
        !r.standing(&secretary, 56 * HOUR, 0).met,
        "no centralised training"
    );
    assert!(r.standing(&secretary, 56 * HOUR, 1).met);
    assert_eq!(r.standing(&secretary, 0, 0).required_hours, 56);
}

#[test]
fn totals_roll_up_the_tree() {
    let orgs = vec![
        org("top", None),
        org("b1", Some("top")),
        org("b2", Some("top")),
    ];
    let lines = vec![
        line("m1", "b1", vec![Post::Member], 32 * HOUR, 0),
        line("m2", "b1", vec![Post::Member], 10 * HOUR, 0),
        line("m3", "b2", vec![Post::Secretary], 60 * HOUR, 1),
        line("m4", "top", vec![Post::Committee], 60 * HOUR, 0),
    ];
    let summary = roll_up(&orgs[0], &orgs, &lines, &requirement());
    assert_eq!((summary.members, summary.met), (4, 2));
    assert_eq!(summary.completion_rate, 0.5);
    assert_eq!(summary.total_hours, 162.0);
    assert_eq!(summary.own_members, 1);
    let rows: Vec<(usize, &str)> = summary
        .flatten()
        .into_iter()
        .map(|(d, r)| (d, r.org.as_str()))
        .collect();
    assert_eq!(rows, vec![(0, "top"), (1, "b1"), (1, "b2")]);
    let b1 = &summary.children[0];
    assert_eq!((b1.members, b1.met, b1.total_hours), (2, 1, 42.0));
}
