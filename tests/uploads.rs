//! tus 1.0 uploads over HTTP against the in-process server: discovery, creation (with a body,
//! with a deferred length), HEAD and PATCH, every error status the protocol and the server's
//! rules give, one writer per upload, expiry and the sweep, and what a finished upload becomes:
//! a blob byte for byte, a rejected file with the probe's reason, or a lesson's variant (after
//! processing, for video; at once, for text).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::TestApp;
use yuanjiao::clock::FixedClock;
use yuanjiao::domain::org::{Field, Member, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::Terminal;

const TUS: &str = "1.0.0";
const OCTETS: &str = "application/offset+octet-stream";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// How long the asynchronous finish (hash, probe, move into the blob store) may take.
const SETTLE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Requests

/// One HTTP answer, read whole.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    async fn read(resp: reqwest::Response) -> Reply {
        Reply {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    }

    /// A header's value, or "" when it is absent.
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    fn has(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }

    fn number(&self, name: &str) -> u64 {
        self.header(name)
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {:?} is not a number", self.header(name)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.status, self.text()))
    }

    /// The error body's code, after checking it says why.
    fn code(&self) -> String {
        let body = self.json();
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "an error says why: {body}");
        body["code"].as_str().unwrap_or_default().to_string()
    }

    fn describe(&self) -> String {
        format!("{} {}", self.status, self.text())
    }
}

/// `Upload-Metadata` from pairs; an empty value is sent as the bare key.
fn encode_metadata(pairs: &[(&str, &str)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match v.is_empty() {
            true => k.to_string(),
            false => format!("{k} {}", B64.encode(v)),
        })
        .collect();
    items.join(",")
}

fn decode_metadata(header: &str) -> BTreeMap<String, String> {
    header
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|item| {
            let (k, v) = item.split_once(' ').unwrap_or((item, ""));
            let v = String::from_utf8(B64.decode(v.trim()).unwrap()).unwrap();
            (k.to_string(), v)
        })
        .collect()
}

fn id_of(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_string()
}

fn sha256_b64(data: &[u8]) -> String {
    B64.encode(sha2::Sha256::digest(data))
}

fn sha1_b64(data: &[u8]) -> String {
    B64.encode(sha1::Sha1::digest(data))
}

/// A request body sent with chunked transfer encoding (no Content-Length), piece by piece.
fn chunked(pieces: &[&[u8]]) -> reqwest::Body {
    let pieces: Vec<Result<Bytes, std::io::Error>> = pieces
        .iter()
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(pieces))
}

type Feed = tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>;

/// A request body the test feeds as it goes; an `Err` cuts the request off.
fn fed_body() -> (Feed, reqwest::Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (tx, reqwest::Body::wrap_stream(stream))
}

