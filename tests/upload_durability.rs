//! Kill -9 during uploads, restart, resume: nothing acknowledged is lost and the blob comes out
//! byte for byte.
//!
//! The real `yuanjiao serve` runs on a temp data dir. An upload of 24 MiB of deterministic
//! bytes is sent in chunks; in each of three rounds one chunk is acknowledged and the next is
//! streamed slowly, and the server is killed (SIGKILL) once some of that chunk is on its disk,
//! in the middle of the request. After each restart on the same data dir HEAD must give an
//! offset at least what was acknowledged and at most what was sent, and the upload resumes from
//! there. Last, the server is killed right after the final chunk is acknowledged, while it is
//! still turning the upload into a blob; after a restart it finishes, and the blob served at
//! /media/<sha256> has the source's sha256.
//!
//! A kill -9 keeps what was handed to the OS; it cannot stand in for a power cut, so a missing
//! fsync would go unseen here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;

use support::process::{Sandbox, Server};

fn part(sb: &Sandbox, id: &str) -> PathBuf {
    sb.path()
        .join("data")
        .join("uploads")
        .join(format!("{id}.part"))
}

/// The upload's size.
const SIZE: usize = 24 << 20;
/// One acknowledged chunk per round.
const CHUNK: usize = 3 << 20;
/// The slow chunk goes in pieces of this size.
const PIECE: usize = 256 << 10;
/// Rounds that each kill the server mid-PATCH.
const ROUNDS: usize = 3;

// ---------------------------------------------------------------- tus

/// Deterministic pseudo-random bytes (the same generator as tests/support).
fn source_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

struct Tus<'a> {
    client: &'a reqwest::Client,
    token: &'a str,
}

