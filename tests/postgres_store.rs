//! The server on PostgreSQL (`storage.backend = "postgres"`): a county's station batch is
//! credited and still there for a server started again on the same database, the ledger's
//! totals equal its entries, and the schema migrates once and refuses a newer database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use support::small_county::{report, set_up};
use support::TestApp;
use yuanjiao::clock::FixedClock;
use yuanjiao::config::StorageBackend;
use yuanjiao::disk::FreeSpaceFloor;
use yuanjiao::repo::SecretRepo;
use yuanjiao::store::pg::{PgConfig, PgStore};

const MIN: i64 = 60_000;
/// Noon on 10 March 2026 in Asia/Shanghai.
const NOW: i64 = 1_773_115_200_000;

async fn on_postgres(url: &str) -> TestApp {
    let clock = Arc::new(FixedClock::new(
        UNIX_EPOCH + Duration::from_millis(NOW as u64),
    ));
    let url = url.to_string();
    TestApp::spawn_with_clock(clock, move |s| {
        s.storage.backend = StorageBackend::Postgres;
        s.storage.database_url = url;
    })
    .await
}

#[tokio::test]
async fn a_county_on_postgresql_credits_a_station_batch_that_a_restarted_server_still_holds() {
    let url = support::postgres::database();
    let app = on_postgres(&url).await;
    let tokens = set_up(&app);
    let reports: Vec<Value> = (0..40)
        .map(|n| {
            report(
                &format!("pg-{n}"),
                "M-a",
                (n * 60_000, n * 60_000 + 60_000),
                NOW - 5 * 60 * MIN + n * 2 * MIN,
            )
        })
        .collect();
    let resp = app
        .client
        .post(app.url("/api/v1/watch"))
        .bearer_auth(&tokens.station)
        .json(&serde_json::json!({ "reports": reports }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let credited = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "credited")
        .count();
    assert_eq!(credited, 40, "{answer}");
    let year = app
        .services
        .store
        .member_year("M-a", 2026)
        .unwrap()
        .unwrap();
    assert_eq!(year.watched_ms, 40 * 60_000);
    assert!(yuanjiao::ledger::report::verify(&app.services)
        .unwrap()
        .is_empty());
    app.stop().await;

    let again = on_postgres(&url).await;
    let entries = again.services.store.member_entries("M-a").unwrap();
    assert_eq!(
        entries.len(),
        40,
        "kept by the database, not the data folder"
    );
    let resp = again
        .client
        .post(again.url("/api/v1/watch"))
        .bearer_auth(&tokens.station)
        .json(&serde_json::json!({ "reports": [report("pg-0", "M-a", (0, 60_000), NOW - 5 * 60 * MIN)] }))
        .send()
        .await
        .unwrap();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["results"][0]["status"], "duplicate", "{answer}");
    assert!(yuanjiao::ledger::report::verify(&again.services)
        .unwrap()
        .is_empty());
}

async fn send(app: &TestApp, token: &str, reports: Vec<Value>) -> Value {
    let resp = app
        .client
        .post(app.url("/api/v1/watch"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "reports": reports }))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// The n-th minute of lesson lim-1 (sender "a") or lim-2 (sender "b"), in the n-th
/// two-minute slot before noon, b's a minute after a's: every report adds a minute.
fn minute(tag: &str, n: i64) -> Value {
    let later = if tag == "a" { 0 } else { MIN };
    let mut r = report(
        &format!("{tag}-{n}"),
        "M-a",
        (n * MIN, n * MIN + MIN),
        NOW - 5 * 60 * MIN + n * 2 * MIN + later,
    );
    r["lesson"] = if tag == "a" { "lim-1" } else { "lim-2" }.into();
    r
}