/// Waits (at most 10 s) until the upload's file on disk holds at least `len` bytes: proof that
/// the server is inside a PATCH, writing.
async fn file_reaches(path: &Path, len: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(path).map_or(0, |m| m.len());
        if now >= len {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} stayed at {now} bytes, never reached {len}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// tus requests made as one caller (or anonymously), each naming protocol version 1.0.0.
struct Tus<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl<'a> Tus<'a> {
    fn editor(app: &'a TestApp) -> Self {
        Self::as_principal(app, Principal::Editor)
    }

    fn as_principal(app: &'a TestApp, principal: Principal) -> Self {
        let token = people::issue_token(&app.services, principal, None, "test").unwrap();
        Self::with_token(app, token)
    }

    fn with_token(app: &'a TestApp, token: String) -> Self {
        Tus {
            app,
            token: Some(token),
        }
    }

    fn anonymous(app: &'a TestApp) -> Self {
        Tus { app, token: None }
    }

    fn bare(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.app.client.request(method, self.app.url(path));
        match &self.token {
            Some(token) => rb.bearer_auth(token),
            None => rb,
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.bare(method, path).header("Tus-Resumable", TUS)
    }

    async fn options(&self) -> Reply {
        let resp = self.bare(Method::OPTIONS, "/uploads").send().await.unwrap();
        Reply::read(resp).await
    }

    /// POST /uploads with `Upload-Length` (None: deferred) and metadata.
    async fn create(&self, length: Option<u64>, metadata: &[(&str, &str)]) -> Reply {
        let mut rb = self.request(Method::POST, "/uploads");
        rb = match length {
            Some(n) => rb.header("Upload-Length", n),
            None => rb.header("Upload-Defer-Length", "1"),
        };
        if !metadata.is_empty() {
            rb = rb.header("Upload-Metadata", encode_metadata(metadata));
        }
        Reply::read(rb.send().await.unwrap()).await
    }

    /// Creates an upload; returns its path (`/uploads/{id}`).
    async fn created(&self, length: Option<u64>, metadata: &[(&str, &str)]) -> String {
        let reply = self.create(length, metadata).await;
        assert_eq!(reply.status, 201, "{}", reply.describe());
        let location = reply.header("location").to_string();
        assert!(location.starts_with("/uploads/"), "{location}");
        location
    }

    async fn head(&self, path: &str) -> Reply {
        Reply::read(self.request(Method::HEAD, path).send().await.unwrap()).await
    }

    /// The offset HEAD reports, after checking it answered 200.
    async fn offset(&self, path: &str) -> u64 {
        let head = self.head(path).await;
        assert_eq!(head.status, 200, "HEAD {path}: {}", head.describe());
        head.number("upload-offset")
    }

    fn patch_request(&self, path: &str, offset: u64) -> reqwest::RequestBuilder {
        self.request(Method::PATCH, path)
            .header("Upload-Offset", offset)
            .header("Content-Type", OCTETS)
    }

    async fn patch(&self, path: &str, offset: u64, body: &[u8]) -> Reply {
        self.patch_with(path, offset, body, &[]).await
    }

    async fn patch_with(
        &self,
        path: &str,
        offset: u64,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut rb = self.patch_request(path, offset).body(body.to_vec());
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        Reply::read(rb.send().await.unwrap()).await
    }

    /// PATCHes `body` at `offset` and checks the 204 and the new offset.
    async fn append(&self, path: &str, offset: u64, body: &[u8]) {
        let reply = self.patch(path, offset, body).await;
        assert_eq!(reply.status, 204, "PATCH at {offset}: {}", reply.describe());
        assert_eq!(reply.number("upload-offset"), offset + body.len() as u64);
    }

    async fn delete(&self, path: &str) -> Reply {
        Reply::read(self.request(Method::DELETE, path).send().await.unwrap()).await
    }

    /// `GET /api/v1/uploads/{id}`.
    async fn status(&self, path: &str) -> Reply {
        let api = format!("/api/v1/uploads/{}", id_of(path));
        Reply::read(self.bare(Method::GET, &api).send().await.unwrap()).await
    }

    /// Polls the status (at most 10 s) until `done` holds; returns the last answer.
    async fn wait_for(&self, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + SETTLE;
        loop {
            let reply = self.status(path).await;
            assert_eq!(reply.status, 200, "{}", reply.describe());
            let body = reply.json();
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "never {what}: {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the finished upload is stored or rejected.
    async fn settled(&self, path: &str) -> Value {
        self.wait_for(path, "stored or rejected", |b| {
            matches!(
                b["upload"]["state"]["state"].as_str(),
                Some("stored" | "rejected")
            )
        })
        .await
    }

    /// Waits until the upload is stored; returns its sha256.
    async fn stored(&self, path: &str) -> String {
        let body = self.settled(path).await;
        assert_eq!(body["upload"]["state"]["state"], "stored", "{body}");
        body["upload"]["state"]["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates an upload of `data` and sends it in one PATCH; returns its path.
    async fn upload(&self, data: &[u8], metadata: &[(&str, &str)]) -> String {
        let path = self.created(Some(data.len() as u64), metadata).await;
        self.append(&path, 0, data).await;
        path
    }

    async fn json(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut rb = self.bare(method, path);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        Reply::read(rb.send().await.unwrap()).await
    }
}

/// GET /media/{sha256} returns exactly `data`.
async fn assert_served(app: &TestApp, sha256: &str, data: &[u8]) {
    let resp = app.get(&format!("/media/{sha256}"), &[]).await;
    assert_eq!(resp.status(), 200, "/media/{sha256}");
    let served = resp.bytes().await.unwrap();
    assert_eq!(served.len(), data.len(), "served length");
    assert!(served == data, "the served blob differs from the source");
}

const TEXT: &[(&str, &str)] = &[("filename", "notes.txt")];

/// A server whose clock the test moves, set on a whole second.
async fn app_with_clock(
    adjust: impl FnOnce(&mut yuanjiao::config::Settings),
) -> (TestApp, Arc<FixedClock>, SystemTime) {
    let start = UNIX_EPOCH + Duration::from_secs(1_760_000_000);
    let clock = Arc::new(FixedClock::new(start));
    let app = TestApp::spawn_with_clock(clock.clone(), adjust).await;
    (app, clock, start)
}

// ---------------------------------------------------------------------------------------------
// Discovery and Tus-Resumable

#[tokio::test]
async fn options_names_the_version_all_six_extensions_the_size_limit_and_checksum_algorithms() {
    let app = TestApp::spawn().await;
    // Discovery needs neither a token nor Tus-Resumable.
    let reply = Tus::anonymous(&app).options().await;
    assert!(matches!(reply.status, 200 | 204), "{}", reply.describe());
    assert_eq!(reply.header("tus-version"), TUS);
    let mut extensions: Vec<&str> = reply
        .header("tus-extension")
        .split(',')
        .map(str::trim)
        .collect();
    extensions.sort_unstable();
    assert_eq!(
        extensions,
        [
            "checksum",
            "creation",
            "creation-defer-length",
            "creation-with-upload",
            "expiration",
            "termination"
        ]
    );
    assert_eq!(
        reply.number("tus-max-size"),
        app.services.settings.uploads.max_size
    );
    let mut algorithms: Vec<&str> = reply
        .header("tus-checksum-algorithm")
        .split(',')
        .map(str::trim)
        .collect();
    algorithms.sort_unstable();
    assert_eq!(algorithms, ["sha1", "sha256"]);
}

#[tokio::test]
async fn every_tus_answer_carries_tus_resumable_errors_included() {
    let app = TestApp::spawn_with(|s| s.uploads.max_size = 1000).await;
    let tus = Tus::editor(&app);
    let member = Tus::as_principal(
        &app,
        Principal::Member {
            member: "nobody".into(),
        },
    );
    let created = tus.create(Some(10), TEXT).await;
    let path = created.header("location").to_string();
    let answers = vec![
        ("OPTIONS", tus.options().await),
        ("POST 201", created),
        ("HEAD 200", tus.head(&path).await),
        ("PATCH 204", tus.patch(&path, 0, b"01234").await),
        ("PATCH 409", tus.patch(&path, 0, b"56789").await),
        (
            "PATCH 460",
            tus.patch_with(
                &path,
                5,
                b"56789",
                &[("upload-checksum", &format!("sha256 {}", sha256_b64(b"x")))],
            )
            .await,
        ),
        (
            "PATCH 415",
            Reply::read(
                tus.request(Method::PATCH, &path)
                    .header("Upload-Offset", 5)
                    .header("Content-Type", "application/octet-stream")
                    .body("56789")
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        ),
        ("PATCH 413", tus.patch(&path, 5, b"56789-and-more").await),
        (
            "HEAD 412",
            Reply::read(tus.bare(Method::HEAD, &path).send().await.unwrap()).await,
        ),
        ("POST 413", tus.create(Some(1001), TEXT).await),
        (
            "POST 415",
            tus.create(Some(10), &[("filename", "x.exe")]).await,
        ),
        (
            "POST 400",
            Reply::read(
                tus.request(Method::POST, "/uploads")
                    .header("Upload-Length", "ten")
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        ),
        (
            "POST 401",
            Tus::anonymous(&app).create(Some(10), TEXT).await,
        ),
        ("POST 403", member.create(Some(10), TEXT).await),
        ("HEAD 404", tus.head("/uploads/0123456789abcdef").await),
        ("DELETE 204", tus.delete(&path).await),
        ("DELETE 404", tus.delete(&path).await),
    ];
    let statuses: Vec<u16> = answers.iter().map(|(_, r)| r.status).collect();
    assert_eq!(
        statuses,
        [204, 201, 200, 204, 409, 460, 415, 413, 412, 413, 415, 400, 401, 403, 404, 204, 404]
    );
    for (what, reply) in &answers {
        assert_eq!(reply.header("tus-resumable"), TUS, "{what}");
    }
}

#[tokio::test]
async fn a_412_names_the_versions_the_server_speaks() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let reply = Reply::read(
        tus.bare(Method::POST, "/uploads")
            .header("Tus-Resumable", "0.2.2")
            .header("Upload-Length", 10)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 412);
    assert_eq!(
        reply.header("tus-version"),
        TUS,
        "412 must carry Tus-Version"
    );
}

#[tokio::test]
async fn a_missing_or_other_tus_resumable_is_412_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let path = tus.created(Some(10), TEXT).await;
    tus.append(&path, 0, b"01234").await;
    for version in [None, Some("0.2.2"), Some("1.0"), Some("")] {
        let with = |rb: reqwest::RequestBuilder| match version {
            Some(v) => rb.header("Tus-Resumable", v),
            None => rb,
        };
        let label = format!("Tus-Resumable {version:?}");
        let post = with(
            tus.bare(Method::POST, "/uploads")
                .header("Upload-Length", 10),
        );
        let head = with(tus.bare(Method::HEAD, &path));
        let patch = with(
            tus.bare(Method::PATCH, &path)
                .header("Upload-Offset", 5)
                .header("Content-Type", OCTETS)
                .body("56789"),
        );
        let delete = with(tus.bare(Method::DELETE, &path));
        for (method, rb) in [("POST", post), ("PATCH", patch), ("DELETE", delete)] {
            let reply = Reply::read(rb.send().await.unwrap()).await;
            assert_eq!(
                reply.status,
                412,
                "{method} with {label}: {}",
                reply.describe()
            );
            assert_eq!(reply.code(), "unsupported-version", "{method} with {label}");
        }
        let reply = Reply::read(head.send().await.unwrap()).await;
        assert_eq!(reply.status, 412, "HEAD with {label}");
        assert!(!reply.has("upload-offset"), "HEAD with {label}");
    }
    assert_eq!(
        tus.offset(&path).await,
        5,
        "no PATCH was applied, no DELETE done"
    );
    assert_eq!(
        app.services.store.uploads().unwrap().len(),
        1,
        "no POST created one"
    );
}

// ---------------------------------------------------------------------------------------------
// Creation, HEAD and PATCH

#[tokio::test]
async fn creation_is_201_with_a_location_and_when_the_upload_expires() {
    let (app, _clock, start) = app_with_clock(|_| {}).await;
    let tus = Tus::editor(&app);
    let reply = tus.create(Some(1234), TEXT).await;
    assert_eq!(reply.status, 201, "{}", reply.describe());
    let location = reply.header("location");
    let id = location.strip_prefix("/uploads/").unwrap();
    assert!(
        id.len() >= 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "an unguessable id: {id}"
    );
    let expire_after = app.services.settings.uploads.expire_after;
    assert_eq!(
        reply.header("upload-expires"),
        httpdate::fmt_http_date(start + expire_after)
    );
    assert!(
        !reply.has("upload-offset"),
        "no body was sent, so no Upload-Offset"
    );
    assert_eq!(tus.offset(location).await, 0);
}

#[tokio::test]
async fn head_reports_offset_length_and_metadata_and_forbids_caching() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let metadata = [
        ("filename", "学习笔记 第一课.txt"),
        ("filetype", "text/plain"),
        ("note", "a, b; c=d"),
        ("flag", ""),
    ];
    let path = tus.created(Some(1000), &metadata).await;
    tus.append(&path, 0, &support::bytes(300, 1)).await;
    let head = tus.head(&path).await;
    assert_eq!(head.status, 200, "{}", head.describe());
    assert_eq!(head.number("upload-offset"), 300);
    assert_eq!(head.number("upload-length"), 1000);
    assert!(!head.has("upload-defer-length"));
    assert_eq!(head.header("cache-control"), "no-store");
    assert!(httpdate::parse_http_date(head.header("upload-expires")).is_ok());
    let expected: BTreeMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(decode_metadata(head.header("upload-metadata")), expected);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn a_deferred_length_shows_in_head_until_a_later_patch_sets_it() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(150_000, 2);
    let path = tus.created(None, TEXT).await;

    let head = tus.head(&path).await;
    assert_eq!(head.header("upload-defer-length"), "1");
    assert!(!head.has("upload-length"));
    assert_eq!(head.number("upload-offset"), 0);

    tus.append(&path, 0, &source[..100_000]).await;
    let head = tus.head(&path).await;
    assert_eq!(head.header("upload-defer-length"), "1", "still unknown");
    assert_eq!(head.number("upload-offset"), 100_000);

    let length = source.len().to_string();
    let last = tus
        .patch_with(
            &path,
            100_000,
            &source[100_000..],
            &[("upload-length", &length)],
        )
        .await;
    assert_eq!(last.status, 204, "{}", last.describe());
    assert_eq!(last.number("upload-offset"), 150_000);
    let head = tus.head(&path).await;
    assert_eq!(head.number("upload-length"), 150_000);
    assert!(!head.has("upload-defer-length"));

    let sha = tus.stored(&path).await;
    assert_eq!(sha, support::sha256_hex(&source));
    assert_served(&app, &sha, &source).await;
}

#[tokio::test]
async fn creation_with_upload_keeps_the_first_bytes_and_answers_their_offset() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(3000, 3);
    let reply = Reply::read(
        tus.request(Method::POST, "/uploads")
            .header("Upload-Length", source.len())
            .header("Upload-Metadata", encode_metadata(TEXT))
            .header("Content-Type", OCTETS)
            .body(source[..1000].to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.describe());
    assert_eq!(reply.number("upload-offset"), 1000);
    assert!(reply.has("upload-expires"));
    let path = reply.header("location").to_string();
    assert_eq!(tus.offset(&path).await, 1000);
    tus.append(&path, 1000, &source[1000..]).await;
    let sha = tus.stored(&path).await;
    assert_eq!(sha, support::sha256_hex(&source));
    assert_served(&app, &sha, &source).await;
}

#[tokio::test]
async fn chunks_patched_in_turn_become_a_blob_identical_to_the_source() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(700_001, 4);
    let path = tus.created(Some(source.len() as u64), TEXT).await;
    let mut offset = 0;
    for end in [1, 250_000, 250_000, 600_000, source.len()] {
        let reply = tus.patch(&path, offset as u64, &source[offset..end]).await;
        assert_eq!(reply.status, 204, "{}", reply.describe());
        assert_eq!(
            reply.number("upload-offset"),
            end as u64,
            "one Upload-Offset per PATCH"
        );
        assert!(httpdate::parse_http_date(reply.header("upload-expires")).is_ok());
        assert!(reply.body.is_empty());
        offset = end;
    }
    let body = tus.settled(&path).await;
    let upload = &body["upload"];
    assert_eq!(upload["state"]["state"], "stored", "{body}");
    assert_eq!(upload["state"]["sha256"], support::sha256_hex(&source));
    assert_eq!(upload["offset"], source.len());
    assert_eq!(upload["length"], source.len());
    assert_eq!(body["processing"], Value::Null, "text is not processed");
    let sha = upload["state"]["sha256"].as_str().unwrap();
    assert_served(&app, sha, &source).await;
    assert!(
        !yuanjiao::uploads::part_path(&app.services, &id_of(&path)).exists(),
        "the upload's file became the blob"
    );
    let head = tus.head(&path).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.number("upload-offset"), source.len() as u64);
}

#[tokio::test]
async fn a_patch_cut_off_mid_body_keeps_the_bytes_that_arrived() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(200_000, 5);
    let path = tus.created(Some(source.len() as u64), TEXT).await;
    let part = yuanjiao::uploads::part_path(&app.services, &id_of(&path));

    let (feed, body) = fed_body();
    let patch = tokio::spawn(tus.patch_request(&path, 0).body(body).send());
    feed.send(Ok(Bytes::copy_from_slice(&source[..80_000])))
        .await
        .unwrap();
    file_reaches(&part, 80_000).await;
    feed.send(Err(std::io::Error::other("the link dropped")))
        .await
        .unwrap();
    assert!(patch.await.unwrap().is_err(), "the request was cut off");

    // The server records what it wrote once it sees the body end early.
    let deadline = Instant::now() + SETTLE;
    while tus.offset(&path).await != 80_000 {
        assert!(
            Instant::now() < deadline,
            "the 80 000 bytes that arrived were not kept"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The offset is recorded a moment before the cut-off PATCH lets go of the upload, so a
    // resume sent at once may be told 423 (try again), as any client must expect.
    loop {
        let reply = tus.patch(&path, 80_000, &source[80_000..]).await;
        if reply.status == 423 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        assert_eq!(reply.status, 204, "{}", reply.describe());
        assert_eq!(reply.number("upload-offset"), source.len() as u64);
        break;
    }
    let sha = tus.stored(&path).await;
    assert_eq!(sha, support::sha256_hex(&source));
}

// ---------------------------------------------------------------------------------------------
// One writer at a time

#[tokio::test]
async fn a_second_patch_while_one_is_writing_is_423_and_the_bytes_do_not_interleave() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(300_000, 6);
    let intruder = support::bytes(50_000, 66);
    let path = tus.created(Some(source.len() as u64), TEXT).await;
    let part = yuanjiao::uploads::part_path(&app.services, &id_of(&path));

    let (feed, body) = fed_body();
    let slow = tokio::spawn(tus.patch_request(&path, 0).body(body).send());
    feed.send(Ok(Bytes::copy_from_slice(&source[..100_000])))
        .await
        .unwrap();
    // Once its bytes are on disk the slow PATCH holds the upload.
    file_reaches(&part, 100_000).await;

    for offset in [0, 100_000] {
        let second = tus.patch(&path, offset, &intruder).await;
        assert!(
            matches!(second.status, 423 | 409),
            "a second PATCH at {offset} while one writes: {}",
            second.describe()
        );
        if second.status == 423 {
            assert_eq!(second.code(), "busy");
        }
        assert_eq!(second.header("tus-resumable"), TUS);
    }

    feed.send(Ok(Bytes::copy_from_slice(&source[100_000..200_000])))
        .await
        .unwrap();
    drop(feed);
    let first = Reply::read(slow.await.unwrap().unwrap()).await;
    assert_eq!(first.status, 204, "{}", first.describe());
    assert_eq!(first.number("upload-offset"), 200_000);
    assert_eq!(
        tus.offset(&path).await,
        200_000,
        "only the first PATCH's bytes"
    );

    tus.append(&path, 200_000, &source[200_000..]).await;
    let sha = tus.stored(&path).await;
    assert_eq!(
        sha,
        support::sha256_hex(&source),
        "no intruding byte got in"
    );
    assert_served(&app, &sha, &source).await;
}

// ---------------------------------------------------------------------------------------------
// Error statuses

#[tokio::test]
async fn a_patch_body_not_sent_as_offset_octet_stream_is_415() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let path = tus.created(Some(10), TEXT).await;
    for content_type in [Some("application/octet-stream"), Some("text/plain"), None] {
        let mut rb = tus
            .request(Method::PATCH, &path)
            .header("Upload-Offset", 0)
            .body("0123456789");
        if let Some(t) = content_type {
            rb = rb.header("Content-Type", t);
        }
        let reply = Reply::read(rb.send().await.unwrap()).await;
        assert_eq!(reply.status, 415, "{content_type:?}: {}", reply.describe());
        assert_eq!(reply.code(), "wrong-content-type");
    }
    assert_eq!(tus.offset(&path).await, 0);
}

#[tokio::test]
async fn a_file_type_not_in_allowed_types_is_415_at_creation() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let refused: [&[(&str, &str)]; 4] = [
        &[("filename", "setup.exe")],
        &[("filename", "archive.zip")],
        &[("filename", "notes.txt"), ("filetype", "application/zip")],
        &[],
    ];
    for metadata in refused {
        let reply = tus.create(Some(10), metadata).await;
        assert_eq!(reply.status, 415, "{metadata:?}: {}", reply.describe());
        assert_eq!(reply.code(), "type-not-allowed", "{metadata:?}");
    }
    assert!(app.services.store.uploads().unwrap().is_empty());
    for accepted in ["a.md", "a.txt", "a.pdf", "a.mp4", "a.m4a"] {
        let reply = tus.create(Some(10), &[("filename", accepted)]).await;
        assert_eq!(reply.status, 201, "{accepted}: {}", reply.describe());
        tus.delete(reply.header("location")).await;
    }
}

#[tokio::test]
async fn a_declared_type_must_be_exactly_one_allowed_type_or_creation_says_why() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let with_type = |t: &'static str| [("filename", "notes.txt"), ("filetype", t)];
    for (declared, status, code) in [
        // Once it was enough to start with an allowed type; this one rendered as a page.
        ("text/plain,text/html", 400, "bad-type"),
        ("text/plain text/html", 400, "bad-type"),
        ("text/plain;", 201, ""),
        ("text/plain; charset=\"utf-8", 400, "bad-type"),
        ("text/plainhtml", 415, "type-not-allowed"),
        ("text/html", 415, "type-not-allowed"),
        ("image/svg+xml", 415, "type-not-allowed"),
        ("application/pdf; x=<script>", 400, "bad-type"),
        ("application/pdf; name=x", 415, "type-not-allowed"),
        ("text/plain; charset=utf-7", 415, "type-not-allowed"),
        ("text/markdown; charset=UTF-8", 201, ""),
        ("video/x-anything", 201, ""),
    ] {
        let reply = tus.create(Some(10), &with_type(declared)).await;
        assert_eq!(reply.status, status, "{declared:?}: {}", reply.describe());
        if status == 201 {
            tus.delete(reply.header("location")).await;
        } else {
            assert_eq!(reply.code(), code, "{declared:?}");
        }
    }
    assert!(app.services.store.uploads().unwrap().is_empty());
}

