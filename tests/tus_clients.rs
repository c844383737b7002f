//! Real tus clients from outside the project against the real server: the Python `tuspy` and
//! the JavaScript `tus-js-client` (on Node) each upload a file in chunks, are interrupted in the
//! middle, and resume from what the server says it has; the stored blob is the source, byte for
//! byte. The clients are driven by tests/clients/tus_upload.{py,mjs}, which scripts/install-deps
//! installs into tests/clients/.venv and tests/clients/node_modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::TestApp;
use yuanjiao::domain::org::Principal;
use yuanjiao::people;

/// Longest a client run may take before the test kills it and fails.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn clients_dir() -> PathBuf {
    root().join("tests/clients")
}

/// A path install-deps makes; its absence fails the test with what to run.
fn installed(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run scripts/install-deps (make test does)",
        path.display()
    );
    path
}

/// The interpreter and script for one client.
#[derive(Clone, Copy)]
enum Client {
    Tuspy,
    TusJs,
}

impl Client {
    fn command(self) -> Command {
        match self {
            Client::Tuspy => {
                let python = installed(clients_dir().join(".venv/bin/python"), "tuspy's venv");
                let mut cmd = Command::new(python);
                cmd.arg(clients_dir().join("tus_upload.py"));
                cmd
            }
            Client::TusJs => {
                installed(
                    clients_dir().join("node_modules/tus-js-client/package.json"),
                    "tus-js-client",
                );
                let node = which("node").unwrap_or_else(|| {
                    panic!("node is not on PATH: run scripts/install-deps (make test does)")
                });
                let mut cmd = Command::new(node);
                cmd.arg(clients_dir().join("tus_upload.mjs"));
                cmd
            }
        }
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// One run of a client script: its last stdout line, parsed.
struct Run {
    summary: Value,
    stderr: String,
}

/// Runs a client off the runtime's threads (the server under test runs on them), killing it
/// after [`CLIENT_TIMEOUT`]. Fails the test unless it exits 0 with a JSON summary.
async fn run(client: Client, args: Vec<String>, logs: &Path) -> Run {
    let logs = logs.to_path_buf();
    let mut cmd = client.command();
    tokio::task::spawn_blocking(move || {
        let n = std::fs::read_dir(&logs).unwrap().count();
        let out_path = logs.join(format!("{n}.out"));
        let err_path = logs.join(format!("{n}.err"));
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            // The clients talk to 127.0.0.1 only.
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env("NO_PROXY", "127.0.0.1,localhost");
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > CLIENT_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = std::fs::read_to_string(&out_path).unwrap();
        let stderr = std::fs::read_to_string(&err_path).unwrap();
        let Some(status) = status else {
            panic!("{args:?} ran past {CLIENT_TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        };
        assert!(
            status.success(),
            "{args:?} failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        let last = stdout.lines().last().unwrap_or_default();
        let summary: Value = serde_json::from_str(last).unwrap_or_else(|e| {
            panic!("the last line is not JSON ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}")
        });
        Run { summary, stderr }
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A server, an editor's token, and a scratch folder for the file, the client's URL store and
/// the client's output.
struct Setup {
    app: TestApp,
    token: String,
    scratch: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Setup {
        let app = TestApp::spawn().await;
        let token = people::issue_token(&app.services, Principal::Editor, None, "test").unwrap();
        let scratch = tempfile::tempdir().unwrap();
        std::fs::create_dir(scratch.path().join("logs")).unwrap();
        Setup {
            app,
            token,
            scratch,
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.scratch.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn logs(&self) -> PathBuf {
        self.scratch.path().join("logs")
    }

    /// The arguments every run of a client starts with.
    fn args(&self, file: &Path, chunk: usize, state: &str) -> Vec<String> {
        vec![
            self.app.url("/uploads"),
            self.token.clone(),
            file.display().to_string(),
            chunk.to_string(),
            self.scratch.path().join(state).display().to_string(),
        ]
    }

    /// `GET /api/v1/uploads/{id}`'s `upload`.
    async fn status(&self, id: &str) -> Value {
        let resp = self
            .app
            .get(
                &format!("/api/v1/uploads/{id}"),
                &[("authorization", &format!("Bearer {}", self.token))],
            )
            .await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "upload status: {body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        json["upload"].clone()
    }

    /// Waits for the upload to become a blob; returns its sha256.
    async fn stored(&self, id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let upload = self.status(id).await;
            match upload["state"]["state"].as_str().unwrap_or_default() {
                "stored" => return upload["state"]["sha256"].as_str().unwrap().to_string(),
                "rejected" => panic!("the server rejected the upload: {upload}"),
                _ if Instant::now() > deadline => panic!("not stored after 60 s: {upload}"),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// The stored blob is the source: same sha256, same bytes.
    async fn check_blob(&self, id: &str, source: &[u8]) {
        let sha256 = self.stored(id).await;
        assert_eq!(sha256, support::sha256_hex(source), "the blob's sha256");
        let resp = self.app.get(&format!("/media/{sha256}"), &[]).await;
        assert_eq!(resp.status(), 200);
        let served = resp.bytes().await.unwrap();
        assert_eq!(served.len(), source.len(), "the blob's size");
        assert!(
            served[..] == source[..],
            "the blob's bytes differ from the source"
        );
        assert_eq!(support::sha256_hex(&served), support::sha256_hex(source));
    }
}

/// The upload's id, from the URL a client was given (`http://host:port/uploads/<id>`).
fn upload_id(summary: &Value) -> String {
    let url = summary["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no url: {summary}"));
    let id = url.rsplit('/').next().unwrap();
    assert!(
        !id.is_empty() && url.contains("/uploads/"),
        "upload url {url}"
    );
    id.to_string()
}

fn number(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a number: {summary}"))
}

/// A few MB of deterministic Markdown-ish text, so the upload needs no media processing.
fn markdown(len: usize, seed: u64) -> Vec<u8> {
    let mut text: Vec<u8> = support::bytes(len, seed)
        .into_iter()
        .map(|b| b"abcdefghijklmnopqrstuvwxyz    .,#*-"[usize::from(b) % 35])
        .collect();
    for i in (79..len).step_by(80) {
        text[i] = b'\n';
    }
    text
}

/// Phase one left a partial upload on the server: what the client was told, and no more than
/// that is missing.
async fn check_interrupted(setup: &Setup, first: &Run, length: usize) -> (String, u64) {
    let id = upload_id(&first.summary);
    let told = number(&first.summary, "offset");
    let upload = setup.status(&id).await;
    let offset = upload["offset"].as_u64().unwrap();
    assert_eq!(upload["state"]["state"], "receiving", "{upload}");
    assert!(
        0 < told && told <= offset && offset < length as u64,
        "after the interruption the client was told {told}, the server has {offset} of {length}: {upload}\n{}",
        first.stderr
    );
    (id, offset)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_uploads_in_chunks_is_interrupted_and_resumes() {
    let setup = Setup::new().await;
    let source = markdown(3 * 1024 * 1024 + 12_345, 11);
    let file = setup.write("lesson-notes.md", &source);
    let chunk = 256 * 1024;
    let chunks = source.len().div_ceil(chunk);

    let mut args = setup.args(&file, chunk, "tuspy-urls.json");
    args.extend(["--stop-after-chunks".into(), (chunks / 2).to_string()]);
    let first = run(Client::Tuspy, args, &setup.logs()).await;
    assert!(first.summary["resumed_from"].is_null(), "{}", first.summary);
    assert_eq!(
        number(&first.summary, "offset"),
        (chunks / 2 * chunk) as u64
    );
    let (id, offset) = check_interrupted(&setup, &first, source.len()).await;
    assert_eq!(offset, (chunks / 2 * chunk) as u64);

    // A new process: tuspy finds the URL by the file's fingerprint and asks for the offset.
    let second = run(
        Client::Tuspy,
        setup.args(&file, chunk, "tuspy-urls.json"),
        &setup.logs(),
    )
    .await;
    assert_eq!(upload_id(&second.summary), id, "resumed the same upload");
    assert_eq!(number(&second.summary, "resumed_from"), offset);
    assert_eq!(number(&second.summary, "offset"), source.len() as u64);
    setup.check_blob(&id, &source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_js_client_is_aborted_between_chunks_and_resumes() {
    let setup = Setup::new().await;
    let source = markdown(3 * 1024 * 1024 + 54_321, 12);
    let file = setup.write("lesson-notes.md", &source);
    let chunk = 256 * 1024;

    let mut args = setup.args(&file, chunk, "tus-js-urls.json");
    args.extend([
        "--interrupt-at".into(),
        (source.len() / 2).to_string(),
        "--cut".into(),
        "chunk".into(),
        "--filetype".into(),
        "text/markdown".into(),
    ]);
    let first = run(Client::TusJs, args, &setup.logs()).await;
    assert_eq!(first.summary["outcome"], "interrupted", "{}", first.summary);
    let (id, offset) = check_interrupted(&setup, &first, source.len()).await;
    assert_eq!(offset % chunk as u64, 0, "aborted between chunks");
    assert!(offset >= (source.len() / 2) as u64);

    let second = run(
        Client::TusJs,
        setup.args(&file, chunk, "tus-js-urls.json"),
        &setup.logs(),
    )
    .await;
    assert_eq!(second.summary["outcome"], "done", "{}", second.summary);
    assert_eq!(upload_id(&second.summary), id, "resumed the same upload");
    assert_eq!(number(&second.summary, "resumed_from"), offset);
    assert!(
        !second.summary["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "POST"),
        "the resumed run created no new upload: {}",
        second.summary
    );
    assert_eq!(number(&second.summary, "offset"), source.len() as u64);
    setup.check_blob(&id, &source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_js_client_cut_off_in_the_middle_of_a_request_resumes() {
    let setup = Setup::new().await;
    let source = markdown(5 * 1024 * 1024 + 777, 13);
    let file = setup.write("lesson-notes.md", &source);
    let chunk = 1024 * 1024;

    // Aborted while a PATCH body is being sent, at the first progress event past 2.5 MiB.
    let mut args = setup.args(&file, chunk, "tus-js-urls.json");
    args.extend([
        "--interrupt-at".into(),
        (5 * 1024 * 1024 / 2).to_string(),
        "--cut".into(),
        "request".into(),
    ]);
    let first = run(Client::TusJs, args, &setup.logs()).await;
    assert_eq!(first.summary["outcome"], "interrupted", "{}", first.summary);
    let sent = first.summary["requests"].as_array().unwrap();
    assert_eq!(
        sent.last().unwrap(),
        "PATCH",
        "the run ended in a PATCH: {}",
        first.summary
    );
    assert_eq!(
        number(&first.summary, "answered") + 1,
        sent.len() as u64,
        "and that PATCH got no answer: {}\n{}",
        first.summary,
        first.stderr
    );
    let told = number(&first.summary, "offset");
    assert_eq!(told % chunk as u64, 0, "{}", first.summary);
    let (id, _) = check_interrupted(&setup, &first, source.len()).await;

    let second = run(
        Client::TusJs,
        setup.args(&file, chunk, "tus-js-urls.json"),
        &setup.logs(),
    )
    .await;
    assert_eq!(second.summary["outcome"], "done", "{}", second.summary);
    assert_eq!(upload_id(&second.summary), id, "resumed the same upload");
    // The server may have kept some bytes of the cut-off PATCH; the client resumes from
    // whatever it says.
    let resumed_from = number(&second.summary, "resumed_from");
    assert!(
        resumed_from >= told && resumed_from < source.len() as u64,
        "told {told}, resumed from {resumed_from}\n{}",
        second.stderr
    );
    eprintln!(
        "acknowledged before the cut: {told}; resumed from {resumed_from} ({} bytes of the cut-off PATCH kept)",
        resumed_from - told
    );
    assert_eq!(number(&second.summary, "offset"), source.len() as u64);
    setup.check_blob(&id, &source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_uploads_a_video_that_is_probed_and_stored() {
    let setup = Setup::new().await;
    let source = std::fs::read(root().join("tests/fixtures/av.mp4")).unwrap();
    let file = setup.write("av.mp4", &source);
    let chunk = 8 * 1024;
    let chunks = source.len().div_ceil(chunk);

    let mut args = setup.args(&file, chunk, "tuspy-urls.json");
    args.extend(["--stop-after-chunks".into(), (chunks / 2).to_string()]);
    let first = run(Client::Tuspy, args, &setup.logs()).await;
    let (id, offset) = check_interrupted(&setup, &first, source.len()).await;

    let second = run(
        Client::Tuspy,
        setup.args(&file, chunk, "tuspy-urls.json"),
        &setup.logs(),
    )
    .await;
    assert_eq!(upload_id(&second.summary), id);
    assert_eq!(number(&second.summary, "resumed_from"), offset);
    setup.check_blob(&id, &source).await;
}

/// The whole way: an editor's off-the-shelf client uploads a lesson video over a link that
/// drops, naming the lesson and language; once processed, it is that lesson's variant in the
/// published catalogue, with its renditions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_interrupted_and_resumed_becomes_the_published_variant_it_names() {
    use yuanjiao::catalog;
    use yuanjiao::domain::catalog::{Audience, LessonKind, Theme};
    use yuanjiao::domain::catalog_edit::{Edit, NewCourse, NewLesson};
    let setup = Setup::new().await;
    let services = &setup.app.services;
    let zh = |text: &str| [(yuanjiao::domain::lang::Lang::chinese(), text.to_string())].into();
    catalog::create_course(
        services,
        NewCourse {
            id: "uploaded-course".into(),
            title: zh("上传的课程"),
            description: Default::default(),
            translation: Default::default(),
            themes: vec![Theme::PracticalSkills],
            audiences: vec![Audience::Rural],
            programs: vec![],
        },
        "test",
    )
    .unwrap();
    let lesson = NewLesson {
        id: "uploaded-course-01".into(),
        kind: LessonKind::Video,
        duration_ms: 10_000,
        title: zh("第一课"),
    };
    catalog::edit_course(
        services,
        "uploaded-course",
        vec![Edit::AddLesson(lesson)],
        "test",
    )
    .unwrap();

    let source = std::fs::read(root().join("tests/fixtures/av.mp4")).unwrap();
    let file = setup.write("lesson.mp4", &source);
    let chunk = 16 * 1024;
    let meta = [
        "--meta",
        "lesson=uploaded-course-01",
        "--meta",
        "lang=zh-Hans",
        "--meta",
        "publish=true",
    ]
    .map(String::from);
    let mut args = setup.args(&file, chunk, "tuspy-urls.json");
    args.extend(meta.clone());
    args.extend(["--stop-after-chunks".into(), "2".into()]);
    let first = run(Client::Tuspy, args, &setup.logs()).await;
    let (id, _) = check_interrupted(&setup, &first, source.len()).await;
    let mut args = setup.args(&file, chunk, "tuspy-urls.json");
    args.extend(meta);
    run(Client::Tuspy, args, &setup.logs()).await;
    setup.check_blob(&id, &source).await;
    let sha256 = setup.stored(&id).await;

    // The media worker's part, run here: renditions, thumbnail, HLS.
    let services = setup.app.services.clone();
    tokio::task::spawn_blocking(move || {
        yuanjiao::media::jobs::run_next(&services, &mut |_, _| {}).unwrap()
    })
    .await
    .unwrap()
    .expect("the upload queued a media job");

    let upload = setup.status(&id).await;
    assert_eq!(upload["attach"]["done"], true, "{upload}");
    assert_eq!(upload["attach"]["error"], Value::Null, "{upload}");
    let resp = setup
        .app
        .get("/api/v1/lessons/uploaded-course-01", &[])
        .await;
    assert_eq!(resp.status(), 200, "the course is published");
    let lesson: Value = resp.json().await.unwrap();
    assert_eq!(lesson["variants"]["zh-Hans"]["sha256"], sha256.as_str());
    let asset: Value = setup
        .app
        .get(&format!("/api/v1/assets/{sha256}"), &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        asset["files"]["hls/master.m3u8"].is_string(),
        "processed: {asset}"
    );
}
