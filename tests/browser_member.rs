//! The member study page in headless Chromium against the real server: a member signs in with
//! id and PIN (a wrong PIN is refused with a clear message), watches part of a lesson, reloads,
//! and resumes where they stopped, with the server's resume position and hours agreeing; a hidden
//! tab earns nothing even while its video keeps playing; and the signed-in view is laid out in
//! Chinese, Uyghur (right to left) and Tibetan at 1024×768 and on a 360-px phone.
//!
//! Each test has its own server with one published course made here: a 40 s H.264/AAC video
//! (made with the ffmpeg CLI, processed into renditions before the browser starts) and a text
//! lesson, plus a text-only course. The scenarios are in tests/browser/member-*.mjs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
#[path = "browser_member/weak_links.rs"]
mod weak_links;

use serde_json::{json, Value};
use std::path::Path;
use support::{browser, TestApp};
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::org::{Field, Member, OrgKind, Post, Principal};
use yuanjiao::people;

const MEMBER: &str = "M0001";
const PIN: &str = "4821";
/// A member whose PIN someone guesses at until sign-in locks.
const GUESSED: &str = "M0002";
/// Length of the video lesson, ms.
const VIDEO_MS: i64 = 40_000;
/// `ledger.tolerance_ms`: how far a report's media time may run past its wall time.
const TOLERANCE_MS: i64 = 2_000;

