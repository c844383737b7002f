//! A throwaway PostgreSQL cluster for the tests, one per test process: made by Debian's
//! `initdb` in a fresh folder under /tmp, run as the `postgres` user when the tests run as
//! root (PostgreSQL refuses root), on a free loopback port, and stopped by a watchdog once the
//! test process is gone. Each caller gets a database of its own.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Cluster {
    port: u16,
}

fn bin(name: &str) -> PathBuf {
    let dir = std::env::var("YJ_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    PathBuf::from(dir).join(name)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// `program args…`, as the postgres user when we are root.
fn as_owner(program: PathBuf) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Result<Cluster, String> {
    let dir = std::env::temp_dir().join(format!("yj-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        let chowned = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        if !chowned.is_ok_and(|s| s.success()) {
            return Err("cannot give the cluster's folder to the postgres user".into());
        }
    }
    let made = as_owner(bin("initdb"))
        .arg("-D")
        .arg(&dir)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .output()
        .map_err(|e| format!("cannot run initdb ({}): {e}", bin("initdb").display()))?;
    if !made.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&made.stderr)
        ));
    }
    let port = free_port();
    // The watchdog stops the server once this process is gone (tests end without a hook).
    let script = r#"
        "$1" -D "$2" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
             > "$2/server.log" 2>&1 &
        server=$!
        while [ -d "/proc/$4" ] && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
        kill -INT "$server" 2>/dev/null
        wait "$server"
        rm -rf "$2"
    "#;
    as_owner(PathBuf::from("/bin/sh"))
        .args(["-c", script, "sh"])
        .arg(bin("postgres"))
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        // Nothing inherited: the watchdog outlives the test that started it.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ready {
            return Ok(Cluster { port });
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("postgres did not start within 30 s: {log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database on the test cluster.
pub fn database() -> String {
    let cluster = CLUSTER
        .get_or_init(start)
        .as_ref()
        .expect("the test PostgreSQL cluster");
    let name = format!(
        "t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let made = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "postgres",
            "-q",
            "-c",
        ])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}
