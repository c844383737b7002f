//! The hours dashboard in headless Chromium against the real server on loopback: a county
//! (county → two branches, a secretary owing 56 h) credited through the API over 2026 with
//! watch reports, group study and registrations (tests/dashboard/world.rs). The page must show
//! the completion rate of each organisation, the members behind first with their exact
//! credited time, the month-by-month chart with the exact values (January at the right in
//! Uyghur), and download CSVs identical to the server's; screenshots in each language and on
//! a 360-px phone go to target/browser-artifacts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
#[path = "dashboard/world.rs"]
mod world;

use base64::Engine as _;
use serde_json::{json, Value};
use support::browser;
use world::{World, B1_MONTHS, COUNTY_MONTHS, CREDITED};

fn bars(shown: &Value) -> Vec<(u64, i64)> {
    shown
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["month"].as_u64().unwrap(), b["ms"].as_i64().unwrap()))
        .collect()
}

fn months(values: [i64; 12]) -> Vec<(u64, i64)> {
    (1..=12).zip(values).collect()
}

fn credited(id: &str) -> (String, i64) {
    let (_, ms) = CREDITED.iter().find(|(m, _)| *m == id).unwrap();
    (id.to_string(), *ms)
}

fn file(download: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(download["base64"].as_str().unwrap())
        .unwrap()
}

