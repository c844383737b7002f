//! HTTPS with real clients: TLS 1.3 and 1.2 with the station CA, nothing older, HTTP/2 by
//! ALPN, a clean failure for plain text on the TLS port, and a clear stop for a bad certificate.
//! The headers every answer carries: `nosniff` on both listeners, errors included, and
//! `Strict-Transport-Security` on the TLS listener only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use yuanjiao::clock::SystemClock;
use yuanjiao::config::Settings;
use yuanjiao::services::Services;

struct Tls {
    port: u16,
    dir: tempfile::TempDir,
    _server: actix_web::dev::ServerHandle,
}

async fn spawn_tls() -> Tls {
    let dir = tempfile::tempdir().unwrap();
    yuanjiao::tls::write_station_certificates(
        dir.path(),
        &["localhost".into(), "127.0.0.1".into()],
    )
    .unwrap();
    let config =
        yuanjiao::tls::server_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem"))
            .unwrap();
    let mut settings = Settings::default();
    settings.storage.data_dir = dir.path().join("data");
    settings.storage.min_free_bytes = 0;
    settings.server.workers = 1;
    let services = Arc::new(Services::open(settings, Arc::new(SystemClock)).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let metrics = yuanjiao::http::Metrics::new().unwrap();
    let server =
        yuanjiao::http::start_with_tls(services, metrics, None, Some((listener, config))).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    Tls {
        port,
        dir,
        _server: handle,
    }
}

/// curl's view of a request: (exit code, "status http-version").
fn curl(ca: &Path, url: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "-w",
            "%{http_code} %{http_version}",
            "--cacert",
        ])
        .arg(ca)
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn real_clients_speak_tls_1_3_and_1_2_with_the_station_ca_and_nothing_older() {
    let tls = spawn_tls().await;
    let ca = tls.dir.path().join("ca.pem");
    let url = format!("https://127.0.0.1:{}/healthz", tls.port);
    let (ca2, url2) = (ca.clone(), url.clone());
    let results = tokio::task::spawn_blocking(move || {
        [
            curl(&ca2, &url2, &["--tlsv1.3", "--http1.1"]),
            curl(&ca2, &url2, &["--tlsv1.2", "--tls-max", "1.2", "--http1.1"]),
            curl(&ca2, &url2, &["--http2"]),
            curl(&ca2, &url2, &["--tlsv1.1", "--tls-max", "1.1"]),
            curl(Path::new("/etc/ssl/certs/ca-certificates.crt"), &url2, &[]),
        ]
    })
    .await
    .unwrap();
    assert_eq!(results[0], (0, "200 1.1".to_string()), "TLS 1.3");
    assert_eq!(results[1], (0, "200 1.1".to_string()), "TLS 1.2");
    assert_eq!(results[2], (0, "200 2".to_string()), "HTTP/2 by ALPN");
    assert_ne!(results[3].0, 0, "TLS 1.1 is refused: {:?}", results[3]);
    assert_ne!(
        results[4].0, 0,
        "a client without the station CA does not trust the server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_text_on_the_tls_port_fails_cleanly_and_the_server_goes_on() {
    let tls = spawn_tls().await;
    let port = tls.port;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(
        !answer.starts_with(b"HTTP/"),
        "no plain HTTP answer on the TLS port"
    );
    let ca = tls.dir.path().join("ca.pem");
    let url = format!("https://127.0.0.1:{port}/healthz");
    let after = tokio::task::spawn_blocking(move || curl(&ca, &url, &[]))
        .await
        .unwrap();
    assert_eq!(after.0, 0, "still serving TLS: {after:?}");
}

#[test]
fn a_bad_certificate_path_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yuanjiao"))
        .arg("serve")
        .env("YJ__STORAGE__DATA_DIR", dir.path().join("data"))
        .env("YJ__SERVER__BIND", "")
        .env("YJ__TLS__BIND", "127.0.0.1:0")
        .env("YJ__TLS__CERT", dir.path().join("missing.pem"))
        .env("YJ__TLS__KEY", dir.path().join("missing-key.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tls.cert") && stderr.contains("missing.pem"),
        "{stderr}"
    );
}