/// One browser scenario at a time: they play media in real time, and a machine shared with
/// other builds is slow enough already.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ffmpeg_video(path: &Path, seconds: u32) {
    support::video::make_lesson_video(
        path,
        "testsrc2=size=320x240:rate=25",
        seconds,
        &["-preset", "veryfast", "-g", "50"],
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The course folders ingested into every test's server.
fn make_courses(root: &Path) {
    let study = root.join("member-study");
    std::fs::create_dir_all(&study).unwrap();
    ffmpeg_video(&study.join("lesson.mp4"), (VIDEO_MS / 1000) as u32);
    write(
        &study,
        "notes.zh-Hans.md",
        "# 学习笔记\n\n每名党员每年参加集中学习培训，累计不少于 32 学时。\n\n<b>这不是标记</b>\n",
    );
    write(
        &study,
        "notes.ug-Arab.md",
        "# ئۆگىنىش خاتىرىسى\n\nھەر بىر پارتىيە ئەزاسى ھەر يىلى كەم دېگەندە 32 سائەت ئۆگىنىدۇ.\n",
    );
    write(
        &study,
        "course.toml",
        r#"slug = "member-study"
themes = ["policy-affairs"]
audiences = ["rural"]
[title]
"zh-Hans" = "形势与政策"
"ug-Arab" = "ۋەزىيەت ۋە سىياسەت"
"bo-Tibt" = "གནས་སྟངས་དང་སྲིད་ཇུས།"
[description]
"zh-Hans" = "一门短课：一段视频和一篇阅读材料。"
[[lessons]]
id = "ms-video"
kind = "video"
duration_ms = 40000
[lessons.title]
"zh-Hans" = "第一课 形势报告"
"ug-Arab" = "بىرىنچى دەرس: ۋەزىيەت دوكلاتى"
"bo-Tibt" = "སློབ་ཚན་དང་པོ། གནས་སྟངས་སྙན་ཞུ།"
[lessons.variants]
"zh-Hans" = "lesson.mp4"
"ug-Arab" = "lesson.mp4"
[[lessons]]
id = "ms-text"
kind = "text"
duration_ms = 1800000
[lessons.title]
"zh-Hans" = "第二课 学习笔记"
"ug-Arab" = "ئىككىنچى دەرس: ئۆگىنىش خاتىرىسى"
[lessons.variants]
"zh-Hans" = "notes.zh-Hans.md"
"ug-Arab" = "notes.ug-Arab.md"
"#,
    );
    let reading = root.join("member-reading");
    std::fs::create_dir_all(&reading).unwrap();
    write(&reading, "a.zh-Hans.md", "# 理想信念\n\n坚定理想信念。\n");
    write(
        &reading,
        "a.bo-Tibt.md",
        "# རེ་བ་ཡིད་ཆེས།\n\nརེ་བ་ཡིད་ཆེས་བརྟན་པོ་བྱེད།\n",
    );
    write(
        &reading,
        "course.toml",
        r#"slug = "member-reading"
themes = ["ideals-theory"]
audiences = ["rural"]
[title]
"zh-Hans" = "理想信念读本"
"bo-Tibt" = "རེ་བ་ཡིད་ཆེས་ཀྱི་ཀློག་དེབ།"
[description]
"zh-Hans" = "短文阅读。"
[[lessons]]
id = "mr-1"
kind = "text"
duration_ms = 600000
[lessons.title]
"zh-Hans" = "坚定理想信念"
"bo-Tibt" = "རེ་བ་ཡིད་ཆེས་བརྟན་པོ།"
[lessons.variants]
"zh-Hans" = "a.zh-Hans.md"
"bo-Tibt" = "a.bo-Tibt.md"
"#,
    );
}

/// A server with a branch, members M0001 and M0002 (PIN 4821, reading Tibetan then Chinese), the two
/// courses published and the video processed; returns it with M0001's token for checks.
async fn county() -> (TestApp, String) {
    county_with(|_| {}).await
}

async fn county_with(adjust: impl FnOnce(&mut yuanjiao::config::Settings)) -> (TestApp, String) {
    let app = TestApp::spawn_with(adjust).await;
    let services = app.services.clone();
    let root = app.dir.path().join("courses");
    let token = tokio::task::spawn_blocking(move || {
        support::create_orgs(
            &services,
            &[
                ("county", "红原县委", OrgKind::Committee, None),
                ("v1", "阿木柯村党支部", OrgKind::Branch, Some("county")),
            ],
        );
        let member = Member {
            id: MEMBER.into(),
            name: "卓玛".into(),
            org: "v1".into(),
            home_org: None,
            posts: vec![Post::Member],
            field: Field::Rural,
            joined: "2019-07-01".into(),
            languages: vec!["bo-Tibt".parse::<Lang>().unwrap(), Lang::chinese()],
        };
        people::create_member(&services, &member, PIN, "test").unwrap();
        let guessed = Member {
            id: GUESSED.into(),
            name: "次仁".into(),
            ..member
        };
        people::create_member(&services, &guessed, PIN, "test").unwrap();
        make_courses(&root);
        for course in ["member-study", "member-reading"] {
            yuanjiao::ingest::ingest_course(
                &services,
                &root.join(course),
                &mut yuanjiao::ingest::Quiet,
            )
            .unwrap();
        }
        // The media worker's job, run here: renditions and HLS before the browser asks.
        while let Some((_, job)) =
            yuanjiao::media::jobs::run_next(&services, &mut |_, _| {}).unwrap()
        {
            assert_eq!(
                job.status,
                yuanjiao::repo::JobStatus::Ready,
                "{:?}",
                job.error
            );
        }
        people::issue_token(
            &services,
            Principal::Member {
                member: MEMBER.into(),
            },
            None,
            "test",
        )
        .unwrap()
    })
    .await
    .unwrap();
    (app, token)
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let resp = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// (credited ms this year, resume position of the video lesson) as the server has them.
async fn ledger(app: &TestApp, token: &str) -> (i64, Option<i64>) {
    let hours = get_json(app, token, &format!("/api/v1/members/{MEMBER}/hours")).await;
    let resume = get_json(app, token, &format!("/api/v1/members/{MEMBER}/resume")).await;
    let position = resume["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lesson"] == "ms-video")
        .map(|l| l["position_ms"].as_i64().unwrap());
    (hours["credited_ms"].as_i64().unwrap(), position)
}

fn fixture() -> Value {
    json!({
        "member": MEMBER,
        "guessed_member": GUESSED,
        "pin": PIN,
        "course": "member-study",
        "video": "ms-video",
        "text": "ms-text",
    })
}

fn ms(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} missing: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_watches_part_of_a_lesson_reloads_and_resumes_where_they_stopped() {
    let _one = SERIAL.lock().await;
    let (app, token) = county().await;
    let r = browser::run("member-resume", &app.url(""), &fixture()).await;
    eprintln!("{r}");

    // The wrong PIN was refused with the page's own message and the server's words.
    let refused = r["wrong_pin_message"].as_str().unwrap();
    assert!(refused.contains("PIN 码不正确"), "{refused}");
    assert!(refused.contains("wrong PIN"), "{refused}");
    let locked = r["locked_message"].as_str().unwrap();
    assert!(
        locked.contains("PIN 码输错次数过多") && locked.contains("秒后再试"),
        "{locked}"
    );
    assert!(locked.contains("too many wrong PINs"), "{locked}");

    // What the browser played before the reload is what the server credited and resumes at.
    let played = ms(&r, "played_ms");
    assert!((7_500..VIDEO_MS).contains(&played), "{r}");
    let (credited, position) = ledger(&app, &token).await;
    let position = position.expect("a resume position for the video");
    assert!(
        // The page plays on for a moment between the test's reading and the reload.
        (played - 1_500..=played + 500).contains(&position),
        "resume {position} ms after playing to {played} ms: {r}"
    );
    // Played from 0: credited is the watched span, less what fell between samples.
    assert!(
        (played - 2_000..=played + TOLERANCE_MS).contains(&credited),
        "credited {credited} ms after playing {played} ms: {r}"
    );
    assert!(
        credited <= position + TOLERANCE_MS,
        "{credited} vs {position}"
    );

    // After the reload the page offered to continue where the server had it then, and the
    // player started there. (The reopened player may play on a moment before the browser
    // closes, moving the position the test reads afterwards.)
    assert_eq!(
        ms(&r, "continue_position_ms"),
        ms(&r, "server_resume_ms"),
        "{r}"
    );
    let resumed = ms(&r, "resumed_at_ms");
    assert!(
        (position - 1_000..=position + 2_000).contains(&resumed),
        "video opened at {resumed} ms, resume position {position} ms: {r}"
    );
    assert_eq!(
        ms(&r, "page_credited_ms"),
        ms(&r, "server_credited_ms"),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_tab_earns_nothing_even_while_its_video_plays() {
    let _one = SERIAL.lock().await;
    let (app, token) = county().await;
    let r = browser::run("member-hidden", &app.url(""), &fixture()).await;
    eprintln!("{r}");

    let visible_ms = ms(&r, "visible_played_ms");
    let before_hiding = ms(&r, "credited_before_hiding");
    assert!(
        (visible_ms - 2_000..=visible_ms + TOLERANCE_MS).contains(&before_hiding),
        "{r}"
    );
    // Hidden, the page paused the lesson; the video was then made to play on anyway, for real.
    assert_eq!(r["paused_on_hide"], true, "{r}");
    assert!(ms(&r, "hidden_media_ms") >= 4_000, "{r}");
    // Not one millisecond of it was credited, and no report was even sent.
    assert_eq!(ms(&r, "credited_after_hidden"), before_hiding, "{r}");
    assert_eq!(ms(&r, "reports_while_hidden"), 0, "{r}");
    // Visible again, playing earns again: new media, at most its wall time.
    let again = ms(&r, "credited_at_end") - ms(&r, "credited_after_hidden");
    let second_ms = ms(&r, "second_visible_ms");
    assert!(
        (second_ms - 2_000..=second_ms + TOLERANCE_MS).contains(&again),
        "{again} ms credited for {second_ms} ms played: {r}"
    );
    let (credited, position) = ledger(&app, &token).await;
    assert_eq!(credited, ms(&r, "credited_at_end"));
    assert!(position.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signed_in_view_is_laid_out_in_each_language_on_a_desk_and_a_phone() {
    let _one = SERIAL.lock().await;
    let (app, token) = county().await;
    // Twenty minutes read of the text lesson, ten to go: hours to show and a lesson to continue.
    let now = jiff::Timestamp::now();
    let at = |mins: i64| {
        now.checked_sub(jiff::SignedDuration::from_mins(mins))
            .unwrap()
            .to_string()
    };
    let mut report = json!({
        "id": "member-shots-1", "member": MEMBER, "lesson": "ms-text", "lang": "zh-Hans",
        "played": [[0, 1_200_000]], "wall": [at(21), at(1)], "position_ms": 1_200_000,
    });
    support::evidence::witness(&app.services, &mut report);
    let resp = app
        .client
        .post(app.url("/api/v1/watch"))
        .bearer_auth(&token)
        .json(&report)
        .send()
        .await
        .unwrap();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["results"][0]["status"], "credited", "{answer}");

    let r = browser::run("member-shots", &app.url(""), &fixture()).await;
    eprintln!("{r}");
    for lang in ["zh-Hans", "ug-Arab", "bo-Tibt"] {
        let view = &r["views"][lang];
        assert_eq!(view["dir"], if lang == "ug-Arab" { "rtl" } else { "ltr" });
        assert_eq!(view["credited_ms"], 1_200_000, "{lang}: {view}");
        // Nothing wider than the phone's screen.
        assert!(
            view["phone_overflow_px"].as_i64().unwrap() <= 0,
            "{lang}: {view}"
        );
    }
    // Tibetan is not among the video's languages: marked as a fallback to Chinese. Uyghur is.
    assert!(ms(&r["views"]["bo-Tibt"], "fallback_badges") >= 1, "{r}");
    assert_eq!(ms(&r["views"]["ug-Arab"], "fallback_badges"), 0, "{r}");
    // The text lesson is shown as text in its own direction, markup and all.
    assert_eq!(r["text"]["dir"], "rtl", "{r}");
    assert_eq!(r["zh_text_has_tag_as_text"], true, "{r}");
    assert_eq!(r["signed_out"], json!({"stored": null, "me": 401}), "{r}");
    for w in r["weights"].as_array().unwrap() {
        assert!(ms(w, "bytes") < 300 * 1024, "{w}");
    }
    std::fs::write(
        browser::artifacts().join("member-weights.json"),
        serde_json::to_vec_pretty(&r["weights"]).unwrap(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_that_cannot_be_sent_survive_a_reload_and_are_credited_once_under_one_id() {
    let _one = SERIAL.lock().await;
    let (app, token) = county().await;
    let r = browser::run("member-outbox", &app.url(""), &fixture()).await;
    eprintln!("{r}");
    let id = r["queued_id"].as_str().unwrap();
    assert!(r["shown_count"].as_str().unwrap().contains('1'), "{r}");
    assert_eq!(r["kept_after_reload"], json!([id]), "{r}");
    let attempts = r["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "sent, failed, sent again: {r}");
    assert!(
        attempts.iter().all(|a| a == id),
        "one id for every attempt: {r}"
    );
    let played = ms(&r, "played_ms");
    let (credited, position) = ledger(&app, &token).await;
    assert_eq!(credited, ms(&r, "credited_ms"));
    assert!(
        (played - 2_000..=played + TOLERANCE_MS).contains(&credited),
        "{credited} ms credited for {played} ms played: {r}"
    );
    assert!(
        position.is_some_and(|p| (played - 1_500..=played + 500).contains(&p)),
        "{r}"
    );
}

#[tokio::test]
async fn watch_accounting_never_claims_more_media_than_wall_time() {
    // Pure JavaScript under Node (no browser, no server): worked cases and random sessions.
    let r = browser::run("member-accounting", "", &json!({})).await;
    assert!(ms(&r, "random_reports") > 10_000, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attention_check_pauses_the_lesson_until_one_tap_answers_it_in_the_members_language() {
    let _one = SERIAL.lock().await;
    let (app, token) = county_with(|s| {
        s.ledger.attention_check_min = std::time::Duration::from_secs(4);
        s.ledger.attention_check_max = std::time::Duration::from_secs(4);
    })
    .await;
    let r = browser::run("member-attention", &app.url(""), &fixture()).await;
    eprintln!("{r}");
    let asked = &r["asked"];
    assert_eq!(asked["role"], "alertdialog", "{r}");
    assert_eq!(asked["modal"], true, "{r}");
    assert_eq!(
        (asked["lang"].as_str(), asked["dir"].as_str()),
        (Some("ug-Arab"), Some("rtl"))
    );
    assert!(
        asked["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{r}"
    );
    assert!(asked["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
    assert_eq!(asked["focus"], "attention-confirm", "{r}");
    assert_eq!(r["paused_when_asked"], true, "{r}");
    assert_eq!(
        r["open_after_escape"], true,
        "Escape must not dismiss it: {r}"
    );
    assert!(ms(&r, "moved_while_asked_ms").abs() < 100, "{r}");
    assert_eq!(r["closed_on_answer"], true, "{r}");
    // What was played is credited, answers and all, and the answers reached the ledger.
    let played = ms(&r, "played_ms");
    let (credited, _) = ledger(&app, &token).await;
    assert!(
        (played - 3_000..=played + TOLERANCE_MS).contains(&credited),
        "credited {credited} of {played}: {r}"
    );
    let entries = app.services.store.member_entries(MEMBER).unwrap();
    let answered = entries.iter().any(|e| match &e.kind {
        yuanjiao::repo::EntryKind::Watch { report, .. } => !report.attention.is_empty(),
        _ => false,
    });
    assert!(answered, "no report carried the answers");
}