/// An upload and how it is served: (bytes, filename, declared filetype, served type,
/// sandboxed, disposition).
type Served<'a> = (&'a [u8], &'a str, &'a str, &'a str, bool, &'a str);

/// `GET /media/{sha256}`, read whole.
async fn media(app: &TestApp, sha256: &str, headers: &[(&str, &str)]) -> Reply {
    Reply::read(app.get(&format!("/media/{sha256}"), headers).await).await
}

#[tokio::test]
async fn a_blobs_type_comes_from_the_probe_or_the_list_never_from_the_client() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let page = b"<html><script>alert(localStorage.token)</script></html>";
    let video =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/av.mp4")).unwrap();
    let audio =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio.m4a"))
            .unwrap();
    let cases: [Served; 5] = [
        (
            page,
            "a.txt",
            "text/plain; charset=utf-8",
            "text/plain; charset=utf-8",
            true,
            "inline",
        ),
        (
            b"# Hi\n",
            "a.md",
            "text/markdown",
            "text/markdown; charset=utf-8",
            true,
            "inline",
        ),
        (
            b"%PDF-1.4 <script>",
            "a.pdf",
            "application/pdf",
            "application/pdf",
            true,
            "attachment",
        ),
        (
            &video,
            "a.mp4",
            "video/x-made-up",
            "video/mp4",
            false,
            "inline",
        ),
        (&audio, "a.m4a", "video/mp4", "audio/mp4", false, "inline"),
    ];
    for (bytes, filename, declared, served, sandboxed, disposition) in cases {
        let path = tus
            .upload(bytes, &[("filename", filename), ("filetype", declared)])
            .await;
        let sha = tus.stored(&path).await;
        for headers in [&[][..], &[("range", "bytes=0-3")][..]] {
            let reply = media(&app, &sha, headers).await;
            assert!(
                matches!(reply.status, 200 | 206),
                "{filename}: {}",
                reply.status
            );
            assert_eq!(
                reply.header("content-type"),
                served,
                "{filename} {headers:?}"
            );
            assert_eq!(
                reply.header("x-content-type-options"),
                "nosniff",
                "{filename}"
            );
            let csp = reply.header("content-security-policy");
            assert_eq!(csp == "sandbox", sandboxed, "{filename}: CSP {csp:?}");
            let shown = reply.header("content-disposition");
            assert!(shown.starts_with(disposition), "{filename}: {shown}");
        }
        // A 304 says the same about the file as the 200 did.
        let again = media(&app, &sha, &[("if-none-match", &format!("\"{sha}\""))]).await;
        assert_eq!(again.status, 304);
        assert_eq!(again.header("x-content-type-options"), "nosniff");
        assert_eq!(
            again.header("content-security-policy") == "sandbox",
            sandboxed
        );
    }
}

