//! A full disk is not a disaster: below `storage.min_free_bytes` writes are refused with 507
//! while reads go on, and the store survives to be opened again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::Arc;
use support::{bytes, header, sha256_hex, TestApp, Tmpfs};
use yuanjiao::clock::SystemClock;
use yuanjiao::config::Settings;
use yuanjiao::services::{AddBlobError, Services};

fn settings(data_dir: &Path, min_free: u64) -> Settings {
    let mut s = Settings::default();
    s.storage.data_dir = data_dir.to_path_buf();
    s.storage.min_free_bytes = min_free;
    s
}

async fn writes_are_refused_and_reads_go_on(app: &TestApp, stored: &[(String, Vec<u8>)]) {
    let resp = app
        .client
        .post(app.url("/api/v1/anything"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 507);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "insufficient-storage");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("storage.min_free_bytes"));
    for (sha, data) in stored {
        let resp = app
            .get(&format!("/media/{sha}"), &[("range", "bytes=0-")])
            .await;
        assert_eq!(resp.status(), 206);
        assert_eq!(sha256_hex(&resp.bytes().await.unwrap()), sha256_hex(data));
    }
    let health: serde_json::Value = app.get("/healthz", &[]).await.json().await.unwrap();
    assert_eq!(health["status"], "ready");
    assert_eq!(health["accepting_writes"], false);
}

#[tokio::test]
async fn a_small_disk_filled_up_refuses_writes_before_it_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = Tmpfs::mount(dir.path(), "24m") else {
        eprintln!("cannot mount a tmpfs here; the floor-above-free-space test covers the rules");
        return;
    };
    let data_dir = dir.path().join("data");
    let floor = 8 << 20;
    let services = Services::open(settings(&data_dir, floor), Arc::new(SystemClock)).unwrap();
    let mut stored = Vec::new();
    let refusal = loop {
        let data = bytes(1 << 20, stored.len() as u64);
        match services.add_blob(&data[..], "filler.mp4") {
            Ok((s, _)) => stored.push((s.sha256.to_hex(), data)),
            Err(e) => break e,
        }
        assert!(stored.len() < 30, "24 MiB took more than 30 MiB of blobs");
    };
    assert!(
        matches!(
            refusal,
            AddBlobError::Blob(yuanjiao::blobs::BlobError::Space(_))
                | AddBlobError::Store(yuanjiao::repo::StoreError::Space(_))
        ),
        "refused by the floor, not by the full disk: {refusal}"
    );
    assert!(!stored.is_empty());
    services.store.flush().unwrap();
    drop(services);

    // Reopened on the same nearly full disk: nothing lost, reads served, writes refused.
    let app = TestApp::spawn_in(tempfile::tempdir().unwrap(), |s| {
        s.storage.data_dir = data_dir.clone();
        s.storage.min_free_bytes = floor;
    })
    .await;
    assert_eq!(app.services.store.blob_count().unwrap(), stored.len());
    writes_are_refused_and_reads_go_on(&app, &stored).await;
    let ingest = yuanjiao::ingest::ingest_course(
        &app.services,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("media/party-basics"),
        &mut yuanjiao::ingest::Quiet,
    );
    assert!(ingest
        .unwrap_err()
        .to_string()
        .contains("storage.min_free_bytes"));
    app.stop().await;
}

#[tokio::test]
async fn a_floor_above_the_free_space_refuses_writes_with_507() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data = bytes(100_000, 1);
    let sha = {
        let services = Services::open(settings(&data_dir, 0), Arc::new(SystemClock)).unwrap();
        let (s, _) = services.add_blob(&data[..], "a.mp4").unwrap();
        services.store.flush().unwrap();
        s.sha256.to_hex()
    };
    let app = TestApp::spawn_in(tempfile::tempdir().unwrap(), |s| {
        s.storage.data_dir = data_dir.clone();
        s.storage.min_free_bytes = u64::MAX / 2;
    })
    .await;
    writes_are_refused_and_reads_go_on(&app, &[(sha.clone(), data)]).await;
    assert!(matches!(
        app.services.add_blob(&b"more"[..], "b.txt"),
        Err(AddBlobError::Blob(yuanjiao::blobs::BlobError::Space(_)))
    ));
    let resp = app.client.head(app.media(&sha)).send().await.unwrap();
    assert_eq!(header(&resp, "content-length"), "100000");
}
