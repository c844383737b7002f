//! `GET /api/v1/reports/orgs/{id}/anomalies?year=`: the members of a manager's subtree whose
//! year looks wrong, each reason with its evidence, as JSON and as CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use support::small_county::{report, set_up, Tokens};
use support::TestApp;
use yuanjiao::clock::FixedClock;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// 2026-03-10T04:00:00Z, noon in Shanghai.
const NOW: i64 = 1_773_115_200_000;
/// 01:00 on 10 March in Shanghai.
const NIGHT: i64 = NOW - 11 * HOUR;

async fn county() -> (TestApp, Tokens) {
    let clock = Arc::new(FixedClock::new(
        UNIX_EPOCH + Duration::from_millis(NOW as u64),
    ));
    let app = TestApp::spawn_with_clock(clock, |s| {
        s.ledger.anomaly_hours_per_day = 1;
        s.ledger.attention_check_min = Duration::from_secs(600);
        s.ledger.attention_check_max = Duration::from_secs(600);
    })
    .await;
    let tokens = set_up(&app);
    (app, tokens)
}

async fn watch(app: &TestApp, token: &str, reports: Vec<Value>) -> Vec<String> {
    let resp = app
        .client
        .post(app.url("/api/v1/watch"))
        .bearer_auth(token)
        .json(&json!({ "reports": reports }))
        .send()
        .await
        .unwrap();
    let answer: Value = resp.json().await.unwrap();
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

/// A report under a session issued to `device` at `issued`, with the lesson delivered and
/// (when `answered`) every attention check answered as it was asked.
fn on_device(
    app: &TestApp,
    mut report: Value,
    device: [u8; 8],
    issued: i64,
    answered: bool,
) -> Value {
    let s = &app.services;
    let (member, lesson) = (
        report["member"].as_str().unwrap(),
        report["lesson"].as_str().unwrap(),
    );
    let session = s.play_sessions.issue(member, lesson, issued, device);
    support::evidence::deliver(s, &session, lesson);
    if answered {
        let head = s.play_sessions.delivery_head(&session).unwrap();
        let answers: Vec<Value> = s
            .play_sessions
            .checks(&head, (10 * MIN, 10 * MIN), 2 * HOUR)
            .into_iter()
            .map(|c| json!([c.n, c.code, support::small_county::ts(issued + c.after_ms)]))
            .collect();
        report["attention"] = json!(answers);
    }
    report["play_session"] = json!(session);
    report
}

fn of_lesson(mut report: Value, lesson: &str) -> Value {
    report["lesson"] = json!(lesson);
    report
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_secretary_sees_long_days_night_study_rejections_missed_checks_and_shared_devices() {
    let (app, t) = county().await;
    // M-a: two hours at the station on 9 March (the threshold here is one).
    let day = NOW - 27 * HOUR;
    let station = vec![
        report("st-1", "M-a", (0, HOUR), day),
        of_lesson(report("st-2", "M-a", (0, HOUR), day + HOUR), "lim-2"),
    ];
    assert_eq!(
        watch(&app, &t.station, station).await,
        ["credited", "credited"]
    );
    // M-b: an hour at 01:00, on a phone that M-a also played on at the same time.
    let phone = [9u8; 8];
    let night = on_device(
        &app,
        report("n-1", "M-b", (0, HOUR), NIGHT),
        phone,
        NIGHT - MIN,
        true,
    );
    assert_eq!(watch(&app, &t.member_b, vec![night]).await, ["credited"]);
    let borrowed = of_lesson(report("n-2", "M-a", (0, 5 * MIN), NIGHT + 2 * MIN), "lim-2");
    let borrowed = on_device(&app, borrowed, phone, NIGHT + MIN, true);
    assert_eq!(watch(&app, &t.member, vec![borrowed]).await, ["credited"]);
    // M-b again: three reports without evidence, and three after a check went unanswered.
    let bare: Vec<Value> = (0..3)
        .map(|n| report(&format!("b-{n}"), "M-b", (0, MIN), NOW - HOUR + n * MIN))
        .collect();
    let issued = NOW - 3 * HOUR;
    let silent: Vec<Value> = (0..3)
        .map(|n| {
            let r = report(&format!("s-{n}"), "M-b", (0, MIN), NOW - 2 * HOUR + n * MIN);
            on_device(&app, r, [n as u8; 8], issued, false)
        })
        .collect();
    let outcomes = watch(&app, &t.member_b, [bare, silent].concat()).await;
    assert!(outcomes.iter().all(|o| o == "rejected"), "{outcomes:?}");

    let resp = get(
        &app,
        &t.manager,
        "/api/v1/reports/orgs/branch/anomalies?year=2026",
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let reasons = |member: &str| -> Vec<Value> {
        let m = body["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["member"] == member);
        m.map(|m| m["reasons"].as_array().unwrap().clone())
            .unwrap_or_default()
    };
    let kinds = |member: &str| -> Vec<String> {
        reasons(member)
            .iter()
            .map(|r| r["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds("M-a"), ["long-day", "shared-device"], "{body}");
    assert_eq!(
        kinds("M-b"),
        ["night", "no-evidence", "missed-checks", "shared-device"],
        "{body}"
    );
    let long = &reasons("M-a")[0];
    assert_eq!(long["date"], "2026-03-09");
    assert_eq!(long["played_ms"], 2 * HOUR);
    let b = reasons("M-b");
    assert_eq!(
        b[1]["rejected"], 6,
        "every rejection for want of evidence counts"
    );
    assert_eq!(b[2]["rejected"], 3);
    assert_eq!(b[3]["with"], json!(["M-a"]));
    assert_eq!(b[3]["device"], "0909090909090909");

    let csv = get(
        &app,
        &t.manager,
        "/api/v1/reports/orgs/branch/anomalies?format=csv",
    )
    .await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let rows: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows[0], "org,year,member,name,member_org,kind,evidence");
    assert_eq!(rows.len(), 1 + 6, "{text}");
    assert!(
        rows.iter()
            .any(|r| r.contains("M-b") && r.contains("missed-checks")),
        "{text}"
    );
}

#[tokio::test]
async fn anomalies_are_for_managers_of_the_subtree_and_say_why_otherwise() {
    let (app, t) = county().await;
    let path = "/api/v1/reports/orgs/branch/anomalies";
    assert_eq!(get(&app, &t.member, path).await.status(), 403);
    assert_eq!(get(&app, &t.station, path).await.status(), 403);
    assert_eq!(get(&app, &t.admin, path).await.status(), 200);
    let missing = get(&app, &t.admin, "/api/v1/reports/orgs/nowhere/anomalies").await;
    assert_eq!(missing.status(), 404);
    let bad = get(
        &app,
        &t.manager,
        "/api/v1/reports/orgs/branch/anomalies?year=x",
    )
    .await;
    assert_eq!(bad.status(), 400);
    // A quiet year lists nobody.
    let body: Value = get(&app, &t.manager, path).await.json().await.unwrap();
    assert_eq!(body["members"], json!([]), "{body}");
}
