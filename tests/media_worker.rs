//! FFmpeg runs in `yuanjiao media worker` processes: a worker that overruns its wall-clock,
//! memory or CPU limit, or crashes, fails its job (or its upload's probe) with the reason and
//! takes nothing else with it; a job or probe that never finishes is given up after
//! `media.max_attempts`, across restarts too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::process::{self, Sandbox, Server};
use support::{hostile, TestApp};
use yuanjiao::clock::SystemClock;
use yuanjiao::config::Settings;
use yuanjiao::domain::digest::Sha256;
use yuanjiao::domain::org::Principal;
use yuanjiao::media::jobs;
use yuanjiao::repo::{Job, JobStatus};
use yuanjiao::services::Services;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Probes (under the default limits), stores and queues `source` in `app`.
fn queue(app: &TestApp, source: &Path) -> Sha256 {
    let mut probing = Settings::default();
    probing.media.worker_command = support::WORKER.into();
    let probe = jobs::admit(&probing, source).unwrap();
    let name = source.file_name().unwrap().to_str().unwrap();
    let (stored, _) = app
        .services
        .add_blob(std::fs::File::open(source).unwrap(), name)
        .unwrap();
    assert!(jobs::register(&app.services, &stored.sha256, &probe).unwrap());
    stored.sha256
}

/// Runs the queue dry in this process; returns (status, attempts) of each run.
fn run_all(app: &TestApp) -> Vec<(JobStatus, u32, Job)> {
    let mut runs = Vec::new();
    while let Some((_, job)) = jobs::run_next(&app.services, &mut |_, _| {}).unwrap() {
        runs.push((job.status, job.attempts, job));
    }
    runs
}

async fn still_serving(app: &TestApp) {
    assert_eq!(app.get("/healthz", &[]).await.status(), 200);
}

#[tokio::test]
async fn a_job_over_its_wall_time_is_killed_and_failed_with_the_reason() {
    let app = TestApp::spawn_with(|s| {
        s.media.worker_wall_time = Duration::from_millis(300);
        s.media.max_attempts = 2;
    })
    .await;
    let sha = queue(&app, &fixture("lesson-720p.mp4"));
    let runs = run_all(&app);
    let summary: Vec<_> = runs.iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(summary, [(JobStatus::Queued, 1), (JobStatus::Failed, 2)]);
    let job = &runs[1].2;
    assert_eq!(
        job.error.as_deref(),
        Some("the media worker was killed after 300 ms wall time")
    );
    assert!(!job.unplayable, "the limit's fault, not the file's");
    assert!(app.services.store.derived_files(&sha).unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(app.services.settings.storage.data_dir.join("tmp"))
            .unwrap()
            .count(),
        0,
        "the killed worker's files are gone"
    );
    still_serving(&app).await;
}

#[tokio::test]
async fn a_job_over_its_memory_limit_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let source = hostile::full_hd_source(dir.path());
    let app = TestApp::spawn_with(|s| {
        s.media.worker_memory_bytes = 384 << 20;
        s.media.max_attempts = 1;
    })
    .await;
    queue(&app, &source);
    let runs = run_all(&app);
    let job = &runs.last().unwrap().2;
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 1));
    assert_eq!(
        job.error.as_deref(),
        Some("the media worker ran out of memory (limit 384 MiB)")
    );
    still_serving(&app).await;
}

#[tokio::test]
async fn a_job_over_its_cpu_time_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let source = hostile::long_source(dir.path(), 20);
    let app = TestApp::spawn_with(|s| {
        s.media.worker_cpu_time = Duration::from_secs(1);
        s.media.max_attempts = 1;
    })
    .await;
    queue(&app, &source);
    let job = run_all(&app).pop().unwrap().2;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some("the media worker used up its 1 s of CPU time")
    );
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_whose_probe_worker_crashes_is_refused_after_max_attempts_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A worker that dies as FFmpeg would on a poisoned file.
    let crasher = hostile::script(&dir.path().join("crasher"), "kill -SEGV $$");
    let app = TestApp::spawn_with(|s| {
        s.media.worker_command = crasher.clone();
        s.media.max_attempts = 3;
    })
    .await;
    let token =
        yuanjiao::people::issue_token(&app.services, Principal::Editor, None, "test").unwrap();
    let base = format!("http://{}", app.addr);
    let video = std::fs::read(fixture("av.mp4")).unwrap();
    let id = support::upload::send(&app.client, &base, &token, "av.mp4", "video/mp4", &video).await;
    let body =
        support::upload::settled(&app.client, &base, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(body["upload"]["state"]["state"], "rejected", "{body}");
    assert_eq!(
        body["upload"]["state"]["reason"],
        "cannot probe: the media worker crashed with signal 11 (SIGSEGV)"
    );
    let upload = app.services.store.upload(&id).unwrap().unwrap();
    assert_eq!(upload.verify_attempts, 3);
    still_serving(&app).await;
}

