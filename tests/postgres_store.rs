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
