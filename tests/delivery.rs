//! `/media/{sha256}` against the real server: headers, ranges, multipart, preconditions, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use support::{bytes, header, sha256_hex, TestApp};

const SMALL: usize = 10_000; // read inline
const LARGE: usize = 3 << 20; // streamed in chunks

#[tokio::test]
async fn a_full_get_carries_every_validator_and_cache_header() {
    let app = TestApp::spawn().await;
    let data = bytes(LARGE, 1);
    let sha = app.add_blob(&data, "第一课 党章.mp4");
    let resp = app
        .get(&format!("/media/{sha}"), &[("accept-encoding", "gzip, br")])
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "etag"), format!("\"{sha}\""));
    assert_eq!(
        header(&resp, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    assert_eq!(header(&resp, "content-type"), "video/mp4");
    assert_eq!(header(&resp, "content-length"), LARGE.to_string());
    assert_eq!(
        header(&resp, "content-encoding"),
        "",
        "media must never be compressed"
    );
    assert!(httpdate::parse_http_date(header(&resp, "last-modified")).is_ok());
    let raw = hex::decode(&sha).unwrap();
    let digest = base64::engine::general_purpose::STANDARD.encode(raw);
    assert_eq!(header(&resp, "repr-digest"), format!("sha-256=:{digest}:"));
    assert!(header(&resp, "content-disposition")
        .ends_with("filename*=UTF-8''%E7%AC%AC%E4%B8%80%E8%AF%BE%20%E5%85%9A%E7%AB%A0.mp4"));
    let body = resp.bytes().await.unwrap();
    assert_eq!(sha256_hex(&body), sha);
}

#[tokio::test]
async fn head_sends_the_get_headers_without_a_body() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(LARGE, 2), "a.mp4");
    let resp = app.client.head(app.media(&sha)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), LARGE.to_string());
    assert_eq!(header(&resp, "etag"), format!("\"{sha}\""));
    assert!(resp.bytes().await.unwrap().is_empty());
    // HEAD has no range semantics (RFC 9110 §14.2).
    let ranged = app
        .client
        .head(app.media(&sha))
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 200);
}

#[tokio::test]
async fn single_ranges_answer_206_with_exact_bytes() {
    let app = TestApp::spawn().await;
    for (len, seed) in [(SMALL, 3), (LARGE, 4)] {
        let data = bytes(len, seed);
        let sha = app.add_blob(&data, "f.bin");
        let n = len as u64;
        let cases = [
            ("bytes=0-99".to_string(), 0, 99),
            ("bytes=100-".to_string(), 100, n - 1),
            ("bytes=-500".to_string(), n - 500, n - 1),
            (format!("bytes={}-{}", n - 10, n + 1000), n - 10, n - 1),
            ("bytes=5-5".to_string(), 5, 5),
        ];
        for (range, first, last) in cases {
            let resp = app
                .get(&format!("/media/{sha}"), &[("range", &range)])
                .await;
            assert_eq!(resp.status(), 206, "{range}");
            assert_eq!(
                header(&resp, "content-range"),
                format!("bytes {first}-{last}/{n}")
            );
            assert_eq!(
                header(&resp, "content-length"),
                (last - first + 1).to_string()
            );
            assert_eq!(header(&resp, "etag"), format!("\"{sha}\""));
            let body = resp.bytes().await.unwrap();
            assert_eq!(&body[..], &data[first as usize..=last as usize], "{range}");
        }
    }
}

