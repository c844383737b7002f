//! What an attacker with a member's or a station's token cannot inflate at `POST /api/v1/watch`:
//! the body (a member's is refused past `ledger.max_member_body`, a station's batch may be
//! larger), the server's async workers (crediting runs on the blocking pool, so a report that
//! waits does not stop other requests) and a member's reports per day (past
//! `ledger.max_reports_per_member_day` they are rejected for `rate`; repeats do not count).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::TestApp;
use yuanjiao::clock::{Clock, FixedClock};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// Noon on 10 March 2026 in Asia/Shanghai.
const NOW: i64 = 1_773_115_200_000;
/// An Argon2id hash of "4821" (nothing here signs in).
use support::small_county::{report, set_up};

async fn fixed_app(adjust: impl FnOnce(&mut yuanjiao::config::Settings)) -> TestApp {
    let clock = Arc::new(FixedClock::new(
        UNIX_EPOCH + Duration::from_millis(NOW as u64),
    ));
    TestApp::spawn_with_clock(clock, adjust).await
}

async fn post(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/api/v1/watch"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// `(status, reason)` of each result.
fn outcomes(answer: &Value) -> Vec<(String, String)> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_members_watch_body_past_the_member_limit_is_413_while_a_stations_larger_batch_is_credited(
) {
    let app = fixed_app(|_| {}).await;
    let tokens = set_up(&app);
    // About 300 KiB: 1,600 one-second reports, each half a minute apart.
    let reports: Vec<Value> = (0..1600)
        .map(|n| {
            report(
                &format!("big-{n}"),
                "M-a",
                (n * 1000, n * 1000 + 1000),
                NOW - 20 * HOUR + n * MIN / 2,
            )
        })
        .collect();
    let body = json!({ "reports": reports }).to_string();
    assert!(
        body.len() > 256 << 10 && body.len() < 512 << 10,
        "{}",
        body.len()
    );

    let (status, answer) = post(&app, &tokens.member, body.clone()).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["code"], "too-large");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("ledger.max_member_body"), "{message}");

    // Without a declared length the body is cut off at the limit all the same.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .as_bytes()
        .chunks(16 << 10)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let (status, answer) = post(&app, &tokens.member, streamed).await;
    assert_eq!(status, 413, "{answer}");

    // Admins send member-sized bodies too: only a station's batch may be larger.
    let (status, _) = post(&app, &tokens.admin, body.clone()).await;
    assert_eq!(status, 413);

    let (status, answer) = post(&app, &tokens.station, body).await;
    assert_eq!(status, 200, "{}", answer["message"]);
    let credited = outcomes(&answer)
        .iter()
        .filter(|(s, _)| s == "credited")
        .count();
    assert_eq!(credited, 1600);

    // The same body shapes as ever are still 400 bad-json.
    let (status, answer) = post(&app, &tokens.member, "{\"reports\": [").await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("bad-json")));
}

#[tokio::test]
async fn a_station_batch_past_the_station_limit_is_413() {
    let app = fixed_app(|s| s.ledger.max_station_body = 64 << 10).await;
    let tokens = set_up(&app);
    let reports: Vec<Value> = (0..500)
        .map(|n| {
            report(
                &format!("st-{n}"),
                "M-a",
                (n * 1000, n * 1000 + 1000),
                NOW - 20 * HOUR + n * MIN,
            )
        })
        .collect();
    let body = json!({ "reports": reports }).to_string();
    assert!(body.len() > 64 << 10, "{}", body.len());
    let (status, answer) = post(&app, &tokens.station, body).await;
    assert_eq!(status, 413, "{}", answer["message"]);
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("ledger.max_station_body"));
}