/// Stores and queues `source` in the sandbox's data dir, before any server runs.
fn queue_in(sb: &Sandbox, source: &Path) -> Sha256 {
    let mut s = Settings::default();
    s.storage.data_dir = sb.path().join("data");
    s.storage.min_free_bytes = 0;
    s.media.worker_command = support::WORKER.into();
    let services = Services::open(s, Arc::new(SystemClock)).unwrap();
    let probe = jobs::admit(&services.settings, source).unwrap();
    let (stored, _) = services
        .add_blob(std::fs::File::open(source).unwrap(), "long-lesson.mp4")
        .unwrap();
    assert!(jobs::register(&services, &stored.sha256, &probe).unwrap());
    services.store.flush().unwrap();
    stored.sha256
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn asset(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    server: &Server,
    sha: &Sha256,
) -> serde_json::Value {
    rt.block_on(async {
        client
            .get(server.url(&format!("/api/v1/assets/{sha}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

#[test]
fn a_worker_that_crashes_on_every_try_fails_its_job_after_max_attempts_while_the_server_serves() {
    let sb = Sandbox::new();
    let source = hostile::long_source(sb.path(), 30);
    let sha = queue_in(&sb, &source);
    let rt = runtime();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    // A slow preset, so each try is surely caught in the middle.
    let server = Server::start_with(
        &sb,
        &client,
        &rt,
        0,
        &[("YJ__MEDIA__X264_PRESET", "slower")],
    );
    for attempt in 1..=3u64 {
        // Caught in the middle of its work, the worker is crashed as a poisoned file would
        // crash FFmpeg: by an assertion, which aborts. (A SIGSEGV sent from outside is survived
        // once: Rust's stack-overflow handler takes it, finds no fault, and returns.)
        let worker = process::wait_until("a worker at work", Duration::from_secs(60), || {
            let job = &asset(&rt, &client, &server, &sha)["processing"];
            let working = job["status"] == "processing"
                && job["attempts"] == attempt
                && job["percent"].as_u64().unwrap_or(0) >= 1;
            let workers = process::media_workers(server.pid());
            (working && workers.len() == 1).then(|| workers[0])
        });
        process::signal(worker, "ABRT");
        process::wait_until("the crash noticed", Duration::from_secs(30), || {
            let job = &asset(&rt, &client, &server, &sha)["processing"];
            (job["status"] != "processing" || job["attempts"] != attempt).then_some(())
        });
        let health = rt
            .block_on(client.get(server.url("/healthz")).send())
            .unwrap();
        assert_eq!(health.status(), 200, "{}", server.log_text());
    }
    let job = &asset(&rt, &client, &server, &sha)["processing"];
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["attempts"], 3);
    assert_eq!(
        job["error"],
        "the media worker crashed with signal 6 (SIGABRT)"
    );
    assert!(process::alive(server.pid()), "{}", server.log_text());
    assert!(
        process::media_workers(server.pid()).is_empty(),
        "no fourth try"
    );
}

#[test]
fn an_upload_interrupted_in_verification_at_every_start_is_refused_not_probed_again() {
    let sb = Sandbox::new();
    // A probe that never finishes, so the server can be killed in the middle of it.
    let stuck = hostile::script(&sb.path().join("stuck-worker"), "exec sleep 600");
    let rt = runtime();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = sb
        .ok(&["admin", "token", "--role", "editor"])
        .trim()
        .to_string();
    let video = std::fs::read(fixture("av.mp4")).unwrap();
    let start = |n: usize| {
        let env = [("YJ__MEDIA__WORKER_COMMAND", stuck.to_str().unwrap())];
        Server::start_with(&sb, &client, &rt, n, &env)
    };
    let mut id = None;
    for n in 0..3 {
        let mut server = start(n);
        if id.is_none() {
            id = Some(rt.block_on(support::upload::send(
                &client,
                &server.base,
                &token,
                "av.mp4",
                "video/mp4",
                &video,
            )));
        }
        let prober = process::wait_until("a probe under way", Duration::from_secs(30), || {
            process::children(server.pid()).first().copied()
        });
        server.kill();
        process::signal(prober, "KILL");
    }
    let server = start(3);
    let body = rt.block_on(support::upload::settled(
        &client,
        &server.base,
        &token,
        id.as_deref().unwrap(),
        Duration::from_secs(30),
    ));
    assert_eq!(body["upload"]["state"]["state"], "rejected", "{body}");
    let reason = body["upload"]["state"]["reason"].as_str().unwrap();
    assert!(reason.contains("on each of 3 tries"), "{reason}");
    assert!(
        process::children(server.pid()).is_empty(),
        "not probed a fourth time"
    );
}
