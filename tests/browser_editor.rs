//! The editor console in a real browser against the real server on loopback: a county editor
//! builds and publishes a course over a bad link (one PATCH cut off, then the page reloaded in
//! the middle of the upload and the same file chosen again), and the console laid out in
//! Chinese, Uyghur (right to left) and Tibetan at 1024×768 and on a 360-px phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{browser, TestApp};
use yuanjiao::domain::catalog::{Audience, CourseState};
use yuanjiao::domain::org::Principal;
use yuanjiao::domain::upload::UploadState;
use yuanjiao::people;
use yuanjiao::repo::Terminal;

/// A bad link between the browser and the server: relays bytes both ways, but closes the first
/// connection that carries more than `cut_after` bytes towards the server, in the middle of
/// whatever it is sending then (a PATCH body: nothing else is that large).
fn bad_link(server: SocketAddr, cut_after: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let armed = Arc::new(AtomicBool::new(true));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let armed = armed.clone();
            std::thread::spawn(move || relay(client, server, &armed, cut_after));
        }
    });
    addr
}

fn relay(client: TcpStream, server: SocketAddr, armed: &AtomicBool, cut_after: u64) {
    let Ok(upstream) = TcpStream::connect(server) else {
        return;
    };
    let _ = (client.set_nodelay(true), upstream.set_nodelay(true));
    let (mut from_server, mut to_client) =
        (upstream.try_clone().unwrap(), client.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let (mut from_client, mut to_server) = (client, upstream);
    let mut sent = 0u64;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from_client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if sent + n as u64 > cut_after && armed.swap(false, Ordering::SeqCst) {
            let _ = to_server.write_all(&buf[..(cut_after - sent) as usize]);
            let _ = to_server.shutdown(Shutdown::Both);
            let _ = from_client.shutdown(Shutdown::Both);
            return;
        }
        if to_server.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
    }
    let _ = to_server.shutdown(Shutdown::Write);
}

/// Both scenarios start a browser; on a two-core machine they run one after the other.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A 6-second H.264 (yuv420p) + AAC MP4 with noise in the picture, so it is about 3 MB: a dozen
/// 256 KiB chunks.
fn make_video(dir: &Path) -> PathBuf {
    let path = dir.join("第一课-党章.mp4");
    support::video::make_lesson_video(
        &path,
        "testsrc2=size=640x360:rate=25,noise=alls=40:allf=t",
        6,
        &[
            "-preset",
            "ultrafast",
            "-b:v",
            "4M",
            "-maxrate",
            "4M",
            "-bufsize",
            "2M",
        ],
    );
    path
}

/// A county with one branch, and a Chinese-speaking rural station in the branch; returns the
/// station's token.
fn station(app: &TestApp) -> String {
    support::county_and_branch(&app.services);
    let terminal = Terminal {
        id: "st-01".into(),
        name: "一村站点".into(),
        org: "branch".into(),
        languages: vec!["zh-Hans".parse().unwrap()],
        audiences: vec![Audience::Rural],
        disabled: false,
    };
    people::create_terminal(&app.services, &terminal, "test").unwrap()
}

fn editor_token(app: &TestApp) -> String {
    people::issue_token(&app.services, Principal::Editor, None, "test").unwrap()
}