/// The system clock, except that once armed, the next reading waits until it is let go: it
/// holds whatever thread asks for the time in the middle of crediting.
#[derive(Default)]
struct GateClock {
    armed: AtomicBool,
    waiting: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl GateClock {
    fn arm(&self) {
        *self.waiting.lock().unwrap() = (false, false);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Blocks until a reading is held at the gate.
    fn wait_for_reader(&self) {
        let state = self.waiting.lock().unwrap();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(60), |s| !s.0)
            .unwrap();
        assert!(state.0, "crediting never read the clock");
    }

    fn release(&self) {
        self.waiting.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

impl Clock for GateClock {
    fn now(&self) -> SystemTime {
        if self.armed.swap(false, Ordering::SeqCst) {
            let mut state = self.waiting.lock().unwrap();
            state.0 = true;
            self.changed.notify_all();
            while !state.1 {
                state = self.changed.wait(state).unwrap();
            }
        }
        SystemTime::now()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_report_is_credited_off_the_async_worker_so_others_are_served_meanwhile() {
    let clock = Arc::new(GateClock::default());
    // One worker: if crediting ran on it, nothing else could be served while it waits.
    let app = TestApp::spawn_with_clock(clock.clone(), |s| s.server.workers = 1).await;
    let tokens = set_up(&app);
    let now = jiff::Timestamp::now().as_millisecond();
    let one = report("held-1", "M-a", (0, MIN), now - 2 * HOUR).to_string();
    // The admin token has no expiry: the only reading of the clock is the one crediting makes.
    clock.arm();
    let app = Arc::new(app);
    let sending = {
        let (app, admin) = (app.clone(), tokens.admin.clone());
        tokio::spawn(async move { post(&app, &admin, one).await })
    };
    let gate = clock.clone();
    tokio::task::spawn_blocking(move || gate.wait_for_reader())
        .await
        .unwrap();
    let health = app
        .client
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    clock.release();
    let health = health.expect("/healthz answers while a report is being credited");
    assert_eq!(health.status(), 200);
    let (status, answer) = sending.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(outcomes(&answer), [("credited".to_string(), String::new())]);
}

#[tokio::test]
async fn past_the_daily_cap_a_members_reports_are_rejected_for_rate_and_repeats_do_not_count() {
    let app = fixed_app(|s| s.ledger.max_reports_per_member_day = 3).await;
    let tokens = set_up(&app);
    // Five reports played at 7 in the morning of 10 March in Shanghai (23:00 on 9 March in
    // UTC), one of them sent twice.
    let morning = NOW - 5 * HOUR;
    let day: Vec<Value> = (0..5)
        .map(|n| {
            let mut report = report(
                &format!("d-{n}"),
                "M-a",
                (n * MIN, (n + 1) * MIN),
                morning + n * 2 * MIN,
            );
            support::evidence::witness(&app.services, &mut report);
            report
        })
        .collect();
    let (status, answer) = post(
        &app,
        &tokens.member,
        json!({ "reports": [day[0], day[0], day[1]] }).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let got: Vec<String> = outcomes(&answer).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got, ["credited", "duplicate", "credited"]);
    // The station counts against the same member's day.
    let (_, answer) = post(
        &app,
        &tokens.station,
        json!({ "reports": [day[2], day[3]] }).to_string(),
    )
    .await;
    let got = outcomes(&answer);
    assert_eq!(got[0].0, "credited");
    assert_eq!(got[1].0, "rejected");
    assert!(got[1].1.starts_with("rate"), "{got:?}");
    // Past the cap a repeat is still a duplicate, and a new report is rejected.
    let (_, answer) = post(
        &app,
        &tokens.member,
        json!({ "reports": [day[1], day[4]] }).to_string(),
    )
    .await;
    let got = outcomes(&answer);
    assert_eq!(got[0], ("duplicate".to_string(), String::new()));
    assert_eq!(got[1].0, "rejected");
    assert!(got[1].1.starts_with("rate"), "{got:?}");
    // A rejection for rate keeps nothing: the id is free, and the evening before (21:00 on
    // 9 March in Shanghai: the same UTC day as the morning's reports, not the same local day)
    // still has room.
    let evening = NOW - 15 * HOUR;
    let mut moved = report("d-4", "M-a", (4 * MIN, 5 * MIN), evening);
    support::evidence::witness(&app.services, &mut moved);
    let (_, answer) = post(&app, &tokens.member, moved.to_string()).await;
    assert_eq!(outcomes(&answer)[0].0, "credited", "{answer}");
    // Another member's day is their own.
    let other = report("o-1", "M-b", (0, MIN), morning);
    let (_, answer) = post(&app, &tokens.station, other.to_string()).await;
    assert_eq!(outcomes(&answer)[0].0, "credited", "{answer}");
    let hours = app
        .client
        .get(app.url("/api/v1/members/M-a/hours?year=2026"))
        .bearer_auth(&tokens.admin)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(hours["credited_ms"], 4 * MIN, "{hours}");
}

/// The most memory this process has held so far (its resident high-water mark), in bytes.
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test]
async fn a_station_body_of_millions_of_intervals_costs_its_typed_size_not_a_tree_of_json_values() {
    let app = fixed_app(|_| {}).await;
    let tokens = set_up(&app);
    // One report whose 15 MiB are 2.6 million intervals [0,1]: as serde_json::Values they
    // would take about 300 MiB; kept typed (and only the first 10,001) they take 160 KiB.
    let mut body = report("many", "M-a", (0, 1), NOW - HOUR).to_string();
    let intervals = "[0,1],".repeat((15 << 20) / 6);
    body = body.replace("[[0,1]]", &format!("[{intervals}[0,1]]"));
    drop(intervals);
    let before = peak_resident_bytes();
    let (status, answer) = post(&app, &tokens.station, body).await;
    let grown = peak_resident_bytes().saturating_sub(before);
    assert_eq!(status, 200, "{}", answer["message"]);
    assert_eq!(
        outcomes(&answer),
        [(
            "rejected".to_string(),
            "a report may hold at most 10000 played intervals".to_string()
        )]
    );
    assert!(
        grown < 96 << 20,
        "reading a 15 MiB body raised the peak by {} MiB",
        grown >> 20
    );
}