/// The CSV the server answers to `path` with `Accept: text/csv`.
async fn server_csv(w: &World, path: &str) -> Vec<u8> {
    let resp = w
        .app
        .client
        .get(w.app.url(path))
        .bearer_auth(&w.county)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_manager_sees_rates_members_behind_months_and_downloads_the_report() {
    let w = World::build().await;
    // Three of M1's reports with no evidence behind them: rejected, and counted as an anomaly.
    let now = world::at("2026-12-20T04:00:00Z");
    w.clock
        .set(std::time::UNIX_EPOCH + std::time::Duration::from_millis(now as u64));
    let m1 = yuanjiao::people::issue_token(
        &w.app.services,
        yuanjiao::domain::org::Principal::Member {
            member: "M1".into(),
        },
        None,
        "test",
    )
    .unwrap();
    let bare: Vec<Value> = (0..3)
        .map(|n| {
            let ts = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
            let from = now - 86_400_000 + n * 60_000;
            json!({"id": format!("bare-{n}"), "member": "M1", "lesson": "l1", "lang": "zh-Hans",
                "played": [[0, 60_000]], "wall": [ts(from), ts(from + 60_000)], "position_ms": 60_000})
        })
        .collect();
    let (status, _) = w
        .call(
            &m1,
            reqwest::Method::POST,
            "/api/v1/watch",
            json!({ "reports": bare }),
        )
        .await;
    assert_eq!(status, 200);
    let fixture = json!({ "county": w.county, "admin": w.admin });
    let r = browser::run("dashboard", &w.app.url(""), &fixture).await;

    // The anomalies: M1, for the reports rejected, in words, and the same in the CSV.
    let flagged = r["anomalies"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "{r}");
    assert_eq!(flagged[0]["member"], "M1");
    assert_eq!(flagged[0]["kinds"], "no-evidence");
    assert!(
        flagged[0]["text"]
            .as_str()
            .unwrap()
            .contains("3 条学习记录"),
        "{r}"
    );
    let anomalies = String::from_utf8(file(&r["anomalies_csv"])).unwrap();
    assert!(
        anomalies.contains("M1") && anomalies.contains("no-evidence"),
        "{anomalies}"
    );

    // A token the server does not know: its reason, shown.
    let bad = r["bad_token"].as_str().unwrap();
    assert!(bad.contains("unknown, revoked or expired"), "{bad}");
    assert_eq!(r["stored_token"], w.county.as_str());

    // The tree: S1 and M1 in b1 are behind (0 %), M2 in b2 met 32 h (50 %), one of four in
    // the county (25 %); hours as the report rounds them.
    let tree: Vec<(String, u64, u64, String, String)> = r["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["org"].as_str().unwrap().to_string(),
                row["members"].as_u64().unwrap(),
                row["met"].as_u64().unwrap(),
                row["rate"].as_str().unwrap().to_string(),
                row["hours"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |org: &str, members, met, rate: &str, hours: &str| {
        (
            org.to_string(),
            members,
            met,
            rate.to_string(),
            hours.to_string(),
        )
    };
    assert_eq!(
        tree,
        [
            row("county", 4, 1, "25%", "35"),
            row("b1", 2, 0, "0%", "2.56"),
            row("b2", 2, 1, "50%", "32.44"),
        ]
    );
    assert!(r["focus"].as_str().unwrap().contains("红原县委"), "{r}");

    // Members behind first, the furthest behind at the top: M3 (nothing of 32 h), the
    // secretary S1 (1.44 of 56 h), M1 (1.11 of 32 h); then M2, who met it.
    assert_eq!(
        world::credited_members(&r["members"]),
        [
            credited("M3"),
            credited("S1"),
            credited("M1"),
            credited("M2")
        ]
    );
    let secretary = r["members"][1]["text"].as_str().unwrap();
    for part in ["卓玛", "1.44 / 56", "差 54.56 学时"] {
        assert!(secretary.contains(part), "{part:?} in {secretary:?}");
    }
    assert!(r["members"][3]["text"].as_str().unwrap().contains("已达标"));
    assert_eq!(r["only_behind"], json!(["M3", "S1", "M1"]));

    // The chart: the exact ms of every month.
    assert_eq!(bars(&r["bars"]), months(COUNTY_MONTHS));

    // Both downloads are the server's CSV byte for byte, with the BOM.
    let orgs = file(&r["orgs_csv"]);
    assert_eq!(r["orgs_csv"]["name"], "report-county-2026.csv");
    assert_eq!(&orgs[..3], b"\xEF\xBB\xBF");
    assert_eq!(
        orgs,
        server_csv(&w, "/api/v1/reports/orgs/county?year=2026").await
    );
    let text = String::from_utf8(orgs[3..].to_vec()).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "year,org,name,kind,parent,depth,members,met,completion_rate,total_hours",
            "2026,county,红原县委,committee,,0,4,1,0.2500,35.00",
            "2026,b1,阿木柯村党支部,branch,county,1,2,0,0.0000,2.56",
            "2026,b2,查尔玛村党支部,branch,county,1,2,1,0.5000,32.44",
        ]
    );
    let people = file(&r["members_csv"]);
    assert_eq!(r["members_csv"]["name"], "members-county-2026.csv");
    assert_eq!(
        people,
        server_csv(&w, "/api/v1/reports/orgs/county/members?year=2026").await
    );
    let rows = world::credited_rows(&people);
    // As the list shows them: furthest behind first.
    assert_eq!(
        rows,
        [
            credited("M3"),
            credited("S1"),
            credited("M1"),
            credited("M2")
        ]
    );

    // By keyboard: the county's branches close (aria-expanded false, rows hidden) and reopen,
    // two Tabs reach branch b1's name, and Enter puts b1 in view.
    assert_eq!(r["closed"]["expanded"], "false");
    assert_eq!(r["closed"]["hidden"], json!(["b1", "b2"]));
    assert_eq!(r["reopened"], "true");
    assert_eq!(r["tabbed_to"], "b1");
    assert!(r["b1"]["focus"]
        .as_str()
        .unwrap()
        .contains("阿木柯村党支部"));
    assert_eq!(
        world::credited_members(&r["b1"]["members"]),
        [credited("S1"), credited("M1")]
    );
    assert_eq!(bars(&r["b1"]["bars"]), months(B1_MONTHS));

    // b1 in 2025: five minutes in December.
    let mut december = [0; 12];
    december[11] = 5 * world::MIN;
    assert_eq!(bars(&r["last_year"]["bars"]), months(december));

    // Every language draws the same figures; time runs right to left in Uyghur only.
    for (lang, dir) in [("zh-Hans", "ltr"), ("ug-Arab", "rtl"), ("bo-Tibt", "ltr")] {
        let shown = &r["languages"][lang];
        assert_eq!(shown["lang"], lang);
        assert_eq!(shown["dir"], dir, "{lang}");
        assert_eq!(bars(&shown["bars"]), months(COUNTY_MONTHS), "{lang}");
        assert_eq!(shown["members"], json!(["M3", "S1", "M1", "M2"]), "{lang}");
        let x = |month: usize| shown["bars"][month - 1]["x"].as_f64().unwrap();
        assert_eq!(
            x(1) > x(12),
            dir == "rtl",
            "{lang}: January at {}, December at {}",
            x(1),
            x(12)
        );
    }

    // A phone: nothing wider than its 360 px.
    assert!(
        r["phone"]["scroll"].as_u64().unwrap() <= r["phone"]["client"].as_u64().unwrap(),
        "{}",
        r["phone"]
    );

    // Signing out forgets the token; an admin sees the county, the top of the tree.
    assert_eq!(
        r["after_sign_out"],
        json!({ "token": null, "form": true, "rows_left": 0 })
    );
    assert!(
        r["admin"].as_str().unwrap().contains("红原县委"),
        "{}",
        r["admin"]
    );

    // Lean: the cold load, signed in or not, well under the 300 KB budget.
    for cold in ["cold", "cold_signed_in"] {
        let bytes = r[cold]["bytes"].as_u64().unwrap();
        assert!(bytes > 0 && bytes < 300 * 1024, "{cold}: {}", r[cold]);
    }
    std::fs::write(
        browser::artifacts().join("dashboard-weight.json"),
        serde_json::to_vec_pretty(&json!({
            "cold": r["cold"], "cold_signed_in": r["cold_signed_in"], "elapsed_ms": r["elapsed_ms"],
        }))
        .unwrap(),
    )
    .unwrap();
}
