//! Weak links: stalled readers, slow or oversized request heads, idle connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use support::{bytes, TestApp};

fn connect_with_small_window(addr: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    // Small receive buffer, set before connecting, so the window closes quickly.
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.into()
}

async fn open_connections(app: &TestApp) -> i64 {
    let text = app.get("/metrics", &[]).await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("yj_http_open_connections "))
        .unwrap()
        .parse()
        .unwrap()
}

/// Polls until `done` holds, for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_is_dropped_after_the_send_timeout() {
    let app = TestApp::spawn_with(|s| s.server.send_timeout_secs = 1).await;
    let data = bytes(32 << 20, 1);
    let sha = app.add_blob(&data, "big.mp4");
    let mut stalled = connect_with_small_window(app.addr);
    write!(stalled, "GET /media/{sha} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut head = [0u8; 1024];
    assert!(stalled.read(&mut head).unwrap() > 0);
    // The stalled connection plus the one asking for metrics.
    assert!(
        eventually(Duration::from_secs(5), || async {
            open_connections(&app).await >= 2
        })
        .await
    );
    // Now read nothing: the server must give up on this connection by itself.
    let dropped = eventually(Duration::from_secs(30), || async {
        open_connections(&app).await <= 1
    })
    .await;
    assert!(dropped, "the stalled connection is still held");
    // What was buffered can be read, but the rest of the 32 MiB never comes.
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match stalled.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    assert!(
        total < data.len(),
        "received {total} bytes of a dropped response"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_head_that_never_finishes_is_timed_out() {
    let app = TestApp::spawn_with(|s| s.server.header_timeout_ms = 300).await;
    let mut slow = TcpStream::connect(app.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "connection held for {:?}",
        started.elapsed()
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_request_head_is_refused_with_a_4xx() {
    let app = TestApp::spawn().await;
    let mut client = TcpStream::connect(app.addr).unwrap();
    let huge = "a".repeat(1 << 20);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: {huge}\r\n\r\n");
    let _ = client.write_all(request.as_bytes());
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!(text.is_empty() || (400..500).contains(&status), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = TestApp::spawn_with(|s| s.server.keep_alive_secs = 1).await;
    let mut client = TcpStream::connect(app.addr).unwrap();
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "idle connection held for {:?}",
        started.elapsed()
    );
}