#[tokio::test]
async fn two_processes_crediting_one_member_at_once_give_what_one_process_gives() {
    // Two servers on one database, each sent one lesson's minutes, at once: each must credit
    // from the other's writes too, or the totals it writes would leave the other's out.
    let shared = support::postgres::database();
    let a = on_postgres(&shared).await;
    let tokens = set_up(&a);
    let b = on_postgres(&shared).await;
    let sends = (0..20).map(|n| {
        let (a, b, token) = (&a, &b, &tokens.station);
        async move {
            let (x, y) = tokio::join!(
                send(a, token, vec![minute("a", n)]),
                send(b, token, vec![minute("b", n)])
            );
            [x, y]
        }
    });
    for answer in futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
    {
        assert_eq!(answer["results"][0]["status"], "credited", "{answer}");
    }
    let two = a.services.store.member_year("M-a", 2026).unwrap().unwrap();
    assert!(yuanjiao::ledger::report::verify(&a.services)
        .unwrap()
        .is_empty());
    assert_eq!(b.services.store.member_entries("M-a").unwrap().len(), 40);

    // One server, sent the same plays one after the other.
    let alone = on_postgres(&support::postgres::database()).await;
    let tokens = set_up(&alone);
    for n in 0..20 {
        send(
            &alone,
            &tokens.station,
            vec![minute("a", n), minute("b", n)],
        )
        .await;
    }
    let one = alone
        .services
        .store
        .member_year("M-a", 2026)
        .unwrap()
        .unwrap();
    assert_eq!(two, one, "the same totals, to the millisecond and lesson");
    assert_eq!(one.watched_ms, 40 * MIN, "every minute");
}

fn open(url: &str) -> Result<PgStore, yuanjiao::repo::StoreError> {
    let dir = tempfile::tempdir().unwrap();
    let config = PgConfig {
        url: url.to_string(),
        pool_size: 2,
        statement_timeout: Duration::from_secs(30),
    };
    PgStore::open(&config, FreeSpaceFloor::new(dir.path(), 0))
}

fn psql(url: &str, sql: &str) {
    let done = std::process::Command::new("psql")
        .args([url, "-q", "-c", sql])
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

#[test]
fn a_migrated_database_opened_again_keeps_its_data_and_a_newer_one_is_refused() {
    let url = support::postgres::database();
    let first = open(&url).unwrap();
    let secret = first.secret("sessions").unwrap();
    drop(first);
    let again = open(&url).unwrap();
    assert_eq!(
        again.secret("sessions").unwrap(),
        secret,
        "nothing migrated twice"
    );
    drop(again);

    psql(&url, "INSERT INTO schema_migrations (version) VALUES (99)");
    let refused = open(&url)
        .err()
        .expect("a database from a newer server is refused");
    let message = refused.to_string();
    assert!(
        message.contains("99") && message.contains("newer"),
        "{message}"
    );
}

#[test]
fn a_database_at_the_first_schema_holding_a_ledger_migrates_with_its_data() {
    use yuanjiao::domain::watch::Registration;
    use yuanjiao::repo::{EntryKind, LedgerEntry, LedgerRepo, LedgerWrite};
    let url = support::postgres::database();
    let store = open(&url).unwrap();
    let entry = |id: &str| LedgerEntry {
        at_ms: NOW,
        actor: "admin".into(),
        member: "M1".into(),
        kind: EntryKind::Registration(Registration {
            id: id.into(),
            date: "2026-03-02".into(),
            duration_ms: 60_000,
            reason: "集中学习".into(),
            centralised: false,
            corrects: None,
        }),
    };
    let write = LedgerWrite {
        entries: vec![entry("g1"), entry("g2"), entry("g3")],
        ..LedgerWrite::default()
    };
    store.apply_ledger_writes(&[&write]).unwrap();
    drop(store);
    // As a server of schema 1 left it: no heads yet.
    psql(
        &url,
        "DROP TABLE ledger_heads; DELETE FROM schema_migrations WHERE version = 2",
    );

    let store = open(&url).unwrap();
    assert_eq!(
        store.member_entries("M1").unwrap().len(),
        3,
        "the ledger is kept"
    );
    assert_eq!(
        store.member_head("M1").unwrap(),
        3,
        "a head for each member, its writes counted"
    );
    let next = LedgerWrite {
        entries: vec![entry("g4")],
        heads: vec![("M1".into(), 3, 99)],
        ..LedgerWrite::default()
    };
    store.apply_ledger_writes(&[&next]).unwrap();
    assert_eq!(store.member_head("M1").unwrap(), 99);
}