fn station_page_exists() -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("web/station/index.html")
        .is_file()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_publishes_a_course_over_a_bad_link_and_the_station_gets_the_lesson() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    // The real server's media workers, so the upload is processed as in production.
    yuanjiao::media::jobs::spawn_workers(app.services.clone()).unwrap();
    let video = make_video(app.dir.path());
    let text = app.dir.path().join("第二课.md");
    std::fs::write(&text, "# 第二课\n\n学习党章，第一章 党员。\n".repeat(40)).unwrap();
    let broken = app.dir.path().join("坏文件.mp4");
    std::fs::write(&broken, support::bytes(100_000, 7)).unwrap();
    let fixture = json!({
        "token": editor_token(&app),
        "station": station(&app),
        "station_page": station_page_exists(),
        "video": video,
        "video_size": std::fs::metadata(&video).unwrap().len(),
        "text": text,
        "broken": broken,
        "course": "dangzhang-2026",
        "chunk": 256 * 1024,
    });
    // The browser reaches the server only through the bad link, which cuts the connection
    // once, inside the video's third 256 KiB chunk.
    let link = bad_link(app.addr, 600 * 1024);
    let result = browser::run("editor-publish", &format!("http://{link}"), &fixture).await;
    eprintln!("editor-publish: {result}");

    // One upload was created for the video, and after the reload it went on from where the
    // server was, not from zero.
    assert_eq!(result["video_posts"], 1, "{result}");
    let resumed_at = result["resumed_at"].as_u64().unwrap();
    assert!(resumed_at > 0, "{result}");
    assert_eq!(result["first_offset_after_reload"], resumed_at, "{result}");
    assert!(result["retried_after_cut"] == true, "{result}");
    // The server kept the bytes of the cut chunk that arrived, and the client went on from
    // there: an offset inside a chunk, not at its start.
    let chunk = 256 * 1024;
    let offsets: Vec<u64> = result["offsets_after_cut"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_u64().unwrap())
        .collect();
    assert!(
        offsets.iter().any(|o| o % chunk != 0 && *o > 2 * chunk),
        "{result}"
    );

    // What stations now hold: the course as the editor left it, the video byte for byte.
    let entry = app
        .services
        .store
        .course_entry("dangzhang-2026")
        .unwrap()
        .unwrap();
    let published = entry.published.expect("published");
    assert_eq!(published.state, CourseState::Published);
    let uyghur = "ug-Arab".parse().unwrap();
    assert_eq!(published.title[&uyghur], "پارتىيە نىزامنامىسى");
    assert_eq!(published.translation[&uyghur], "机器辅助初稿，待审校");
    let tibetan = "bo-Tibt".parse().unwrap();
    assert!(
        !published.title.contains_key(&tibetan),
        "only the languages typed in"
    );
    let order: Vec<&str> = published.lessons.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        order,
        ["dangzhang-2026-2", "dangzhang-2026-1"],
        "moved up in the console"
    );
    let bytes = std::fs::read(&video).unwrap();
    let lesson = published.lesson("dangzhang-2026-1").unwrap();
    let variant = &lesson.variants[&"zh-Hans".parse().unwrap()];
    assert_eq!(
        variant.sha256,
        support::sha256_hex(&bytes),
        "the stored blob is the file"
    );
    assert_eq!(variant.size, bytes.len() as u64);
    let hash = yuanjiao::domain::digest::Sha256::parse_hex(&variant.sha256).unwrap();
    let probe = app.services.store.probe(&hash).unwrap().expect("probed");
    assert_eq!(
        lesson.duration_ms, probe.duration_ms,
        "set from the probe in the console"
    );
    let served = app.get(&format!("/media/{}", variant.sha256), &[]).await;
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let text_variant =
        &published.lesson("dangzhang-2026-2").unwrap().variants[&"zh-Hans".parse().unwrap()];
    assert_eq!(
        text_variant.sha256,
        support::sha256_hex(&std::fs::read(&text).unwrap())
    );
    // One upload per file chosen, none left half-done: two attached, the broken one refused.
    let uploads = app.services.store.uploads().unwrap();
    let states: Vec<_> = uploads
        .iter()
        .map(|u| (u.metadata["filename"].as_str(), &u.state, &u.attach))
        .collect();
    assert_eq!(uploads.len(), 3, "{states:?}");
    for upload in &uploads {
        let name = upload.metadata["filename"].as_str();
        let attach = upload.attach.as_ref().unwrap();
        if name == "坏文件.mp4" {
            assert!(
                matches!(upload.state, UploadState::Rejected { .. }),
                "{states:?}"
            );
            assert!(!attach.done, "{states:?}");
        } else {
            assert!(
                matches!(upload.state, UploadState::Stored { .. }),
                "{states:?}"
            );
            assert!(attach.done && attach.error.is_none(), "{states:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_three_languages_at_1024_and_on_a_phone() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    let token = editor_token(&app);
    let notes = app.add_blob("# 学习笔记\n".repeat(20).as_bytes(), "笔记.md");
    let call = |method: reqwest::Method, path: String, body: Value| {
        let req = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            assert!(
                resp.status().is_success(),
                "{path}: {}",
                resp.text().await.unwrap()
            );
        }
    };
    use reqwest::Method;
    call(Method::POST, "/api/v1/courses".into(), json!({
        "id": "village-policy",
        "title": {"zh-Hans": "乡村振兴政策解读", "ug-Arab": "يېزىلارنى گۈللەندۈرۈش سىياسىتى", "bo-Tibt": "གྲོང་གསེབ་བསྐྱར་གསོའི་སྲིད་ཇུས།"},
        "description": {"zh-Hans": "面向农村党员的政策课。"},
        "themes": ["policy-affairs"], "audiences": ["rural"], "programs": ["rural-remote-education"],
    })).await;
    for (n, kind, title) in [(1, "video", "第一讲 总体要求"), (2, "text", "学习笔记")] {
        call(
            Method::POST,
            "/api/v1/courses/village-policy/lessons".into(),
            json!({
                "id": format!("village-policy-{n}"), "kind": kind, "duration_ms": 1_800_000,
                "title": {"zh-Hans": title},
            }),
        )
        .await;
    }
    call(
        Method::PUT,
        "/api/v1/lessons/village-policy-2/variants/zh-Hans".into(),
        json!({"sha256": notes}),
    )
    .await;
    let video = make_video(app.dir.path());
    let fixture = json!({ "token": token, "course": "village-policy", "video": video });
    let result = browser::run("editor-layout", &app.url(""), &fixture).await;
    for weight in result["weights"].as_array().unwrap() {
        let bytes = weight["bytes"].as_u64().unwrap();
        assert!(bytes > 0 && bytes < 300 * 1024, "{weight}");
    }
    std::fs::write(
        browser::artifacts().join("editor-weights.json"),
        serde_json::to_vec_pretty(&result["weights"]).unwrap(),
    )
    .unwrap();
}