#[tokio::test]
async fn a_blob_recorded_with_a_clients_type_before_is_served_as_a_sandboxed_download() {
    let app = TestApp::spawn().await;
    let page = b"<html><script>alert(1)</script></html>";
    let hash = app.services.blobs.put(&page[..]).unwrap().sha256;
    let sha = hash.to_hex();
    // What an upload under the old rule recorded: the client's string, unchanged.
    let old = yuanjiao::repo::BlobMeta {
        size: page.len() as u64,
        mime: "text/plain,text/html".into(),
        filename: "page.html".into(),
        created_ms: 0,
    };
    assert!(app.services.store.insert_blob_meta(&hash, &old).unwrap());
    let reply = media(&app, &sha, &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/octet-stream");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert_eq!(reply.header("content-security-policy"), "sandbox");
    assert_eq!(
        reply.header("content-disposition"),
        "attachment; filename=\"page.html\""
    );
    // The parts of a multipart answer name the same type, not the record's.
    let parts = media(&app, &sha, &[("range", "bytes=0-1,4-5")]).await;
    assert_eq!(parts.status, 206);
    let text = parts.text();
    assert!(
        text.contains("Content-Type: application/octet-stream"),
        "{text}"
    );
    assert!(!text.contains("text/html"), "{text}");
}

#[tokio::test]
async fn a_patch_at_the_wrong_offset_is_409_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(300, 7);
    let path = tus.created(Some(300), TEXT).await;
    tus.append(&path, 0, &source[..100]).await;
    for offset in [0, 99, 101, 300] {
        let reply = tus.patch(&path, offset, &source[100..200]).await;
        assert_eq!(reply.status, 409, "at {offset}: {}", reply.describe());
        assert_eq!(reply.code(), "offset-mismatch");
    }
    assert_eq!(tus.offset(&path).await, 100);
    tus.append(&path, 100, &source[100..]).await;
    assert_eq!(tus.stored(&path).await, support::sha256_hex(&source));
}

