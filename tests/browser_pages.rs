//! Every page in a real browser: it loads cold under the 300 KB budget (before media), asks no
//! host but the server, and lays out in Chinese, Uyghur (right to left) and Tibetan; a screenshot
//! of each is kept in target/browser-artifacts, with the weights in page-weights.json.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{browser, TestApp};

/// Bytes a cold load of one page may cost before any media (the budget).
const PAGE_BUDGET: u64 = 300 * 1024;

/// The landing page and every folder of web/ that holds an index.html.
fn pages() -> Vec<String> {
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut pages = vec!["/".to_string()];
    let mut found: Vec<String> = std::fs::read_dir(&web)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("index.html").is_file())
        .map(|e| format!("/ui/{}/", e.file_name().to_string_lossy()))
        .collect();
    found.sort();
    pages.extend(found);
    pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_light_same_origin_and_laid_out_in_each_language() {
    let app = TestApp::spawn().await;
    let result = browser::run("pages", &app.url(""), &json!({ "pages": pages() })).await;
    let weights = result["weights"].as_array().unwrap();
    assert_eq!(weights.len(), pages().len());
    for w in weights {
        let bytes = w["bytes"].as_u64().unwrap();
        assert!(bytes > 0, "{} loaded nothing: {w}", w["path"]);
        assert!(
            bytes < PAGE_BUDGET,
            "{} weighs {bytes} bytes cold: {w}",
            w["path"]
        );
    }
    let out = browser::artifacts().join("page-weights.json");
    std::fs::write(
        &out,
        serde_json::to_vec_pretty(&Value::Array(weights.clone())).unwrap(),
    )
    .unwrap();
}

#[tokio::test]
async fn pages_are_served_with_a_policy_that_forbids_other_hosts() {
    let app = TestApp::spawn().await;
    let home = app.get("/", &[]).await;
    assert_eq!(home.status(), 200);
    let csp = support::header(&home, "content-security-policy").to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(support::header(&home, "content-type").starts_with("text/html"));
    let etag = support::header(&home, "etag").to_string();
    let again = app.get("/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    let js = app.get("/ui/shared/i18n.js", &[]).await;
    assert_eq!(js.status(), 200);
    assert!(support::header(&js, "content-type").starts_with("text/javascript"));
    let missing = app.get("/ui/nope.js", &[]).await;
    assert_eq!(missing.status(), 404);
    let escape = app.get("/ui/../Cargo.toml", &[]).await;
    assert_eq!(escape.status(), 404);
}
