//! `/healthz` readiness and `/metrics` counters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{bytes, TestApp};

#[tokio::test]
async fn healthz_is_ready_with_an_open_store_and_a_writable_blob_dir() {
    let app = TestApp::spawn().await;
    let resp = app.get("/healthz", &[]).await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store_open"], true);
    assert_eq!(body["blobs_writable"], true);
    assert_eq!(body["accepting_writes"], true);
}

#[tokio::test]
async fn healthz_is_503_when_blobs_cannot_be_written() {
    let app = TestApp::spawn().await;
    std::fs::remove_dir_all(app.dir.path().join("data/tmp")).unwrap();
    let resp = app.get("/healthz", &[]).await;
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["blobs_writable"], false);
}

fn metric(text: &str, line_start: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_bytes_served() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(300_000, 1), "a.mp4");
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/media/{sha}"), &[])
                .await
                .bytes()
                .await
                .unwrap()
                .len(),
            300_000
        );
    }
    app.get(&format!("/media/{sha}"), &[("range", "bytes=0-99")])
        .await
        .bytes()
        .await
        .unwrap();
    app.get("/media/nothex", &[]).await;
    app.get("/no/such/route", &[]).await;
    let text = app.get("/metrics", &[]).await.text().await.unwrap();
    let route = r#"yj_http_requests_total{method="GET",route="/media/{sha256}",status="#;
    assert_eq!(metric(&text, &format!("{route}\"200\"}}")), 3);
    assert_eq!(metric(&text, &format!("{route}\"206\"}}")), 1);
    assert_eq!(metric(&text, &format!("{route}\"400\"}}")), 1);
    assert_eq!(
        metric(
            &text,
            r#"yj_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        1
    );
    assert_eq!(
        metric(&text, "yj_media_bytes_served_total"),
        3 * 300_000 + 100
    );
    assert!(metric(&text, "yj_http_open_connections") >= 1);
}