#[tokio::test]
async fn a_patch_after_the_upload_is_complete_is_409() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(100, 8);
    let path = tus.upload(&source, TEXT).await;
    for body in [&b""[..], &b"more"[..]] {
        let reply = tus.patch(&path, 100, body).await;
        assert_eq!(reply.status, 409, "{}", reply.describe());
        assert_eq!(reply.code(), "complete");
    }
    let sha = tus.stored(&path).await;
    let reply = tus.patch(&path, 100, b"more").await;
    assert_eq!(reply.status, 409, "once stored too: {}", reply.describe());
    assert_served(&app, &sha, &source).await;
}

#[tokio::test]
async fn a_chunk_whose_sha1_or_sha256_does_not_match_is_460_and_the_offset_stays() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(40_000, 9);
    let path = tus.created(Some(40_000), TEXT).await;
    let chunk = &source[..20_000];
    let corrupted = {
        let mut c = chunk.to_vec();
        c[12_345] ^= 0x01;
        c
    };
    let sha1 = format!("sha1 {}", sha1_b64(chunk));
    let sha256 = format!("sha256 {}", sha256_b64(chunk));
    for checksum in [&sha1, &sha256] {
        let reply = tus
            .patch_with(&path, 0, &corrupted, &[("upload-checksum", checksum)])
            .await;
        assert_eq!(reply.status, 460, "{checksum}: {}", reply.describe());
        assert_eq!(reply.code(), "checksum-mismatch");
        assert_eq!(tus.offset(&path).await, 0, "{checksum}: nothing kept");
    }

    let reply = tus
        .patch_with(&path, 0, chunk, &[("upload-checksum", &sha1)])
        .await;
    assert_eq!(reply.status, 204, "a matching sha1: {}", reply.describe());
    assert_eq!(reply.number("upload-offset"), 20_000);
    let rest = &source[20_000..];
    let reply = tus
        .patch_with(
            &path,
            20_000,
            rest,
            &[("upload-checksum", &format!("sha256 {}", sha256_b64(rest)))],
        )
        .await;
    assert_eq!(reply.status, 204, "a matching sha256: {}", reply.describe());
    let sha = tus.stored(&path).await;
    assert_eq!(
        sha,
        support::sha256_hex(&source),
        "no corrupted byte was kept"
    );
}

#[tokio::test]
async fn an_unknown_checksum_algorithm_or_malformed_digest_is_400() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let path = tus.created(Some(10), TEXT).await;
    let body = b"0123456789";
    let md5 = format!("md5 {}", B64.encode([0u8; 16]));
    let short = format!("sha256 {}", B64.encode([0u8; 20]));
    for checksum in [
        md5.as_str(),
        "sha256 !!not-base64!!",
        "sha1",
        short.as_str(),
        "",
    ] {
        let reply = tus
            .patch_with(&path, 0, body, &[("upload-checksum", checksum)])
            .await;
        assert_eq!(reply.status, 400, "{checksum:?}: {}", reply.describe());
        assert_eq!(reply.code(), "bad-checksum", "{checksum:?}");
    }
    assert_eq!(tus.offset(&path).await, 0);
}

#[tokio::test]
async fn a_bad_upload_length_upload_offset_or_defer_length_is_400() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let post = |headers: &[(&str, &str)]| {
        let mut rb = tus
            .request(Method::POST, "/uploads")
            .header("Upload-Metadata", encode_metadata(TEXT));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.send()
    };
    let bad_creations: [&[(&str, &str)]; 8] = [
        &[("Upload-Length", "-1")],
        &[("Upload-Length", "ten")],
        &[("Upload-Length", "1.5")],
        &[("Upload-Length", "99999999999999999999999")],
        &[],
        &[("Upload-Length", "10"), ("Upload-Defer-Length", "1")],
        &[("Upload-Defer-Length", "2")],
        &[("Upload-Defer-Length", "yes")],
    ];
    for headers in bad_creations {
        let reply = Reply::read(post(headers).await.unwrap()).await;
        assert_eq!(reply.status, 400, "{headers:?}: {}", reply.describe());
        assert_eq!(reply.code(), "bad-header", "{headers:?}");
    }
    assert!(app.services.store.uploads().unwrap().is_empty());

    let path = tus.created(Some(10), TEXT).await;
    for offset in [None, Some("-5"), Some("zero"), Some("")] {
        let mut rb = tus
            .request(Method::PATCH, &path)
            .header("Content-Type", OCTETS)
            .body("01234");
        if let Some(o) = offset {
            rb = rb.header("Upload-Offset", o);
        }
        let reply = Reply::read(rb.send().await.unwrap()).await;
        assert_eq!(
            reply.status,
            400,
            "Upload-Offset {offset:?}: {}",
            reply.describe()
        );
        assert_eq!(reply.code(), "bad-header");
    }
    // A length once known cannot change.
    let reply = tus
        .patch_with(&path, 0, b"01234", &[("upload-length", "12")])
        .await;
    assert_eq!(reply.status, 400, "{}", reply.describe());
    assert_eq!(reply.code(), "length-fixed");
    assert_eq!(tus.offset(&path).await, 0);
}

#[tokio::test]
async fn metadata_that_is_not_unique_keys_with_base64_utf8_values_is_400() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let not_utf8 = format!("filename {}", B64.encode([0xff, 0xfe, b'a']));
    let twice = format!(
        "filename {},filename {}",
        B64.encode("a.txt"),
        B64.encode("b.txt")
    );
    for metadata in [
        "filename not*base64",
        not_utf8.as_str(),
        twice.as_str(),
        "filename YS50eHQ=,fi\tle YQ==",
    ] {
        let reply = Reply::read(
            tus.request(Method::POST, "/uploads")
                .header("Upload-Length", 10)
                .header("Upload-Metadata", metadata)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 400, "{metadata:?}: {}", reply.describe());
        assert_eq!(reply.code(), "bad-metadata", "{metadata:?}");
    }
    assert!(app.services.store.uploads().unwrap().is_empty());
}

