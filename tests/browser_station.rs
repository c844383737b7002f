//! The station page in headless Chromium against the real `yuanjiao` binary on loopback: a
//! group session run from the page credits its members exactly the time played (checked with
//! GET /api/v1/members/{id}/hours, and on the dashboard page when it exists); a station whose
//! server dies mid-lesson keeps playing the downloaded lesson, queues what it must send, and
//! delivers it once, when the server is back on the same port. Screenshots of the page in each
//! language land in target/browser-artifacts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::browser;
use support::process::{Sandbox, Server};

const LESSON: &str = "st-lesson-1";
/// The lesson's nominal length, which caps what watching it can credit.
const LESSON_MS: i64 = 16_000;
const MEMBERS: [&str; 2] = ["M0001", "M0002"];

/// A sandbox with a county committee, a village branch with two members, the branch's station
/// (Chinese and Tibetan, rural audience), a manager token for the branch, and a published
/// course with one 16-second lesson whose renditions are made.
struct Village {
    sb: Sandbox,
    terminal: String,
    manager: String,
}

fn village() -> Village {
    let sb = Sandbox::new();
    let course = sb.path().join("courses/st-course");
    std::fs::create_dir_all(&course).unwrap();
    make_video(&course.join("lesson.mp4"));
    std::fs::write(
        course.join("course.toml"),
        format!(
            "slug = \"st-course\"\nthemes = [\"practical-skills\"]\naudiences = [\"rural\"]\n\
             programs = [\"rural-remote-education\"]\n\
             [title]\n\"zh-Hans\" = \"站点测试课程\"\n\"ug-Arab\" = \"پونكىت سىناق دەرسى\"\n\
             \"bo-Tibt\" = \"ས་ཚིགས་ཚོད་ལྟའི་སློབ་ཚན།\"\n\
             [description]\n\"zh-Hans\" = \"站点页面的测试课程\"\n\
             [[lessons]]\nid = \"{LESSON}\"\nkind = \"video\"\nduration_ms = {LESSON_MS}\n\
             [lessons.title]\n\"zh-Hans\" = \"第一课：怎样集体学习\"\n\"ug-Arab\" = \"بىرىنچى دەرس: كوللېكتىپ ئۆگىنىش\"\n\
             \"bo-Tibt\" = \"སློབ་ཚན་དང་པོ། མཉམ་སློབ།\"\n\
             [lessons.variants]\n\"zh-Hans\" = \"lesson.mp4\"\n"
        ),
    )
    .unwrap();
    // Ingesting processes the video at once: renditions, sound only, HLS, thumbnail.
    let ingested = sb.ok(&["ingest", course.to_str().unwrap()]);
    assert!(ingested.contains("ready"), "{ingested}");
    sb.ok(&[
        "org",
        "add",
        "--id",
        "cty",
        "--name",
        "县委",
        "--kind",
        "committee",
    ]);
    sb.ok(&[
        "org",
        "add",
        "--id",
        "br-01",
        "--name",
        "红旗村党支部",
        "--kind",
        "branch",
        "--parent",
        "cty",
    ]);
    let csv = sb.path().join("members.csv");
    std::fs::write(
        &csv,
        "id,name,org,posts,field,joined,languages,pin,home_org\n\
         M0001,卓玛,br-01,member,rural,2019-07-01,bo-Tibt;zh-Hans,4821,\n\
         M0002,阿不都热合曼,br-01,member,rural,2018-03-01,ug-Arab;zh-Hans,4822,\n",
    )
    .unwrap();
    sb.ok(&["member", "import", csv.to_str().unwrap()]);
    let terminal = sb
        .ok(&[
            "terminal",
            "add",
            "--id",
            "st-01",
            "--name",
            "红旗村站点",
            "--org",
            "br-01",
            "--languages",
            "zh-Hans,bo-Tibt",
            "--audiences",
            "rural",
        ])
        .trim()
        .to_string();
    let manager = sb
        .ok(&["admin", "token", "--role", "manager", "--org", "br-01"])
        .trim()
        .to_string();
    Village {
        sb,
        terminal,
        manager,
    }
}

