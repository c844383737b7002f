//! A whole file sent to a server by tus in one PATCH, as an editor, and its fate awaited.

use base64::Engine as _;
use std::time::{Duration, Instant};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Creates an upload of `bytes` named `filename` with type `filetype` at `base`
/// (`http://host:port`) and sends it; returns its id.
pub async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    filename: &str,
    filetype: &str,
    bytes: &[u8],
) -> String {
    let metadata = format!(
        "filename {},filetype {}",
        B64.encode(filename),
        B64.encode(filetype)
    );
    let created = client
        .post(format!("{base}/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let patched = client
        .patch(format!("{base}{location}"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", 0)
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 204, "{:?}", patched.text().await);
    location.rsplit('/').next().unwrap().to_string()
}

/// `GET /api/v1/uploads/{id}`, polled until the upload is stored or rejected (at most `within`).
pub async fn settled(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    within: Duration,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let body: serde_json::Value = client
            .get(format!("{base}/api/v1/uploads/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if matches!(
            body["upload"]["state"]["state"].as_str(),
            Some("stored" | "rejected")
        ) {
            return body;
        }
        assert!(Instant::now() < deadline, "never settled: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