#[tokio::test]
async fn an_upload_length_over_max_size_is_413() {
    let app = TestApp::spawn_with(|s| s.uploads.max_size = 1000).await;
    let tus = Tus::editor(&app);
    assert_eq!(tus.options().await.number("tus-max-size"), 1000);
    let reply = tus.create(Some(1001), TEXT).await;
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert_eq!(reply.code(), "too-large");
    assert_eq!(tus.create(Some(1000), TEXT).await.status, 201);

    // A deferred length is held to the same limit when it is given…
    let deferred = tus.created(None, TEXT).await;
    let reply = tus
        .patch_with(&deferred, 0, b"", &[("upload-length", "1001")])
        .await;
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert_eq!(reply.code(), "too-large");
    // …and its bytes may not pass it before then.
    let reply = Reply::read(
        tus.patch_request(&deferred, 0)
            .body(chunked(&[&[b'a'; 600], &[b'b'; 600]]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert_eq!(tus.offset(&deferred).await, 0);
}

#[tokio::test]
async fn a_body_that_would_go_past_upload_length_is_413_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let source = support::bytes(100, 10);
    let path = tus.created(Some(100), TEXT).await;
    tus.append(&path, 0, &source[..40]).await;
    let too_long = support::bytes(61, 11);

    // Known from Content-Length before a byte is written.
    let reply = tus.patch(&path, 40, &too_long).await;
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert_eq!(reply.code(), "past-length");
    assert_eq!(tus.offset(&path).await, 40);

    // Found while streaming a body of unknown length.
    let reply = Reply::read(
        tus.patch_request(&path, 40)
            .body(chunked(&[&too_long[..30], &too_long[30..]]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert_eq!(tus.offset(&path).await, 40);

    tus.append(&path, 40, &source[40..]).await;
    let sha = tus.stored(&path).await;
    assert_eq!(
        sha,
        support::sha256_hex(&source),
        "no byte of the refused bodies"
    );
}

#[tokio::test]
async fn an_unknown_upload_is_404_and_so_is_one_after_delete() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let unknown = "/uploads/00000000000000000000000000000000";
    let head = tus.head(unknown).await;
    assert_eq!(head.status, 404);
    assert!(!head.has("upload-offset"));
    assert_eq!(tus.patch(unknown, 0, b"abc").await.status, 404);
    assert_eq!(tus.delete(unknown).await.status, 404);
    assert_eq!(tus.status(unknown).await.status, 404);

    let path = tus.created(Some(100), TEXT).await;
    tus.append(&path, 0, b"0123456789").await;
    let part = yuanjiao::uploads::part_path(&app.services, &id_of(&path));
    assert!(part.exists());
    let deleted = tus.delete(&path).await;
    assert_eq!(deleted.status, 204, "{}", deleted.describe());
    assert!(deleted.body.is_empty());
    assert!(!part.exists(), "termination frees the bytes");
    let head = tus.head(&path).await;
    assert_eq!(head.status, 404);
    assert!(!head.has("upload-offset"));
    assert_eq!(tus.patch(&path, 10, b"abc").await.status, 404);
    assert_eq!(tus.delete(&path).await.status, 404);
    assert_eq!(tus.status(&path).await.status, 404);
}

#[tokio::test]
async fn an_unfinished_upload_past_its_expiry_is_410() {
    let (app, clock, start) = app_with_clock(|_| {}).await;
    let tus = Tus::editor(&app);
    let expire_after = app.services.settings.uploads.expire_after;
    let path = tus.created(Some(100), TEXT).await;
    let finished = tus.upload(&support::bytes(10, 12), TEXT).await;
    tus.stored(&finished).await;

    // Each PATCH moves the expiry on.
    clock.set(start + Duration::from_secs(3600));
    let reply = tus.patch(&path, 0, b"0123456789").await;
    assert_eq!(reply.status, 204);
    let expires = start + Duration::from_secs(3600) + expire_after;
    assert_eq!(
        reply.header("upload-expires"),
        httpdate::fmt_http_date(expires)
    );

    clock.set(expires - Duration::from_secs(1));
    assert_eq!(tus.offset(&path).await, 10, "a second before, still there");

    clock.set(expires);
    let head = tus.head(&path).await;
    assert_eq!(head.status, 410, "{}", head.describe());
    assert!(!head.has("upload-offset"));
    let reply = tus.patch(&path, 10, b"abc").await;
    assert_eq!(reply.status, 410, "{}", reply.describe());
    assert_eq!(reply.code(), "expired");
    assert_eq!(reply.header("tus-resumable"), TUS);

    // A finished upload does not expire.
    clock.set(expires + Duration::from_secs(30 * 86_400));
    assert_eq!(tus.offset(&finished).await, 10);
}

#[tokio::test]
async fn more_unfinished_uploads_than_max_in_flight_per_editor_is_429() {
    let app = TestApp::spawn_with(|s| s.uploads.max_in_flight_per_editor = 2).await;
    let tus = Tus::editor(&app);
    let first = tus.created(Some(10), TEXT).await;
    let second = tus.created(Some(10), TEXT).await;
    let reply = tus.create(Some(10), TEXT).await;
    assert_eq!(reply.status, 429, "{}", reply.describe());
    assert_eq!(reply.code(), "too-many");
    assert_eq!(reply.header("tus-resumable"), TUS);

    // A complete upload no longer counts, nor does a terminated one.
    tus.append(&first, 0, b"0123456789").await;
    let third = tus.created(Some(10), TEXT).await;
    assert_eq!(tus.create(Some(10), TEXT).await.status, 429);
    assert_eq!(tus.delete(&second).await.status, 204);
    tus.created(Some(10), TEXT).await;
    assert_eq!(tus.create(Some(10), TEXT).await.status, 429);
    assert_eq!(tus.offset(&third).await, 0);
}

#[tokio::test]
async fn each_editor_has_their_own_max_in_flight() {
    let app = TestApp::spawn_with(|s| s.uploads.max_in_flight_per_editor = 1).await;
    let alice = Tus::editor(&app);
    let bob = Tus::editor(&app);
    alice.created(Some(10), TEXT).await;
    assert_eq!(alice.create(Some(10), TEXT).await.status, 429);
    let reply = bob.create(Some(10), TEXT).await;
    assert_eq!(
        reply.status,
        201,
        "another editor's unfinished upload counted: {}",
        reply.describe()
    );
}

#[tokio::test]
async fn a_refused_creation_with_upload_leaves_no_upload_behind() {
    let app = TestApp::spawn_with(|s| s.uploads.max_in_flight_per_editor = 1).await;
    let tus = Tus::editor(&app);
    let reply = Reply::read(
        tus.request(Method::POST, "/uploads")
            .header("Upload-Length", 10)
            .header("Upload-Metadata", encode_metadata(TEXT))
            .header("Content-Type", OCTETS)
            .body(vec![b'x'; 20])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert!(!reply.has("location"));
    assert_eq!(
        app.services.store.uploads().unwrap(),
        vec![],
        "the refused POST left an upload no client can reach"
    );
    let next = tus.create(Some(10), TEXT).await;
    assert_eq!(next.status, 201, "{}", next.describe());
}

#[tokio::test]
async fn x_http_method_override_is_honoured() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let path = tus.created(Some(10), TEXT).await;
    let reply = Reply::read(
        tus.request(Method::POST, &path)
            .header("X-HTTP-Method-Override", "PATCH")
            .header("Upload-Offset", 0)
            .header("Content-Type", OCTETS)
            .body("0123456789")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.describe());
    assert_eq!(reply.number("upload-offset"), 10);
}

/// A county with one branch; a member, a station and a manager there.
fn outsiders(app: &TestApp) -> Vec<(&'static str, String)> {
    let s = &app.services;
    support::county_and_branch(&app.services);
    let member = Member {
        id: "m-1".into(),
        name: "卓玛".into(),
        org: "branch".into(),
        home_org: None,
        posts: vec![Post::Member],
        field: Field::Rural,
        joined: "2019-07-01".into(),
        languages: vec!["zh-Hans".parse().unwrap()],
    };
    people::create_member(s, &member, "4821", "test").unwrap();
    let station = Terminal {
        id: "s-1".into(),
        name: "村站".into(),
        org: "branch".into(),
        languages: vec!["zh-Hans".parse().unwrap()],
        audiences: vec![],
        disabled: false,
    };
    let token = |p| people::issue_token(s, p, None, "test").unwrap();
    vec![
        (
            "member",
            token(Principal::Member {
                member: "m-1".into(),
            }),
        ),
        (
            "station",
            people::create_terminal(s, &station, "test").unwrap(),
        ),
        (
            "manager",
            token(Principal::Manager {
                org: "county".into(),
            }),
        ),
    ]
}

#[tokio::test]
async fn uploads_need_an_editor_token_401_without_one_403_for_others() {
    let app = TestApp::spawn().await;
    let editor = Tus::editor(&app);
    let path = editor.created(Some(10), TEXT).await;
    editor.append(&path, 0, b"01234").await;

    let mut callers = vec![("nobody", Tus::anonymous(&app), 401)];
    for (who, token) in outsiders(&app) {
        callers.push((who, Tus::with_token(&app, token), 403));
    }
    callers.push((
        "an unknown token",
        Tus::with_token(&app, "not-a-token".into()),
        401,
    ));
    for (who, tus, expected) in &callers {
        let answers = [
            ("POST", tus.create(Some(10), TEXT).await),
            ("HEAD", tus.head(&path).await),
            ("PATCH", tus.patch(&path, 5, b"56789").await),
            ("DELETE", tus.delete(&path).await),
        ];
        for (method, reply) in answers {
            assert_eq!(
                reply.status,
                *expected,
                "{method} as {who}: {}",
                reply.describe()
            );
            assert_eq!(reply.header("tus-resumable"), TUS, "{method} as {who}");
            assert!(!reply.has("upload-offset"), "{method} as {who}");
        }
        let status = tus.status(&path).await;
        assert_eq!(status.status, *expected, "status as {who}");
    }
    assert_eq!(editor.offset(&path).await, 5, "nothing changed");
    assert_eq!(app.services.store.uploads().unwrap().len(), 1);
    let admin = Tus::as_principal(&app, Principal::Admin);
    assert_eq!(admin.offset(&path).await, 5, "the admin may");
}

#[tokio::test]
async fn an_upload_is_hidden_from_other_editors_and_an_admin_may_see_or_end_it() {
    let app = TestApp::spawn().await;
    let owner = Tus::editor(&app);
    let other = Tus::editor(&app);
    let path = owner.created(Some(10), TEXT).await;
    owner.append(&path, 0, b"01234").await;

    // To another editor it is not there: the same 404 as an id that never was.
    let unknown = "/uploads/00000000000000000000000000000000";
    for target in [path.as_str(), unknown] {
        let override_patch = other
            .request(Method::POST, target)
            .header("X-HTTP-Method-Override", "PATCH")
            .header("Upload-Offset", 5)
            .header("Content-Type", OCTETS)
            .body("56789");
        let answers = [
            ("HEAD", other.head(target).await),
            ("PATCH", other.patch(target, 5, b"56789").await),
            (
                "POST+PATCH",
                Reply::read(override_patch.send().await.unwrap()).await,
            ),
            ("DELETE", other.delete(target).await),
            ("status", other.status(target).await),
        ];
        for (what, reply) in answers {
            assert_eq!(reply.status, 404, "{what} {target}: {}", reply.describe());
            assert!(!reply.has("upload-offset"), "{what} {target}");
        }
    }
    assert_eq!(owner.offset(&path).await, 5, "nothing changed");

    // An admin may look and end it, but not write into another's upload.
    let admin = Tus::as_principal(&app, Principal::Admin);
    assert_eq!(admin.offset(&path).await, 5);
    let status = admin.status(&path).await;
    assert_eq!(status.status, 200, "{}", status.describe());
    assert_eq!(status.json()["upload"]["offset"], 5);
    let patch = admin.patch(&path, 5, b"56789").await;
    assert_eq!(patch.status, 403, "{}", patch.describe());
    assert_eq!(patch.code(), "forbidden");
    assert_eq!(owner.offset(&path).await, 5);
    let ended = admin.delete(&path).await;
    assert_eq!(ended.status, 204, "{}", ended.describe());
    assert_eq!(owner.head(&path).await.status, 404);
    assert!(app.services.store.uploads().unwrap().is_empty());

    // Its own upload an editor finishes as before.
    let mine = other.created(Some(3), TEXT).await;
    other.append(&mine, 0, b"abc").await;
    other.stored(&mine).await;
}

// ---------------------------------------------------------------------------------------------
// What a finished upload becomes

fn new_course(id: &str) -> Value {
    json!({
        "id": id,
        "title": {"zh-Hans": format!("课程{id}")},
        "themes": ["policy-affairs"],
        "audiences": ["rural"],
    })
}

/// Creates a course (a draft) with one lesson of `kind` named `{course}-1`.
async fn course_with_lesson(tus: &Tus<'_>, course: &str, kind: &str) -> String {
    let created = tus
        .json(Method::POST, "/api/v1/courses", Some(new_course(course)))
        .await;
    assert_eq!(created.status, 201, "{}", created.describe());
    let lesson = format!("{course}-1");
    let added = tus
        .json(
            Method::POST,
            &format!("/api/v1/courses/{course}/lessons"),
            Some(json!({
                "id": lesson, "kind": kind, "duration_ms": 60000,
                "title": {"zh-Hans": "第一课"},
            })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.describe());
    lesson
}

async fn draft_variants(tus: &Tus<'_>, course: &str) -> Value {
    let draft = tus
        .json(
            Method::GET,
            &format!("/api/v1/courses/{course}/draft"),
            None,
        )
        .await;
    assert_eq!(draft.status, 200, "{}", draft.describe());
    draft.json()["lessons"][0]["variants"].clone()
}

#[tokio::test]
async fn an_unplayable_video_is_rejected_with_the_probe_reason_and_attached_nowhere() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let lesson = course_with_lesson(&tus, "noise", "video").await;
    let noise = support::bytes(64_000, 13);
    let path = tus
        .upload(
            &noise,
            &[
                ("filename", "x.mp4"),
                ("lesson", &lesson),
                ("lang", "zh-Hans"),
                ("publish", "true"),
            ],
        )
        .await;
    let body = tus.settled(&path).await;
    let state = &body["upload"]["state"];
    assert_eq!(state["state"], "rejected", "{body}");
    let reason = state["reason"].as_str().unwrap();
    assert!(!reason.trim().is_empty(), "{body}");
    let expected = yuanjiao::media::jobs::admit(&app.services.settings, &{
        let p = app.dir.path().join("noise.mp4");
        std::fs::write(&p, &noise).unwrap();
        p
    })
    .unwrap_err()
    .to_string();
    assert_eq!(reason, expected, "the probe's own reason");
    assert_eq!(body["processing"], Value::Null);
    assert_eq!(body["upload"]["attach"]["done"], false, "{body}");

    assert_eq!(
        draft_variants(&tus, "noise").await,
        json!({}),
        "nothing attached"
    );
    let public = tus.json(Method::GET, "/api/v1/courses/noise", None).await;
    assert_eq!(public.status, 404, "nothing published");
    let sha = support::sha256_hex(&noise);
    assert_eq!(app.get(&format!("/media/{sha}"), &[]).await.status(), 404);
    assert!(!yuanjiao::uploads::part_path(&app.services, &id_of(&path)).exists());
    assert_eq!(tus.patch(&path, noise.len() as u64, b"x").await.status, 409);
}

#[tokio::test]
async fn an_uploaded_video_is_processed_then_attached_to_its_lesson_and_published() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let lesson = course_with_lesson(&tus, "film", "video").await;
    let video =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/av.mp4")).unwrap();
    let path = tus
        .created(
            Some(video.len() as u64),
            &[
                ("filename", "第一课.mp4"),
                ("lesson", &lesson),
                ("lang", "zh-Hans"),
                ("publish", "true"),
            ],
        )
        .await;
    let half = video.len() / 2;
    tus.append(&path, 0, &video[..half]).await;
    tus.append(&path, half as u64, &video[half..]).await;

    let body = tus.settled(&path).await;
    assert_eq!(body["upload"]["state"]["state"], "stored", "{body}");
    let sha = body["upload"]["state"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sha, support::sha256_hex(&video));
    assert_eq!(body["processing"]["status"], "queued", "{body}");
    assert_eq!(
        body["upload"]["attach"]["done"], false,
        "not before it is processed"
    );
    assert_eq!(draft_variants(&tus, "film").await, json!({}));

    // No media worker runs here: run the queued job now.
    let (job_sha, job) = yuanjiao::media::jobs::run_next(&app.services, &mut |_, _| {})
        .unwrap()
        .expect("the upload queued a job");
    assert_eq!(job_sha.to_hex(), sha);
    assert_eq!(
        job.status,
        yuanjiao::repo::JobStatus::Ready,
        "{:?}",
        job.error
    );

    let body = tus.status(&path).await.json();
    assert_eq!(body["processing"]["status"], "ready", "{body}");
    assert_eq!(body["upload"]["attach"]["done"], true, "{body}");
    assert_eq!(body["upload"]["attach"]["error"], Value::Null, "{body}");

    let public = tus
        .json(Method::GET, &format!("/api/v1/lessons/{lesson}"), None)
        .await;
    assert_eq!(public.status, 200, "published: {}", public.describe());
    let variant = &public.json()["variants"]["zh-Hans"];
    assert_eq!(variant["sha256"], sha.as_str(), "{variant}");
    assert_eq!(variant["mime"], "video/mp4");
    assert_eq!(variant["size"], video.len());
    let course = tus.json(Method::GET, "/api/v1/courses/film", None).await;
    assert_eq!(course.status, 200, "{}", course.describe());
    assert_eq!(course.json()["lessons"][0]["id"], lesson.as_str());
    assert_served(&app, &sha, &video).await;
}

#[tokio::test]
async fn an_uploaded_text_is_attached_to_its_text_lesson_without_processing() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let lesson = course_with_lesson(&tus, "reading", "text").await;
    let text = "# 第一课\n\n学习笔记。\n".repeat(200).into_bytes();
    let path = tus
        .upload(
            &text,
            &[
                ("filename", "notes.md"),
                ("lesson", &lesson),
                ("lang", "zh-Hans"),
            ],
        )
        .await;
    let body = tus
        .wait_for(&path, "attached", |b| b["upload"]["attach"]["done"] == true)
        .await;
    assert_eq!(body["upload"]["state"]["state"], "stored", "{body}");
    assert_eq!(body["upload"]["attach"]["error"], Value::Null, "{body}");
    assert_eq!(body["processing"], Value::Null, "{body}");
    assert_eq!(app.services.store.queued_jobs().unwrap(), 0);
    let sha = support::sha256_hex(&text);

    let variants = draft_variants(&tus, "reading").await;
    assert_eq!(variants["zh-Hans"]["sha256"], sha.as_str(), "{variants}");
    assert_eq!(variants["zh-Hans"]["mime"], "text/markdown; charset=utf-8");
    let public = tus.json(Method::GET, "/api/v1/courses/reading", None).await;
    assert_eq!(public.status, 404, "publish was not asked for");
    assert_served(&app, &sha, &text).await;
}

#[tokio::test]
async fn an_upload_for_an_unknown_lesson_or_language_is_refused_at_creation() {
    let app = TestApp::spawn().await;
    let tus = Tus::editor(&app);
    let lesson = course_with_lesson(&tus, "target", "text").await;
    for (target, lang) in [("no-such-lesson", "zh-Hans"), (lesson.as_str(), "xx-Nope")] {
        let reply = tus
            .create(
                Some(10),
                &[("filename", "a.md"), ("lesson", target), ("lang", lang)],
            )
            .await;
        assert_eq!(reply.status, 422, "{target} {lang}: {}", reply.describe());
        assert_eq!(reply.code(), "bad-target");
    }
    assert!(app.services.store.uploads().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Sweeping

#[tokio::test]
async fn the_sweep_removes_expired_unfinished_uploads_with_their_files_and_nothing_else() {
    let (app, clock, start) = app_with_clock(|_| {}).await;
    let tus = Tus::editor(&app);
    let expire_after = app.services.settings.uploads.expire_after;
    let stale = tus.created(Some(100), TEXT).await;
    tus.append(&stale, 0, b"0123456789").await;
    let done_source = support::bytes(50, 14);
    let done = tus.upload(&done_source, TEXT).await;
    let done_sha = tus.stored(&done).await;
    let stale_part = yuanjiao::uploads::part_path(&app.services, &id_of(&stale));
    let stray = stale_part.with_file_name("stray.part");
    std::fs::write(&stray, b"left by nobody").unwrap();

    clock.set(start + expire_after + Duration::from_secs(1));
    let fresh = tus.created(Some(100), TEXT).await;
    let fresh_part = yuanjiao::uploads::part_path(&app.services, &id_of(&fresh));

    let removed = yuanjiao::uploads::sweep(&app.services).unwrap();
    assert_eq!(removed, 2, "the expired upload and the stray file");
    assert!(!stale_part.exists());
    assert!(!stray.exists());
    assert!(app.services.store.upload(&id_of(&stale)).unwrap().is_none());
    assert_eq!(tus.head(&stale).await.status, 404);

    assert!(fresh_part.exists());
    assert_eq!(tus.offset(&fresh).await, 0);
    assert_eq!(tus.stored(&done).await, done_sha);
    assert_served(&app, &done_sha, &done_source).await;
    assert_eq!(yuanjiao::uploads::sweep(&app.services).unwrap(), 0);
}