/// 16 s of a test picture (640×360, so 240p and 360p renditions are made) with a tone:
/// H.264 yuv420p and AAC in MP4, which every browser plays.
fn make_video(out: &Path) {
    support::video::make_lesson_video(
        out,
        "testsrc=size=640x360:rate=25",
        16,
        &["-preset", "veryfast", "-g", "50"],
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A member's hours this year, as their manager reads them.
fn hours(rt: &tokio::runtime::Runtime, server: &Server, manager: &str, member: &str) -> Value {
    rt.block_on(async {
        let answer = client()
            .get(server.url(&format!("/api/v1/members/{member}/hours")))
            .bearer_auth(manager)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "hours of {member}");
        answer.json().await.unwrap()
    })
}

/// Each member was credited exactly `played_ms` for the lesson, once, as one centralised
/// training.
fn assert_credited(hours: &Value, played_ms: i64) {
    assert_eq!(hours["credited_ms"], played_ms, "{hours}");
    let lessons = hours["lessons"].as_array().unwrap();
    assert_eq!(lessons.len(), 1, "{hours}");
    assert_eq!(lessons[0]["lesson"], LESSON, "{hours}");
    assert_eq!(lessons[0]["credited_ms"], played_ms, "{hours}");
    assert_eq!(hours["centralised_trainings"], 1, "{hours}");
}

fn dashboard_exists() -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("web/dashboard/index.html")
        .is_file()
}

#[test]
fn a_group_session_run_from_the_station_page_credits_both_members_what_was_played() {
    let village = village();
    let rt = runtime();
    let server = Server::start(&village.sb, &client(), &rt, 0);
    let fixture = json!({
        "token": village.terminal,
        "manager": village.manager,
        "lesson": LESSON,
        "members": MEMBERS,
        "dashboard": dashboard_exists(),
    });
    let result = rt.block_on(browser::run("station_session", &server.base, &fixture));
    let played = result["playedMs"].as_i64().unwrap();
    // The whole lesson played (the video is a few ms longer than its nominal length).
    assert!((LESSON_MS - 1500..=LESSON_MS).contains(&played), "{result}");
    let credits: Vec<(String, i64)> = serde_json::from_value(result["credits"].clone()).unwrap();
    assert_eq!(credits.len(), MEMBERS.len(), "{result}");
    for (member, credited) in &credits {
        assert_eq!(
            *credited, played,
            "the page shows {member}'s credit: {result}"
        );
    }
    for member in MEMBERS {
        assert_credited(&hours(&rt, &server, &village.manager, member), played);
    }
    if dashboard_exists() {
        let rows: Vec<(String, i64)> = serde_json::from_value(result["dashboard"].clone()).unwrap();
        for member in MEMBERS {
            let row = rows.iter().find(|(m, _)| m == member);
            assert_eq!(
                row.map(|r| r.1),
                Some(played),
                "the dashboard shows {member}'s credited time: {result}"
            );
        }
    }
}

/// Waits for `name` in `dir` (a scenario's signal), at most `limit`.
fn wait_for(dir: &Path, name: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if dir.join(name).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_station_whose_server_dies_mid_lesson_keeps_playing_and_delivers_its_queue_once() {
    let village = village();
    let rt = runtime();
    let mut server = Server::start(&village.sb, &client(), &rt, 0);
    let addr = server.addr().to_string();
    let base = server.base.clone();
    let signals: PathBuf = village.sb.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let fixture = json!({
        "token": village.terminal,
        "lesson": LESSON,
        "members": MEMBERS,
        "signals": signals,
    });
    // The scenario asks (by files in `signals`) for the server to be stopped and started again.
    let restarted = std::thread::scope(|scope| {
        let control = scope.spawn(|| {
            let limit = Duration::from_secs(120);
            if !wait_for(&signals, "stop", limit) {
                return None;
            }
            server.kill();
            std::fs::write(signals.join("stopped"), "").unwrap();
            if !wait_for(&signals, "start", limit) {
                return None;
            }
            let local = runtime();
            let again = Server::start_at(&village.sb, &client(), &local, 1, &addr);
            std::fs::write(signals.join("started"), "").unwrap();
            Some((again, local))
        });
        let result = rt.block_on(browser::run("station_offline", &base, &fixture));
        (result, control.join().unwrap())
    });
    let (result, control) = restarted;
    let (again, local) = control.expect("the scenario stopped and restarted the server");
    let played = result["playedMs"].as_i64().unwrap();
    assert!(
        (LESSON_MS - 1500..=LESSON_MS).contains(&played),
        "the lesson played to its end with the server gone: {result}"
    );
    assert!(result["waitingOffline"].as_i64().unwrap() > 0, "{result}");
    for member in MEMBERS {
        assert_credited(&hours(&local, &again, &village.manager, member), played);
    }
    drop(again);
    let verify = village.sb.ok(&["ledger", "verify"]);
    assert!(verify.contains("0 differences"), "{verify}");
}
