//! The media job queue survives `kill -9`: the interrupted job is redone after a restart, no
//! partial output is kept, and the outputs are the same as an uninterrupted run's; a job
//! interrupted on every try is failed after `media.max_attempts`, not retried for ever.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use yuanjiao::clock::SystemClock;
use yuanjiao::config::Settings;
use yuanjiao::domain::digest::Sha256;
use yuanjiao::media::jobs;
use yuanjiao::repo::JobStatus;
use yuanjiao::services::Services;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn settings(data: &Path) -> Settings {
    let mut s = Settings::default();
    s.storage.data_dir = data.to_path_buf();
    s.storage.min_free_bytes = 0;
    s.media.threads = 2;
    s.media.worker_command = env!("CARGO_BIN_EXE_yuanjiao").into();
    s
}

/// A source long enough to be caught mid-job.
fn make_source(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("long-lesson.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25:duration=30",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=30",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

/// Stores and queues the source in `data`; returns its address.
fn queue(data: &Path, source: &Path) -> Sha256 {
    let services = Services::open(settings(data), Arc::new(SystemClock)).unwrap();
    let probe = jobs::admit(&services.settings, source).unwrap();
    let (stored, _) = services
        .add_blob(std::fs::File::open(source).unwrap(), "long-lesson.mp4")
        .unwrap();
    assert!(jobs::register(&services, &stored.sha256, &probe).unwrap());
    services.store.flush().unwrap();
    stored.sha256
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

fn derived(services: &Services, sha: &Sha256) -> Vec<(String, String)> {
    services.store.derived_files(sha).unwrap()
}

/// `yuanjiao serve` on `data`; the server and the address it listens on.
fn serve(data: &Path) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuanjiao"))
        .arg("serve")
        .env("YJ__STORAGE__DATA_DIR", data)
        .env("YJ__STORAGE__MIN_FREE_BYTES", "0")
        .env("YJ__SERVER__BIND", "127.0.0.1:0")
        .env("YJ__LOG__FILTER", "warn")
        .env("YJ__MEDIA__THREADS", "2")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Killed(child);
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("http://"))
        .expect("the server says where it listens");
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    (server, addr)
}

#[test]
fn a_job_killed_mid_way_is_redone_after_restart_with_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path());
    let (killed_dir, clean_dir) = (dir.path().join("killed"), dir.path().join("clean"));
    let sha = queue(&killed_dir, &source);

    let (mut server, addr) = serve(&killed_dir);
    let started = Instant::now();
    loop {
        let asset: serde_json::Value =
            serde_json::from_str(&get(&addr, &format!("/api/v1/assets/{sha}"))).unwrap();
        let job = &asset["processing"];
        if job["status"] == "processing" && job["percent"].as_u64().unwrap_or(0) >= 5 {
            break;
        }
        assert_ne!(
            job["status"], "ready",
            "the job finished before it could be interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "job never got going: {asset}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.0.kill().unwrap(); // SIGKILL: no chance to clean up
    server.0.wait().unwrap();
    drop(server);

    let reopened = Services::open(settings(&killed_dir), Arc::new(SystemClock)).unwrap();
    let job = reopened.store.job(&sha).unwrap().unwrap();
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Queued, 1),
        "back in the queue after the restart"
    );
    assert!(
        derived(&reopened, &sha).is_empty(),
        "nothing of the interrupted job is referenced"
    );
    assert_eq!(
        std::fs::read_dir(killed_dir.join("tmp")).unwrap().count(),
        0,
        "its scratch files are gone"
    );
    let (_, finished) = jobs::run_next(&reopened, &mut |_, _| {}).unwrap().unwrap();
    assert_eq!((finished.status, finished.attempts), (JobStatus::Ready, 2));

    queue(&clean_dir, &source);
    let clean = Services::open(settings(&clean_dir), Arc::new(SystemClock)).unwrap();
    let (_, job) = jobs::run_next(&clean, &mut |_, _| {}).unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Ready);
    assert_eq!(
        derived(&reopened, &sha),
        derived(&clean, &sha),
        "the same files, byte for byte"
    );
}

#[test]
fn a_job_interrupted_with_its_server_on_every_start_is_failed_after_max_attempts() {
    use support::process::{alive, media_workers, wait_until};
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path());
    let data = dir.path().join("data");
    let sha = queue(&data, &source);
    for attempt in 1..=3u64 {
        // As if the file took the whole server down with it, on every start.
        let (mut server, addr) = serve(&data);
        let workers = wait_until("the job at work", Duration::from_secs(120), || {
            let asset: serde_json::Value =
                serde_json::from_str(&get(&addr, &format!("/api/v1/assets/{sha}"))).unwrap();
            let job = &asset["processing"];
            assert_ne!(
                job["status"], "ready",
                "the job finished before it could be interrupted"
            );
            let workers = media_workers(server.0.id());
            (job["status"] == "processing" && job["attempts"] == attempt && !workers.is_empty())
                .then_some(workers)
        });
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        wait_until("its worker gone with it", Duration::from_secs(10), || {
            workers.iter().all(|w| !alive(*w)).then_some(())
        });
    }
    let reopened = Services::open(settings(&data), Arc::new(SystemClock)).unwrap();
    let job = reopened.store.job(&sha).unwrap().unwrap();
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Failed, 3),
        "{job:?}"
    );
    assert!(
        job.error.as_deref().unwrap().contains("on each of 3 tries"),
        "{job:?}"
    );
    assert!(
        jobs::run_next(&reopened, &mut |_, _| {}).unwrap().is_none(),
        "not queued again"
    );
    assert!(derived(&reopened, &sha).is_empty());
}
