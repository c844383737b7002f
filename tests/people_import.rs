//! Members from CSV: each bad row reported with its line and reason, good rows imported once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::TestApp;
use yuanjiao::domain::org::{Org, OrgKind};
use yuanjiao::people;
use yuanjiao::people_import::import_members;

const CSV: &str = "\
id,name,org,posts,field,joined,languages,pin,home_org
M0001,卓玛,branch,member,rural,2019-07-01,bo-Tibt;zh-Hans,4821,
M0002,阿依古丽,branch,member;secretary,rural,2015-03-12,ug-Arab,,
M0003,王建国,branch,committee,organ,2001-10-01,zh-Hans,1234,county
M0004,too,few,columns
M0005,李明,nowhere,member,rural,2020-01-01,zh-Hans,,
M0001,卓玛,branch,member,rural,2019-07-01,bo-Tibt;zh-Hans,4821,
M0006,赵,branch,member,rural,2020-02-30,zh-Hans,,
M0007,钱,branch,chairman,rural,2020-02-01,zh-Hans,,
M0008,孙,branch,member,rural,2020-02-01,xx-Yyyy,,
M0009,周,branch,member,rural,2020-02-01,zh-Hans,12,
";

#[tokio::test]
async fn each_bad_row_is_reported_and_re_importing_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = &app.services;
    people::create_org(
        s,
        &Org {
            id: "county".into(),
            name: "县委".into(),
            kind: OrgKind::Committee,
            region: None,
            parent: None,
        },
        "t",
    )
    .unwrap();
    people::create_org(
        s,
        &Org {
            id: "branch".into(),
            name: "村支部".into(),
            kind: OrgKind::Branch,
            region: None,
            parent: Some("county".into()),
        },
        "t",
    )
    .unwrap();

    let first = import_members(s, CSV.as_bytes(), "test").unwrap();
    assert_eq!((first.created, first.unchanged), (3, 0));
    let lines: Vec<u64> = first.errors.iter().map(|e| e.0).collect();
    assert_eq!(lines, [5, 6, 7, 8, 9, 10, 11], "{:#?}", first.errors);
    let reason = |line: u64| first.errors.iter().find(|e| e.0 == line).unwrap().1.clone();
    assert!(reason(5).contains("malformed"), "{}", reason(5));
    assert!(reason(6).contains("nowhere"), "{}", reason(6));
    assert!(reason(7).contains("twice"), "{}", reason(7));
    assert!(reason(8).contains("date"), "{}", reason(8));
    assert!(reason(9).contains("post"), "{}", reason(9));
    assert!(reason(10).contains("language"), "{}", reason(10));
    assert!(reason(11).contains("PIN"), "{}", reason(11));

    let m3 = s.store.member("M0003").unwrap().unwrap();
    assert_eq!(m3.member.home_org.as_deref(), Some("county"));
    assert!(m3.pin_hash.starts_with("$argon2id$"));
    assert!(
        s.store
            .member("M0002")
            .unwrap()
            .unwrap()
            .pin_hash
            .is_empty(),
        "no PIN given, none set"
    );

    let again = import_members(s, CSV.as_bytes(), "test").unwrap();
    assert_eq!(
        (again.created, again.unchanged),
        (0, 3),
        "nothing is imported twice"
    );
    let before = s.store.member("M0001").unwrap();
    assert_eq!(s.store.member("M0001").unwrap(), before);

    let changed = CSV.replace("M0001,卓玛", "M0001,卓玛拉");
    let third = import_members(s, changed.as_bytes(), "test").unwrap();
    assert!(
        third
            .errors
            .iter()
            .any(|e| e.0 == 2 && e.1.contains("other data")),
        "{:?}",
        third.errors
    );
}
