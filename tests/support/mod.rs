//! A real yuanjiao server on 127.0.0.1:0 with a temp data dir, one per test.
#![allow(dead_code, clippy::unwrap_used)]

pub mod browser;
pub mod clocked_county;
pub mod evidence;
pub mod hostile;
pub mod people;
pub mod postgres;
pub mod process;
pub mod small_county;
pub mod upload;
pub mod video;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use yuanjiao::clock::SystemClock;
use yuanjiao::config::Settings;
use yuanjiao::services::Services;

/// The media worker: this package's binary (a test binary cannot serve as its own worker).
pub const WORKER: &str = env!("CARGO_BIN_EXE_yuanjiao");

pub struct TestApp {
    pub addr: SocketAddr,
    pub services: Arc<Services>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    server: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server with test settings, adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        Self::spawn_in(dir, adjust).await
    }

    pub async fn spawn_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.path().join("data");
        settings.storage.min_free_bytes = 0;
        settings.server.workers = 1;
        settings.media.worker_command = WORKER.into();
        adjust(&mut settings);
        settings.validate().unwrap();
        let services = Arc::new(Services::open(settings, Arc::new(SystemClock)).unwrap());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = yuanjiao::http::Metrics::new().unwrap();
        let server = yuanjiao::http::start(services.clone(), metrics, listener).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            addr,
            services,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            dir,
            server: handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stores `bytes` as a blob named `filename`; returns its sha256 in hex.
    pub fn add_blob(&self, bytes: &[u8], filename: &str) -> String {
        let (stored, _) = self.services.add_blob(bytes, filename).unwrap();
        self.services.store.flush().unwrap();
        stored.sha256.to_hex()
    }

    pub fn media(&self, sha256: &str) -> String {
        self.url(&format!("/media/{sha256}"))
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// Deterministic pseudo-random bytes, so failures reproduce.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
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

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

pub fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}

impl TestApp {
    /// Starts a server with test settings whose time comes from `clock` (e.g. an
    /// `Arc<yuanjiao::clock::FixedClock>` the test keeps, to read or move the server's "now").
    pub async fn spawn_with_clock(
        clock: Arc<dyn yuanjiao::clock::Clock>,
        adjust: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.path().join("data");
        settings.storage.min_free_bytes = 0;
        settings.server.workers = 1;
        settings.media.worker_command = WORKER.into();
        adjust(&mut settings);
        settings.validate().unwrap();
        let services = Arc::new(Services::open(settings, clock).unwrap());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = yuanjiao::http::Metrics::new().unwrap();
        let server = yuanjiao::http::start(services.clone(), metrics, listener).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            addr,
            services,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            dir,
            server: handle,
        }
    }
}

/// Organisations as `(id, name, kind, parent)`, parents first.
pub fn create_orgs(
    services: &Services,
    orgs: &[(&str, &str, yuanjiao::domain::org::OrgKind, Option<&str>)],
) {
    for &(id, name, kind, parent) in orgs {
        let org = yuanjiao::domain::org::Org {
            id: id.into(),
            name: name.into(),
            kind,
            region: None,
            parent: parent.map(str::to_string),
        };
        yuanjiao::people::create_org(services, &org, "test").unwrap();
    }
}

/// Two organisations: `county` (a committee) and its village `branch`.
pub fn county_and_branch(services: &Services) {
    use yuanjiao::domain::org::OrgKind;
    create_orgs(
        services,
        &[
            ("county", "county 党组织", OrgKind::Committee, None),
            ("branch", "branch 党组织", OrgKind::Branch, Some("county")),
        ],
    );
}

/// A small tmpfs, unmounted when dropped.
pub struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// None where tmpfs cannot be mounted (not root, or in a container without the right).
    pub fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}