/// Splits a `multipart/byteranges` body into (Content-Range, bytes) parts.
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).expect("boundary");
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    loop {
        let at = find(rest, delimiter.as_bytes()).expect("delimiter");
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let head_end = find(rest, b"\r\n\r\n").expect("part head");
        let head = std::str::from_utf8(&rest[..head_end]).unwrap();
        let range = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Range: bytes "))
            .expect("part content-range")
            .to_string();
        let (span, _) = range.split_once('/').unwrap();
        let (a, b) = span.split_once('-').unwrap();
        let len = b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1;
        let data_start = head_end + 4;
        parts.push((range, rest[data_start..data_start + len].to_vec()));
        rest = &rest[data_start + len..];
        assert!(rest.starts_with(b"\r\n"), "CRLF after part data");
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn multiple_ranges_come_back_as_multipart_that_parses_to_the_file_slices() {
    let app = TestApp::spawn().await;
    for (len, seed) in [(SMALL, 5), (LARGE, 6)] {
        let data = bytes(len, seed);
        let sha = app.add_blob(&data, "lesson.md");
        // Overlapping 100-299 and 200-399 coalesce; the suffix is the last 50 bytes.
        let resp = app
            .get(
                &format!("/media/{sha}"),
                &[("range", "bytes=200-399, 0-9, 100-299, -50")],
            )
            .await;
        assert_eq!(resp.status(), 206);
        let content_type = header(&resp, "content-type").to_string();
        assert!(content_type.starts_with("multipart/byteranges; boundary="));
        assert_eq!(header(&resp, "content-range"), "");
        let declared: usize = header(&resp, "content-length").parse().unwrap();
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len(), declared);
        let parts = parse_multipart(&content_type, &body);
        let want = [(0, 9), (100, 399), (len - 50, len - 1)];
        assert_eq!(parts.len(), want.len());
        for ((range, part), (first, last)) in parts.iter().zip(want) {
            assert_eq!(range, &format!("{first}-{last}/{len}"));
            assert_eq!(&part[..], &data[first..=last]);
        }
        assert!(String::from_utf8_lossy(&body[..120])
            .contains("Content-Type: text/markdown; charset=utf-8"));
    }
}

#[tokio::test]
async fn unsatisfiable_ranges_answer_416_with_the_length() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(SMALL, 7), "f.bin");
    for range in ["bytes=10000-", "bytes=20000-30000", "bytes=-0"] {
        let resp = app.get(&format!("/media/{sha}"), &[("range", range)]).await;
        assert_eq!(resp.status(), 416, "{range}");
        assert_eq!(header(&resp, "content-range"), "bytes */10000");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "range-not-satisfiable");
    }
}

#[tokio::test]
async fn unknown_units_and_malformed_ranges_are_ignored() {
    let app = TestApp::spawn().await;
    let data = bytes(SMALL, 8);
    let sha = app.add_blob(&data, "f.bin");
    for range in [
        "items=0-5",
        "bytes=5-1",
        "bytes=abc",
        "bytes=0-1;",
        "bytes",
        "bytes=--5",
        "bytes=0-1,x",
    ] {
        let resp = app.get(&format!("/media/{sha}"), &[("range", range)]).await;
        assert_eq!(resp.status(), 200, "{range}");
        assert_eq!(resp.bytes().await.unwrap().len(), SMALL);
    }
}