/// A server on a plain and a TLS listener at once, with `adjust`ed settings.
struct Both {
    plain: u16,
    tls: u16,
    dir: tempfile::TempDir,
    _server: actix_web::dev::ServerHandle,
}

async fn spawn_both(adjust: impl FnOnce(&mut Settings)) -> Both {
    let dir = tempfile::tempdir().unwrap();
    yuanjiao::tls::write_station_certificates(dir.path(), &["127.0.0.1".into()]).unwrap();
    let config =
        yuanjiao::tls::server_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem"))
            .unwrap();
    let mut settings = Settings::default();
    settings.storage.data_dir = dir.path().join("data");
    settings.storage.min_free_bytes = 0;
    settings.server.workers = 1;
    adjust(&mut settings);
    let services = Arc::new(Services::open(settings, Arc::new(SystemClock)).unwrap());
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tls = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ports = (
        plain.local_addr().unwrap().port(),
        tls.local_addr().unwrap().port(),
    );
    let metrics = yuanjiao::http::Metrics::new().unwrap();
    let server =
        yuanjiao::http::start_with_tls(services, metrics, Some(plain), Some((tls, config)))
            .unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    Both {
        plain: ports.0,
        tls: ports.1,
        dir,
        _server: handle,
    }
}

/// The answer's status line and headers as curl shows them, names lower-case.
fn curl_head(ca: &Path, url: &str, extra: &[&str]) -> String {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--max-time",
            "10",
            "--cacert",
        ])
        .arg(ca)
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {url}: {out:?}");
    String::from_utf8_lossy(&out.stdout).to_lowercase()
}

/// Paths answered 200 (a health check, a page), 404, 400 and 401.
const PATHS: [&str; 6] = [
    "/healthz",
    "/no/such/route",
    "/media/not-a-hash",
    "/api/v1/me",
    "/ui/editor/index.html",
    "/api/v1/uploads/x",
];

async fn heads(
    both: &Both,
    scheme_port: &[(&'static str, u16)],
    extra: &'static [&'static str],
) -> Vec<(String, String)> {
    let ca = both.dir.path().join("ca.pem");
    let urls: Vec<String> = scheme_port
        .iter()
        .flat_map(|(scheme, port)| {
            PATHS
                .iter()
                .map(move |p| format!("{scheme}://127.0.0.1:{port}{p}"))
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        urls.into_iter()
            .map(|url| {
                let head = curl_head(&ca, &url, extra);
                (url, head)
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_says_nosniff_and_only_tls_answers_carry_hsts() {
    let both = spawn_both(|_| {}).await;
    let plain = heads(&both, &[("http", both.plain)], &["--http1.1"]).await;
    let tls = heads(&both, &[("https", both.tls)], &["--http1.1"]).await;
    let tls2 = heads(&both, &[("https", both.tls)], &["--http2"]).await;
    let mut statuses = std::collections::BTreeSet::new();
    for (url, head) in plain.iter().chain(&tls).chain(&tls2) {
        statuses.insert(
            head.split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string(),
        );
        assert!(
            head.contains("x-content-type-options: nosniff"),
            "{url}: {head}"
        );
    }
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["200", "400", "401", "404"],
        "answers of every kind were seen"
    );
    for (url, head) in tls.iter().chain(&tls2) {
        assert!(
            head.contains("strict-transport-security: max-age=31536000\r\n"),
            "{url}: {head}"
        );
    }
    for (url, head) in &plain {
        assert!(!head.contains("strict-transport-security"), "{url}: {head}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hsts_takes_its_max_age_from_the_settings_and_zero_sends_none() {
    let short = spawn_both(|s| s.tls.hsts_max_age = 600).await;
    for (url, head) in heads(&short, &[("https", short.tls)], &[]).await {
        assert!(
            head.contains("strict-transport-security: max-age=600\r\n"),
            "{url}: {head}"
        );
    }
    let off = spawn_both(|s| s.tls.hsts_max_age = 0).await;
    for (url, head) in heads(&off, &[("https", off.tls)], &[]).await {
        assert!(!head.contains("strict-transport-security"), "{url}: {head}");
        assert!(
            head.contains("x-content-type-options: nosniff"),
            "{url}: {head}"
        );
    }
}
