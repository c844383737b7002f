//! Browser scenarios: `node tests/browser/<name>.mjs` drives Debian's headless Chromium through
//! playwright-core (installed into tests/clients by scripts/install-deps) and prints one JSON
//! line. Screenshots land in `target/browser-artifacts/`, kept after the run as test artefacts.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest one scenario may run before it is killed and the test fails.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where screenshots and page weights are written.
pub fn artifacts() -> PathBuf {
    root().join("target/browser-artifacts")
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is missing ({}): run scripts/install-deps (make test does)",
        path.display()
    );
    path
}

/// Runs scenario `name` against the server at `base` with `fixture` (ids, tokens) and returns
/// its JSON result; fails the test with the scenario's output unless it reports `"ok": true`.
/// Runs off the async runtime's threads, since the server under test may run on them.
pub async fn run(name: &str, base: &str, fixture: &Value) -> Value {
    let script = require(
        root().join(format!("tests/browser/{name}.mjs")),
        "the scenario",
    );
    require(
        root().join("tests/clients/node_modules/playwright-core/package.json"),
        "playwright-core",
    );
    require(PathBuf::from("/usr/bin/chromium"), "Debian's chromium");
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .env("YJ_BASE", base)
        .env("YJ_ARTIFACTS", artifacts())
        .env("YJ_FIXTURE", fixture.to_string())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let name = name.to_string();
    tokio::task::spawn_blocking(move || wait(cmd, &name))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

fn wait(mut cmd: Command, name: &str) -> Value {
    let started = Instant::now();
    let child = cmd.spawn().expect("cannot start node");
    let pid = child.id();
    // A watchdog instead of polling: the output pipes are drained by wait_with_output.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if done_rx.recv_timeout(SCENARIO_TIMEOUT).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let out = child.wait_with_output().expect("node did not run");
    let _ = done_tx.send(());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let elapsed = started.elapsed();
    let last = stdout.lines().last().unwrap_or_default();
    let result: Value = serde_json::from_str(last).unwrap_or(Value::Null);
    assert!(
        out.status.success() && result["ok"] == true,
        "scenario {name} failed after {elapsed:?} ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    result
}