#[tokio::test]
async fn preconditions_answer_304_and_412() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(SMALL, 9), "f.bin");
    let path = format!("/media/{sha}");
    let first = app.get(&path, &[]).await;
    let last_modified = header(&first, "last-modified").to_string();
    let etag = format!("\"{sha}\"");
    let long_ago = "Mon, 01 Jan 2001 00:00:00 GMT";
    let cases: Vec<(Vec<(&str, &str)>, u16)> = vec![
        (vec![("if-none-match", &etag)], 304),
        (vec![("if-none-match", "\"other\", W/\"x\"")], 200),
        (vec![("if-none-match", "*")], 304),
        (vec![("if-modified-since", &last_modified)], 304),
        (vec![("if-modified-since", long_ago)], 200),
        (
            vec![
                ("if-none-match", "\"other\""),
                ("if-modified-since", &last_modified),
            ],
            200,
        ),
        (vec![("if-match", &etag)], 200),
        (vec![("if-match", "\"other\"")], 412),
        (vec![("if-unmodified-since", long_ago)], 412),
        (vec![("if-unmodified-since", &last_modified)], 200),
        (vec![("if-match", "\"other\""), ("range", "bytes=0-1")], 412),
        (vec![("if-none-match", &etag), ("range", "bytes=0-1")], 304),
    ];
    for (headers, status) in cases {
        let resp = app.get(&path, &headers).await;
        assert_eq!(resp.status().as_u16(), status, "{headers:?}");
        if status == 304 {
            assert_eq!(header(&resp, "etag"), etag);
            assert_eq!(
                header(&resp, "cache-control"),
                "public, max-age=31536000, immutable"
            );
            assert!(resp.bytes().await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn if_range_resumes_only_the_same_representation() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(SMALL, 10), "f.bin");
    let path = format!("/media/{sha}");
    let last_modified = header(&app.get(&path, &[]).await, "last-modified").to_string();
    let etag = format!("\"{sha}\"");
    let cases = [
        (etag.as_str(), 206),
        (last_modified.as_str(), 206),
        ("\"something-else\"", 200),
        ("W/\"weak-never-matches\"", 200),
        ("Mon, 01 Jan 2001 00:00:00 GMT", 200),
    ];
    for (if_range, status) in cases {
        let resp = app
            .get(&path, &[("range", "bytes=10-19"), ("if-range", if_range)])
            .await;
        assert_eq!(resp.status().as_u16(), status, "{if_range}");
    }
}

#[tokio::test]
async fn bad_addresses_are_400_and_unknown_ones_404() {
    let app = TestApp::spawn().await;
    let unknown = "0".repeat(64);
    assert_eq!(
        app.get(&format!("/media/{unknown}"), &[]).await.status(),
        404
    );
    for bad in [
        "abc",
        "..%2F..%2Fetc%2Fpasswd",
        &"g".repeat(64),
        &"0".repeat(65),
        "%00",
    ] {
        let resp = app.get(&format!("/media/{bad}"), &[]).await;
        assert_eq!(resp.status(), 400, "{bad}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "bad-digest");
    }
    // Paths that try to climb out are never files: they match no route or are refused.
    for climb in [
        "/media/../Cargo.toml",
        "/media/%2e%2e/%2e%2e/Cargo.toml",
        "/media/x/../../etc/passwd",
    ] {
        let status = app.get(climb, &[]).await.status().as_u16();
        assert!(status == 404 || status == 400, "{climb}: {status}");
    }
    let resp = app.client.post(app.media(&unknown)).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(header(&resp, "allow"), "GET, HEAD");
}

#[tokio::test]
async fn streaming_formats_get_their_media_types() {
    let app = TestApp::spawn().await;
    let cases = [
        ("master.m3u8", "application/vnd.apple.mpegurl"),
        ("seg-1.m4s", "video/iso.segment"),
        ("seg-1.ts", "video/mp2t"),
        ("zh.vtt", "text/vtt; charset=utf-8"),
        ("thumb.jpg", "image/jpeg"),
    ];
    for (i, (name, mime)) in cases.iter().enumerate() {
        let sha = app.add_blob(&bytes(100, 20 + i as u64), name);
        let resp = app.get(&format!("/media/{sha}"), &[]).await;
        assert_eq!(header(&resp, "content-type"), *mime, "{name}");
        assert_eq!(
            header(&resp, "content-disposition"),
            format!("inline; filename=\"{name}\"")
        );
    }
}

#[tokio::test]
async fn an_empty_blob_is_served_and_any_range_of_it_is_416() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(b"", "empty.txt");
    let resp = app.get(&format!("/media/{sha}"), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), "0");
    let resp = app
        .get(&format!("/media/{sha}"), &[("range", "bytes=0-")])
        .await;
    assert_eq!(resp.status(), 416);
    assert_eq!(header(&resp, "content-range"), "bytes */0");
}

#[tokio::test]
async fn a_recorded_blob_whose_file_is_gone_is_404_not_500() {
    let app = TestApp::spawn().await;
    let sha = app.add_blob(b"soon gone", "gone.txt");
    let digest = yuanjiao::domain::digest::Sha256::parse_hex(&sha).unwrap();
    std::fs::remove_file(app.services.blobs.path(&digest)).unwrap();
    let resp = app.get(&format!("/media/{sha}"), &[]).await;
    assert_eq!(resp.status(), 404);
}
