//! What the hours dashboard reads beyond the organisation report, against a county credited
//! through the API over 2026 (tests/dashboard/world.rs): plays across the midnights of New Year
//! and of 30 September, a rewatch, group study, registrations and a correction entered months
//! after what it corrects.
//! - `GET /api/v1/reports/orgs/{id}/months`: exact months that add up to the year the
//!   organisation report shows; refused outside the caller's subtree; CSV with a BOM.
//! - `GET /api/v1/reports/orgs/{id}/members`: members behind first, a page at a time, the
//!   same rows as JSON and CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
#[path = "dashboard/world.rs"]
mod world;

use reqwest::Method;
use serde_json::Value;
use world::{World, B1_MONTHS, COUNTY_MONTHS, CREDITED, MIN, STUDY_HOUR};

fn months_of(body: &Value) -> Vec<i64> {
    body["months_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_months_of_a_subtree_are_exact_and_add_up_to_the_year_the_report_shows() {
    let w = World::build().await;

    let (status, months) = w
        .get(&w.county, "/api/v1/reports/orgs/county/months?year=2026")
        .await;
    assert_eq!(status, 200, "{months}");
    assert_eq!(months["org"], "county");
    assert_eq!(months["year"], 2026);
    assert_eq!(months_of(&months), COUNTY_MONTHS);
    let total: i64 = COUNTY_MONTHS.iter().sum();
    assert_eq!(total, 35 * STUDY_HOUR);
    assert_eq!(months["credited_ms"], total);
    assert_eq!(months["total_hours"], 35.0);
    let hours: Vec<f64> = months["months_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert_eq!(
        hours,
        [0.11, 1.0, 0.33, 16.0, 0.0, 16.0, 0.0, 0.0, 0.22, 0.22, 0.0, 1.11]
    );

    // The same total the organisation report and the member rows show.
    let (_, report) = w
        .get(&w.county, "/api/v1/reports/orgs/county?year=2026")
        .await;
    assert_eq!(report["credited_ms"], total, "{report}");
    let (_, rows) = w
        .get(&w.county, "/api/v1/reports/orgs/county?year=2026&by=member")
        .await;
    let mut credited = world::credited_members(&rows["members"]);
    credited.sort();
    let mut want: Vec<(String, i64)> = CREDITED
        .iter()
        .map(|(m, ms)| (m.to_string(), *ms))
        .collect();
    want.sort();
    assert_eq!(credited, want);

    // A branch's months are its members' only; the two branches make the county.
    let (status, b1) = w
        .get(&w.b1, "/api/v1/reports/orgs/b1/months?year=2026")
        .await;
    assert_eq!(status, 200, "{b1}");
    assert_eq!(months_of(&b1), B1_MONTHS);
    let (_, b2) = w
        .get(&w.county, "/api/v1/reports/orgs/b2/months?year=2026")
        .await;
    let both: Vec<i64> = months_of(&b1)
        .iter()
        .zip(months_of(&b2))
        .map(|(a, b)| a + b)
        .collect();
    assert_eq!(both, COUNTY_MONTHS);

    // 2025 holds only the five minutes before midnight on New Year's Eve, in December.
    let (_, last_year) = w
        .get(&w.county, "/api/v1/reports/orgs/county/months?year=2025")
        .await;
    let mut december = [0; 12];
    december[11] = 5 * MIN;
    assert_eq!(months_of(&last_year), december);
    assert_eq!(last_year["credited_ms"], 5 * MIN);

    // Without a year: this year on the server's clock, in the ledger's time zone.
    let (_, default) = w.get(&w.county, "/api/v1/reports/orgs/county/months").await;
    assert_eq!(default["year"], 2026);
    assert_eq!(months_of(&default), COUNTY_MONTHS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn months_are_refused_outside_the_managers_subtree_and_say_why() {
    let w = World::build().await;
    for (token, path, want) in [
        (&w.b2, "/api/v1/reports/orgs/b1/months?year=2026", 403),
        (&w.b1, "/api/v1/reports/orgs/county/months?year=2026", 403),
        (&w.b1, "/api/v1/reports/orgs/nowhere/months?year=2026", 403),
        (
            &w.admin,
            "/api/v1/reports/orgs/nowhere/months?year=2026",
            404,
        ),
        (&w.b1, "/api/v1/reports/orgs/b1/months?year=1999", 400),
        (
            &w.b1,
            "/api/v1/reports/orgs/b1/months?year=2026&format=xml",
            400,
        ),
        (&w.b1, "/api/v1/reports/orgs/b1/months?month=3", 400),
        (
            &"not-a-token".to_string(),
            "/api/v1/reports/orgs/b1/months",
            401,
        ),
        (&w.admin, "/api/v1/reports/orgs/b2/months?year=2026", 200),
    ] {
        let (status, body) = w.call(token, Method::GET, path, Value::Null).await;
        assert_eq!(status, want, "{path}: {body}");
        if want != 200 {
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                !message.trim().is_empty(),
                "{path}: an error says why: {body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_months_as_csv_are_utf8_with_a_bom_one_row_a_month() {
    let w = World::build().await;
    let resp = w
        .app
        .client
        .get(w.app.url("/api/v1/reports/orgs/county/months?year=2026"))
        .bearer_auth(&w.county)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = support::header(&resp, "content-type").to_string();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let disposition = support::header(&resp, "content-disposition").to_string();
    assert!(
        disposition.contains("months-county-2026.csv"),
        "{disposition}"
    );
    let body = resp.bytes().await.unwrap();
    assert_eq!(&body[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&body[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13, "{text}");
    assert_eq!(lines[0], "org,year,month,credited_ms,hours");
    for (n, line) in lines[1..].iter().enumerate() {
        let ms = COUNTY_MONTHS[n];
        let hours = ms as f64 / STUDY_HOUR as f64;
        assert_eq!(*line, format!("county,2026,{},{ms},{hours:.2}", n + 1));
    }
    // ?format=csv says the same without the header.
    let (status, _) = w
        .call(
            &w.county,
            Method::GET,
            "/api/v1/reports/orgs/county/months?year=2026&format=csv",
            Value::Null,
        )
        .await;
    assert_eq!(status, 200);
}

fn member_ids(body: &Value) -> Vec<String> {
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_come_furthest_behind_first_a_page_at_a_time_as_json_and_csv() {
    let w = World::build().await;
    let all = "/api/v1/reports/orgs/county/members?year=2026";
    let (status, body) = w.get(&w.county, all).await;
    assert_eq!(status, 200, "{body}");
    // M3 has nothing of 32 h; the secretary S1 1.44 of 56 h; M1 1.11 of 32 h; M2 met 32 h.
    assert_eq!(member_ids(&body), ["M3", "S1", "M1", "M2"]);
    assert_eq!(
        (
            &body["total"],
            &body["behind"],
            &body["matching"],
            &body["offset"]
        ),
        (
            &Value::from(4),
            &Value::from(3),
            &Value::from(4),
            &Value::from(0)
        )
    );
    let secretary = &body["members"][1];
    assert_eq!(secretary["credited_ms"], 65 * MIN);
    assert_eq!(secretary["hours"], 1.44);
    assert_eq!(secretary["required_hours"], 56);
    assert_eq!(secretary["met"], false);
    assert_eq!(secretary["centralised_trainings"], 1);

    // A page: the second and third.
    let (_, page) = w.get(&w.county, &format!("{all}&offset=1&limit=2")).await;
    assert_eq!(member_ids(&page), ["S1", "M1"]);
    assert_eq!(
        (&page["matching"], &page["offset"]),
        (&Value::from(4), &Value::from(1))
    );
    // Only those behind; past the end, nothing.
    let (_, behind) = w.get(&w.county, &format!("{all}&behind=true")).await;
    assert_eq!(member_ids(&behind), ["M3", "S1", "M1"]);
    assert_eq!(behind["matching"], 3);
    let (_, past) = w.get(&w.county, &format!("{all}&offset=9&limit=5")).await;
    assert_eq!(member_ids(&past), Vec::<String>::new());
    // A branch: its own members only.
    let (_, b2) = w
        .get(&w.b2, "/api/v1/reports/orgs/b2/members?year=2026")
        .await;
    assert_eq!(member_ids(&b2), ["M3", "M2"]);

    // The same rows as CSV, with the BOM.
    let resp = w
        .app
        .client
        .get(w.app.url(&format!("{all}&limit=3")))
        .bearer_auth(&w.county)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(support::header(&resp, "content-disposition").contains("members-county-2026.csv"));
    let bytes = resp.bytes().await.unwrap();
    let rows = world::credited_rows(&bytes);
    assert_eq!(
        rows,
        [
            ("M3".into(), 0),
            ("S1".into(), 65 * MIN),
            ("M1".into(), 50 * MIN)
        ]
    );

    for (token, path, want) in [
        (&w.b2, "/api/v1/reports/orgs/b1/members?year=2026", 403),
        (&w.b1, "/api/v1/reports/orgs/county/members", 403),
        (&w.admin, "/api/v1/reports/orgs/nowhere/members", 404),
        (&w.b1, "/api/v1/reports/orgs/b1/members?behind=maybe", 400),
        (&w.b1, "/api/v1/reports/orgs/b1/members?limit=-1", 400),
    ] {
        let (status, body) = w.get(token, path).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(
            !body["message"].as_str().unwrap_or_default().is_empty(),
            "{path}: {body}"
        );
    }
}
