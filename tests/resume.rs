//! A download cut at random points and resumed with `Range` + `If-Range` ends byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rand::{Rng, SeedableRng};
use support::{bytes, header, sha256_hex, TestApp};

/// Reads the response until at least `stop_after` bytes have arrived, then drops the connection.
async fn read_until_cut(resp: reqwest::Response, stop_after: usize, into: &mut Vec<u8>) -> bool {
    let mut resp = resp;
    let start = into.len();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        into.extend_from_slice(&chunk);
        if into.len() - start >= stop_after {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn a_download_cut_at_random_points_resumes_to_identical_bytes() {
    let app = TestApp::spawn().await;
    let data = bytes(5 << 20, 42);
    let sha = app.add_blob(&data, "lesson-720p.mp4");
    assert_eq!(sha, sha256_hex(&data));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for round in 0..5 {
        let mut got = Vec::new();
        let first = app.get(&format!("/media/{sha}"), &[]).await;
        assert_eq!(first.status(), 200);
        let etag = header(&first, "etag").to_string();
        let mut done = read_until_cut(first, rng.random_range(1..data.len() / 3), &mut got).await;
        let mut resumes = 0;
        while !done && got.len() < data.len() {
            resumes += 1;
            let range = format!("bytes={}-", got.len());
            let resp = app
                .get(
                    &format!("/media/{sha}"),
                    &[("range", &range), ("if-range", &etag)],
                )
                .await;
            assert_eq!(resp.status(), 206, "round {round}: {range}");
            assert_eq!(
                header(&resp, "content-range"),
                format!("bytes {}-{}/{}", got.len(), data.len() - 1, data.len())
            );
            let cut = rng.random_range(1..data.len());
            done = read_until_cut(resp, cut, &mut got).await;
        }
        assert_eq!(
            got.len(),
            data.len(),
            "round {round} after {resumes} resumes"
        );
        assert_eq!(
            sha256_hex(&got),
            sha,
            "round {round} after {resumes} resumes"
        );
    }
}

#[tokio::test]
async fn a_resume_against_a_changed_address_restarts_from_zero() {
    // A client holding a stale validator must get the whole file, not a splice of two.
    let app = TestApp::spawn().await;
    let sha = app.add_blob(&bytes(200_000, 3), "a.mp4");
    let resp = app
        .get(
            &format!("/media/{sha}"),
            &[("range", "bytes=1000-"), ("if-range", "\"stale\"")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().len(), 200_000);
}
