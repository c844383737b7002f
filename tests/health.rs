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

/// The series of one metric in a `/metrics` text.
fn series<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .collect()
}

#[tokio::test]
async fn requests_with_random_methods_and_paths_add_a_bounded_number_of_series() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(1000, 2), "a.mp4");
    app.get(&format!("/media/{sha}"), &[]).await;
    let before = series(
        &app.get("/metrics", &[]).await.text().await.unwrap(),
        "yj_http_requests_total",
    )
    .len();
    let noise = bytes(50 * 24, 7);
    let known = ["/api/v1/orgs", "/healthz", &format!("/media/{sha}")];
    let mut tried = Vec::new();
    for (n, chunk) in noise.chunks(24).enumerate() {
        // A method of 8 random capitals, and a random path or a real route.
        let method: String = chunk[..8]
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let path = match n % 3 {
            0 => known[(n / 3) % known.len()].to_string(),
            _ => format!("/{}", hex::encode(&chunk[8..])),
        };
        tried.push(method.clone());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_client_error(),
            "{method} {path}: {}",
            resp.status()
        );
        // Random paths under known methods, too.
        app.get(&format!("/{}/{n}", hex::encode(&chunk[..8])), &[])
            .await;
    }
    let text = app.get("/metrics", &[]).await.text().await.unwrap();
    let after = series(&text, "yj_http_requests_total");
    // Unknown methods are `other`, unmatched paths `unmatched`, real routes their pattern:
    // a handful of new series (route × status), however many methods and paths were tried.
    assert!(
        after.len() - before <= 8,
        "{} new series:\n{}",
        after.len() - before,
        after.join("\n")
    );
    for line in &after {
        assert!(
            !line.contains(&sha),
            "a path, not its route's pattern: {line}"
        );
        for method in &tried {
            assert!(!line.contains(method.as_str()), "an unknown method: {line}");
        }
    }
    assert!(
        after
            .iter()
            .any(|l| l.contains(r#"method="other",route="unmatched",status="404""#)),
        "{}",
        after.join("\n")
    );
    assert!(
        after
            .iter()
            .any(|l| l.contains(r#"method="other",route="/api/v1/orgs",status="405""#)),
        "{}",
        after.join("\n")
    );
    assert!(
        after
            .iter()
            .any(|l| l.contains(r#"method="other",route="/media/{sha256}",status="405""#)),
        "{}",
        after.join("\n")
    );
}
