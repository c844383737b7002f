//! The real `yuanjiao` binary in a temp folder: commands, and a server that is killed with
//! SIGKILL and reaped however a test ends (for crash tests).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_yuanjiao");

/// A temp folder holding the data dir (`<tmp>/data`) and the server logs.
pub struct Sandbox {
    dir: tempfile::TempDir,
    /// Settings every command of this sandbox gets, as `YJ__SECTION__KEY` variables.
    env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// The sandbox, with this variable set for every command (e.g. a setting).
    pub fn with_env(mut self, key: &str, value: &str) -> Sandbox {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `yuanjiao ARGS` with a clean environment, the sandbox data dir and no free-space floor.
    pub fn yj(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("YJ__STORAGE__DATA_DIR", self.path().join("data"))
            .env("YJ__STORAGE__MIN_FREE_BYTES", "0")
            .env("YJ__LOG__FILTER", "warn")
            .current_dir(self.path())
            .stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `yuanjiao ARGS`, asserts it succeeded and returns its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self
            .yj(args)
            .output()
            .expect("cannot run the yuanjiao binary");
        assert!(
            out.status.success(),
            "yuanjiao {args:?}\n{}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A running `yuanjiao serve`, killed (SIGKILL) and reaped however the test ends.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts the server on a port the system picks (127.0.0.1:0, read back from the line it
    /// prints) and waits, at most 30 s, until /healthz answers.
    pub fn start(
        sb: &Sandbox,
        client: &reqwest::Client,
        rt: &tokio::runtime::Runtime,
        n: usize,
    ) -> Server {
        Self::start_at(sb, client, rt, n, "127.0.0.1:0")
    }

    /// Like `start`, listening on `bind`: e.g. the address of a server that was killed, so
    /// that clients which knew it (a browser page) find the new one where the old one was.
    pub fn start_at(
        sb: &Sandbox,
        client: &reqwest::Client,
        rt: &tokio::runtime::Runtime,
        n: usize,
        bind: &str,
    ) -> Server {
        Self::start_env(sb, client, rt, n, bind, &[])
    }

    /// Like `start`, with more environment variables (settings such as `YJ__MEDIA__…`).
    pub fn start_with(
        sb: &Sandbox,
        client: &reqwest::Client,
        rt: &tokio::runtime::Runtime,
        n: usize,
        env: &[(&str, &str)],
    ) -> Server {
        Self::start_env(sb, client, rt, n, "127.0.0.1:0", env)
    }

    fn start_env(
        sb: &Sandbox,
        client: &reqwest::Client,
        rt: &tokio::runtime::Runtime,
        n: usize,
        bind: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let log = sb.path().join(format!("serve-{n}.log"));
        let child = sb
            .yj(&["serve"])
            .env("YJ__SERVER__BIND", bind)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            base: String::new(),
            log,
        };
        let out = server.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps reading so the pipe never fills; ends when the process does.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("http://").nth(1) {
                        break rest.split('/').next().unwrap().to_string();
                    }
                }
                Err(e) => panic!("serve printed no address ({e})\n{}", server.log_text()),
            }
        };
        server.base = format!("http://{addr}");
        let healthz = format!("{}/healthz", server.base);
        rt.block_on(async {
            loop {
                let answer = client
                    .get(&healthz)
                    .timeout(Duration::from_millis(500))
                    .send()
                    .await;
                if answer.is_ok_and(|r| r.status().is_success()) {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "/healthz never answered\n{}",
                    server.log_text()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The `host:port` it listens on.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn log_text(&self) -> String {
        format!(
            "--- server log {} ---\n{}",
            self.log.display(),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap, so the data dir is free for the next process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The processes whose parent is `pid`, from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// The `yuanjiao media worker` processes `pid` started.
pub fn media_workers(pid: u32) -> Vec<u32> {
    children(pid)
        .into_iter()
        .filter(|child| {
            std::fs::read(format!("/proc/{child}/cmdline"))
                .is_ok_and(|c| c.windows(13).any(|w| w == b"media\0worker\0"))
        })
        .collect()
}

/// Whether `pid` is still running (a zombie is not).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// Sends `signal` (a name such as "SEGV" or "KILL") to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Polls `check` every 20 ms for at most `within`; panics naming `what` if it never holds.
pub fn wait_until<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "never {what} within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