impl Tus<'_> {
    fn request(
        &self,
        server: &Server,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, server.url(path))
            .bearer_auth(self.token)
            .header("Tus-Resumable", "1.0.0")
    }

    fn patch(&self, server: &Server, path: &str, offset: u64) -> reqwest::RequestBuilder {
        self.request(server, reqwest::Method::PATCH, path)
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream")
    }

    /// PATCHes `body` at `offset`; checks the 204 and the new offset.
    async fn append(&self, server: &Server, path: &str, offset: u64, body: &[u8]) {
        let resp = self
            .patch(server, path, offset)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let new = resp
            .headers()
            .get("upload-offset")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            status,
            204,
            "PATCH at {offset}: {}",
            resp.text().await.unwrap()
        );
        assert_eq!(new, Some((offset + body.len() as u64).to_string()));
    }

    async fn offset(&self, server: &Server, path: &str) -> u64 {
        let resp = self
            .request(server, reqwest::Method::HEAD, path)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "HEAD {path}\n{}", server.log_text());
        resp.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Polls GET /api/v1/uploads/{id} (at most 20 s) until the upload is stored; its sha256.
    async fn stored(&self, server: &Server, id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let resp = self
                .request(
                    server,
                    reqwest::Method::GET,
                    &format!("/api/v1/uploads/{id}"),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let body: serde_json::Value = resp.json().await.unwrap();
            let state = &body["upload"]["state"];
            match state["state"].as_str() {
                Some("stored") => return state["sha256"].as_str().unwrap().to_string(),
                // Moving into the blob store is a step of its own, seen when polled at that moment.
                Some("receiving" | "verifying" | "moving") => {}
                _ => panic!("the upload did not become a blob: {body}"),
            }
            assert!(
                Instant::now() < deadline,
                "still {state} after 20 s\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits (at most 10 s) until `path` holds more than `len` bytes.
fn grows_past(path: &Path, len: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(path).map_or(0, |m| m.len());
        if now > len {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} stayed at {now} bytes",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------- the test

#[test]
fn an_upload_killed_mid_patch_resumes_from_head_to_an_identical_blob() {
    let started = Instant::now();
    let sb = Sandbox::new();
    let token = sb
        .ok(&["admin", "token", "--role", "editor"])
        .trim()
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let tus = Tus {
        client: &client,
        token: &token,
    };
    let source = source_bytes(SIZE, 0x5eed);
    let mut server = Server::start(&sb, &client, &rt, 0);

    let path = rt.block_on(async {
        let resp = tus
            .request(&server, reqwest::Method::POST, "/uploads")
            .header("Upload-Length", SIZE)
            .header("Upload-Metadata", "filename YmlnLnR4dA==") // big.txt
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", server.log_text());
        resp.headers()["location"].to_str().unwrap().to_string()
    });
    let id = path.rsplit('/').next().unwrap().to_string();
    let part = part(&sb, &id);

    let mut acked = 0u64;
    for round in 0..ROUNDS {
        // One chunk, acknowledged.
        let end = acked as usize + CHUNK;
        rt.block_on(tus.append(&server, &path, acked, &source[acked as usize..end]));
        acked = end as u64;

        // The next, streamed slowly and cut by a SIGKILL once the server is writing it.
        let (feed, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let body =
            reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            }));
        let patch = rt.spawn(tus.patch(&server, &path, acked).body(body).send());
        let mut sent = acked as usize;
        for _ in 0..(2 + round) {
            let piece = Bytes::copy_from_slice(&source[sent..sent + PIECE]);
            rt.block_on(feed.send(Ok(piece))).unwrap();
            sent += PIECE;
        }
        grows_past(&part, acked);
        server.kill();
        let cut = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), patch).await })
            .expect("the killed PATCH ended")
            .unwrap();
        assert!(
            cut.as_ref().map_or(true, |r| !r.status().is_success()),
            "a PATCH killed mid-body was acknowledged: {cut:?}"
        );
        drop(feed);

        server = Server::start(&sb, &client, &rt, round + 1);
        let offset = rt.block_on(tus.offset(&server, &path));
        assert!(
            acked <= offset && offset <= sent as u64,
            "round {round}: HEAD says {offset}; {acked} were acknowledged and {sent} sent"
        );
        assert!(offset > 0);
        acked = offset;
    }

    // The rest, then a kill right after the last acknowledgement, while the upload is being
    // turned into a blob.
    rt.block_on(async {
        let mut offset = acked as usize;
        while offset < SIZE {
            let end = (offset + 8 * CHUNK).min(SIZE);
            tus.append(&server, &path, offset as u64, &source[offset..end])
                .await;
            offset = end;
        }
    });
    server.kill();
    server = Server::start(&sb, &client, &rt, ROUNDS + 1);
    let expected = sha256_hex(&source);
    rt.block_on(async {
        assert_eq!(tus.offset(&server, &path).await, SIZE as u64);
        let sha = tus.stored(&server, &id).await;
        assert_eq!(sha, expected, "the blob's name is the source's sha256");
        let resp = client
            .get(server.url(&format!("/media/{sha}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let served = resp.bytes().await.unwrap();
        assert_eq!(served.len(), SIZE);
        assert_eq!(
            sha256_hex(&served),
            expected,
            "the served bytes are the source's"
        );
    });
    assert!(!part.exists(), "the upload's file became the blob");
    server.kill();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// What a kill between the two steps of finishing leaves: the hash is recorded (`moving`) and
/// the upload's file has been renamed into the blob store, but the upload is not yet recorded
/// as stored. It is made here by rewriting the record of a stored upload while the server is
/// down.
#[test]
fn an_upload_killed_between_moving_its_file_and_recording_it_is_finished_after_restart() {
    let sb = Sandbox::new();
    let token = sb
        .ok(&["admin", "token", "--role", "editor"])
        .trim()
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let tus = Tus {
        client: &client,
        token: &token,
    };
    let source = source_bytes(1 << 20, 0xf1);
    let mut server = Server::start(&sb, &client, &rt, 0);
    let (path, id) = rt.block_on(async {
        let resp = tus
            .request(&server, reqwest::Method::POST, "/uploads")
            .header("Upload-Length", source.len())
            .header("Upload-Metadata", "filename YmlnLnR4dA==")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let path = resp.headers()["location"].to_str().unwrap().to_string();
        let id = path.rsplit('/').next().unwrap().to_string();
        tus.append(&server, &path, 0, &source).await;
        tus.stored(&server, &id).await;
        (path, id)
    });
    server.kill();

    {
        let mut settings = yuanjiao::config::Settings::default();
        settings.storage.data_dir = sb.path().join("data");
        settings.storage.min_free_bytes = 0;
        let services = yuanjiao::services::Services::open(
            settings,
            std::sync::Arc::new(yuanjiao::clock::SystemClock),
        )
        .unwrap();
        let mut upload = services.store.upload(&id).unwrap().unwrap();
        upload.state = yuanjiao::domain::upload::UploadState::Moving {
            sha256: sha256_hex(&source),
            size: source.len() as u64,
        };
        services.store.put_upload(&upload).unwrap();
        services.store.flush().unwrap();
    }
    assert!(!part(&sb, &id).exists(), "the file is in the blob store");

    server = Server::start(&sb, &client, &rt, 1);
    rt.block_on(async {
        assert_eq!(tus.offset(&server, &path).await, source.len() as u64);
        let sha = tus.stored(&server, &id).await;
        assert_eq!(sha, sha256_hex(&source));
    });
}
