//! The study-hour ledger over HTTP against the real server, scenario by scenario, each checked
//! against the hours a careful secretary would work out by hand: seeking, rewatching and
//! fast-forward; two devices at once; a week of offline reports delivered twice; station clocks
//! that are wrong; group study with late arrivals and early leavers; mobile members; registered
//! hours and their corrections; organisation reports as JSON and CSV; resume positions; bodies
//! that are refused whole; New Year in Asia/Shanghai; and, after all of it, totals that equal
//! the totals recomputed from the raw entries.
//!
//! Every server here runs on a fixed clock, so the wall times of reports are set relative to a
//! "now" that does not move unless a test moves it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use support::TestApp;
use yuanjiao::catalog;
use yuanjiao::clock::FixedClock;
use yuanjiao::domain::catalog::{Audience, LessonKind, Theme};
use yuanjiao::domain::catalog_edit::{Edit, NewCourse, NewLesson};
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::org::{Field, Member, OrgKind, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::{MemberRecord, Terminal};

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// One study hour (学时): 45 credited minutes.
const STUDY_HOUR: i64 = 45 * MIN;
/// `ledger.tolerance_ms`.
const TOLERANCE: i64 = 2 * SEC;
/// The server's "now" in most tests: noon on 10 March 2026 in Asia/Shanghai.
const MARCH: &str = "2026-03-10T04:00:00Z";

/// An Argon2id hash of the PIN "4821", made once with `people::hash_pin`. Members are stored
/// with it directly: hashing a PIN takes most of a second in a debug build, and nothing here
/// signs in.
const PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Yzc8ZGX/DFXE3HtAkC3A+w$HUbeU0QvndrEveV8nRTEpUFyiYj2XsgybTc/tMOmFgM";

// ---------------------------------------------------------------------------------------------
// Times

/// Epoch milliseconds of an RFC 3339 time.
fn at(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// RFC 3339 UTC of epoch milliseconds, as clients send it.
fn ts(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Requests

/// One HTTP answer, read whole.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.status, self.text()))
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// The error body's code, after checking it is an error that says why.
    fn error_code(&self) -> String {
        let body = self.json();
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "an error says why: {body}");
        body["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Requests made with one token (or none).
#[derive(Clone, Copy)]
struct As<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

impl<'a> As<'a> {
    fn with(app: &'a TestApp, token: &'a str) -> Self {
        As {
            app,
            token: Some(token),
        }
    }

    fn anyone(app: &'a TestApp) -> Self {
        As { app, token: None }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(token) = self.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.unwrap();
        Reply {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, None, headers).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        // A station holding group study has downloaded the lessons, as its page does.
        if let (true, Some(token)) = (path.starts_with("/api/v1/group-sessions"), self.token) {
            support::evidence::deliver_to_caller(&self.app.services, token);
        }
        self.send(Method::POST, path, Some(body.to_string().into_bytes()), &[])
            .await
    }

    /// Posts bytes as they are, labelled as JSON.
    async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.send(Method::POST, path, Some(body.as_bytes().to_vec()), &[])
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// A county with a server on a fixed clock

/// A server on a fixed clock, with this organisation tree:
///
/// ```text
/// county  红原县委 (committee)
/// ├── town   瓦切镇党总支 (general branch)
/// │   ├── v1 阿木柯村党支部 (branch)
/// │   └── v2 查尔玛村党支部 (branch)
/// └── other  安曲镇党总支 (general branch)
///     └── v3 色地村党支部 (branch)
/// ```
struct World {
    app: TestApp,
    clock: Arc<FixedClock>,
    now: i64,
    admin: String,
}

impl World {
    async fn at(now: &str) -> World {
        World::at_with(now, |_| {}).await
    }

    /// As `at`, with the server's settings adjusted.
    async fn at_with(now: &str, adjust: impl FnOnce(&mut yuanjiao::config::Settings)) -> World {
        let now = at(now);
        let clock = Arc::new(FixedClock::new(
            UNIX_EPOCH + Duration::from_millis(now as u64),
        ));
        let app = TestApp::spawn_with_clock(clock.clone(), adjust).await;
        support::create_orgs(
            &app.services,
            &[
                ("county", "红原县委", OrgKind::Committee, None),
                (
                    "town",
                    "瓦切镇党总支",
                    OrgKind::GeneralBranch,
                    Some("county"),
                ),
                ("v1", "阿木柯村党支部", OrgKind::Branch, Some("town")),
                ("v2", "查尔玛村党支部", OrgKind::Branch, Some("town")),
                (
                    "other",
                    "安曲镇党总支",
                    OrgKind::GeneralBranch,
                    Some("county"),
                ),
                ("v3", "色地村党支部", OrgKind::Branch, Some("other")),
            ],
        );
        let admin = people::issue_token(&app.services, Principal::Admin, None, "test").unwrap();
        World {
            app,
            clock,
            now,
            admin,
        }
    }

    /// Moves the server's clock.
    fn set_now(&mut self, now: i64) {
        self.now = now;
        self.clock
            .set(UNIX_EPOCH + Duration::from_millis(now as u64));
    }

    fn token(&self, principal: Principal) -> String {
        people::issue_token(&self.app.services, principal, None, "test").unwrap()
    }

    fn manager(&self, org: &str) -> String {
        self.token(Principal::Manager { org: org.into() })
    }

    /// A member with these posts in `org` (and `home_org` for a mobile member); returns a
    /// token for them.
    fn person(
        &self,
        id: &str,
        name: &str,
        org: &str,
        home: Option<&str>,
        posts: &[Post],
    ) -> String {
        let member = Member {
            id: id.into(),
            name: name.into(),
            org: org.into(),
            home_org: home.map(str::to_string),
            posts: posts.to_vec(),
            field: Field::Rural,
            joined: "2019-07-01".into(),
            languages: vec![Lang::chinese()],
        };
        member.validate().unwrap();
        for org in member.orgs() {
            assert!(self.app.services.store.org(org).unwrap().is_some(), "{org}");
        }
        let record = MemberRecord {
            member,
            pin_hash: PIN_HASH.into(),
            failed_sign_ins: 0,
            locked_until_ms: 0,
            disabled: false,
        };
        self.app.services.store.put_member(&record).unwrap();
        self.token(Principal::Member { member: id.into() })
    }

    /// An ordinary member of `org`.
    fn member(&self, id: &str, org: &str) -> String {
        self.person(id, &format!("党员{id}"), org, None, &[Post::Member])
    }

    /// A village station of `org`; returns its token.
    fn station(&self, id: &str, org: &str) -> String {
        let terminal = Terminal {
            id: id.into(),
            name: format!("{id} 远程教育站点"),
            org: org.into(),
            languages: vec![Lang::chinese()],
            audiences: vec![],
            disabled: false,
        };
        people::create_terminal(&self.app.services, &terminal, "test").unwrap()
    }

    /// A published course of text lessons with these durations, through the catalogue's use
    /// cases.
    fn course(&self, id: &str, lessons: &[(&str, i64)]) {
        let s = &self.app.services;
        let zh = |text: String| [(Lang::chinese(), text)].into();
        let new = NewCourse {
            id: id.into(),
            title: zh(format!("课程{id}")),
            description: Default::default(),
            translation: Default::default(),
            themes: vec![Theme::PolicyAffairs],
            audiences: vec![Audience::Rural],
            programs: vec![],
        };
        catalog::create_course(s, new, "test").unwrap();
        let mut edits = Vec::new();
        for &(lesson, duration_ms) in lessons {
            let text = format!("# {lesson}\n\n学习材料 {lesson}。\n");
            let sha = self.app.add_blob(text.as_bytes(), &format!("{lesson}.md"));
            edits.push(Edit::AddLesson(NewLesson {
                id: lesson.into(),
                kind: LessonKind::Text,
                duration_ms: duration_ms as u64,
                title: zh(format!("第{lesson}课")),
            }));
            edits.push(Edit::SetVariant {
                lesson: lesson.into(),
                lang: Lang::chinese(),
                variant: catalog::variant_of(s, &sha).unwrap(),
            });
        }
        catalog::edit_course(s, id, edits, "test").unwrap();
        catalog::publish(s, id, "test").unwrap();
    }

    fn admin(&self) -> As<'_> {
        As::with(&self.app, &self.admin)
    }

    fn with<'a>(&'a self, token: &'a str) -> As<'a> {
        As::with(&self.app, token)
    }
}

// ---------------------------------------------------------------------------------------------
// Watch reports

/// A report of `played` media in the wall interval `wall` (epoch ms), in Chinese, resuming
/// where the last interval played ends.
fn report(id: &str, member: &str, lesson: &str, played: &[(i64, i64)], wall: (i64, i64)) -> Value {
    json!({
        "id": id,
        "member": member,
        "lesson": lesson,
        "lang": "zh-Hans",
        "played": played,
        "wall": [ts(wall.0), ts(wall.1)],
        "position_ms": played.last().map_or(0, |p| p.1),
        "group_session": null,
    })
}

/// The report with `field` set to `value`.
fn with_field(mut report: Value, field: &str, value: Value) -> Value {
    report[field] = value;
    report
}

fn batch(reports: &[Value]) -> Value {
    json!({ "reports": reports })
}

/// What became of one report.
#[derive(Debug, Clone)]
struct Outcome {
    id: String,
    status: String,
    credited_ms: i64,
    reason: Option<String>,
}

impl Outcome {
    fn is(&self, status: &str, credited_ms: i64) -> bool {
        self.status == status && self.credited_ms == credited_ms
    }

    fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or_default()
    }
}

/// Posts one report or a batch, each with the play session its page would have been given;
/// checks the answer is 200 with one result per report, in order, and that nothing but
/// `credited` adds time or lacks a reason.
async fn watch(who: As<'_>, mut body: Value) -> Vec<Outcome> {
    support::evidence::witness(&who.app.services, &mut body);
    if let Some(token) = who.token {
        support::evidence::deliver_to_caller(&who.app.services, token);
    }
    watch_as_sent(who, body).await
}

/// Like `watch`, but the reports go exactly as written.
async fn watch_as_sent(who: As<'_>, body: Value) -> Vec<Outcome> {
    let sent: Vec<String> = match body.get("reports") {
        Some(list) => list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect(),
        None => vec![body["id"].as_str().unwrap().to_string()],
    };
    let reply = who.post("/api/v1/watch", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let outcomes: Vec<Outcome> = reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Outcome {
            id: r["id"].as_str().unwrap().to_string(),
            status: r["status"].as_str().unwrap().to_string(),
            credited_ms: r["credited_ms"].as_i64().unwrap(),
            reason: r["reason"].as_str().map(str::to_string),
        })
        .collect();
    let got: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(got, sent, "one result per report, in the order sent");
    for o in &outcomes {
        match o.status.as_str() {
            "credited" => assert!(o.reason.is_none() && o.credited_ms >= 0, "{o:?}"),
            "duplicate" => assert!(o.reason.is_none() && o.credited_ms == 0, "{o:?}"),
            "rejected" => {
                assert_eq!(o.credited_ms, 0, "{o:?}");
                assert!(!o.reason().trim().is_empty(), "a rejection says why: {o:?}");
            }
            other => panic!("unknown status {other}: {o:?}"),
        }
    }
    outcomes
}

/// Posts one report and returns what became of it.
async fn watch_one(who: As<'_>, report: Value) -> Outcome {
    watch(who, report).await.remove(0)
}

// ---------------------------------------------------------------------------------------------
// Hours

async fn hours(who: As<'_>, member: &str, year: i32) -> Value {
    let reply = who
        .get(&format!("/api/v1/members/{member}/hours?year={year}"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["member"], member);
    assert_eq!(body["year"], year);
    // The parts add up: watched (per lesson) plus registered is what is credited.
    let lessons: i64 = lesson_credits(&body).values().sum();
    assert_eq!(body["watched_ms"].as_i64().unwrap(), lessons, "{body}");
    assert_eq!(
        body["credited_ms"].as_i64().unwrap(),
        lessons + body["registered_ms"].as_i64().unwrap(),
        "{body}"
    );
    body
}

/// Lesson → credited ms, from an hours body.
fn lesson_credits(hours: &Value) -> BTreeMap<String, i64> {
    hours["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lesson"].as_str().unwrap().to_string(),
                l["credited_ms"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Checks a member's year as the secretary worked it out: credited time, study hours to two
/// decimals, what was owed, whether it was met, and centralised trainings attended.
#[track_caller]
fn assert_year(
    hours: &Value,
    credited_ms: i64,
    study_hours: f64,
    required: u32,
    met: bool,
    centralised: u32,
) {
    assert_eq!(hours["credited_ms"].as_i64(), Some(credited_ms), "{hours}");
    assert_eq!(hours["hours"].as_f64(), Some(study_hours), "{hours}");
    assert_eq!(
        hours["required_hours"].as_u64(),
        Some(u64::from(required)),
        "{hours}"
    );
    assert_eq!(hours["met"].as_bool(), Some(met), "{hours}");
    assert_eq!(
        hours["centralised_trainings"].as_u64(),
        Some(u64::from(centralised)),
        "{hours}"
    );
}

/// The totals the ledger keeps equal the totals recomputed from its raw entries.
#[track_caller]
fn assert_ledger_adds_up(app: &TestApp) {
    let problems = yuanjiao::ledger::report::verify(&app.services).unwrap();
    assert!(problems.is_empty(), "kept totals differ: {problems:#?}");
}

fn registration(id: &str, date: &str, duration_ms: i64, reason: &str) -> Value {
    json!({
        "id": id,
        "date": date,
        "duration_ms": duration_ms,
        "reason": reason,
        "centralised": false,
        "corrects": null,
    })
}

async fn register(who: As<'_>, member: &str, body: Value) -> Reply {
    who.post(&format!("/api/v1/members/{member}/registrations"), body)
        .await
}

/// Registers `hours` study hours for `member` in 2026, in entries of at most a day.
async fn register_hours(who: As<'_>, member: &str, hours: i64) {
    let mut left = hours * STUDY_HOUR;
    let mut n = 0;
    while left > 0 {
        let part = left.min(DAY);
        let body = registration(
            &format!("{member}-lecture-{n}"),
            "2026-02-20",
            part,
            "县委宣讲团专题党课",
        );
        let reply = register(who, member, body).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        left -= part;
        n += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// 1-3. What one member's plays earn

#[tokio::test]
async fn seeking_to_the_end_earns_only_the_seconds_actually_played() {
    let w = World::at(MARCH).await;
    w.course("seek", &[("seek-1", 10 * MIN)]);
    let phone = w.member("M-a", "v1");
    let me = w.with(&phone);

    // Ten seconds at the start, a jump to the last ten seconds: 30 s on the clock.
    let start = w.now - HOUR;
    let outcome = watch_one(
        me,
        report(
            "seek-r1",
            "M-a",
            "seek-1",
            &[(0, 10 * SEC), (590 * SEC, 600 * SEC)],
            (start, start + 30 * SEC),
        ),
    )
    .await;
    assert!(outcome.is("credited", 20 * SEC), "{outcome:?}");

    let year = hours(me, "M-a", 2026).await;
    // 20 s of 45 min: 0.0074 study hours, 0.01 to two decimals.
    assert_year(&year, 20 * SEC, 0.01, 32, false, 0);
    assert_eq!(year["registered_ms"], 0);
    assert_eq!(
        year["lessons"],
        json!([{"lesson": "seek-1", "credited_ms": 20_000, "duration_ms": 600_000}])
    );
    assert_ledger_adds_up(&w.app);
}

#[tokio::test]
async fn rewatching_earns_once_and_fast_forward_earns_only_wall_time_plus_tolerance() {
    let w = World::at(MARCH).await;
    w.course("again", &[("again-1", 10 * MIN), ("again-2", 10 * MIN)]);
    let phone = w.member("M-a", "v1");
    let me = w.with(&phone);

    // The first five minutes, three times, on three afternoons' worth of hours.
    let mut got = Vec::new();
    for (n, hours_ago) in [5, 3, 1].into_iter().enumerate() {
        let start = w.now - hours_ago * HOUR;
        got.push(
            watch_one(
                me,
                report(
                    &format!("again-r{n}"),
                    "M-a",
                    "again-1",
                    &[(0, 5 * MIN)],
                    (start, start + 5 * MIN),
                ),
            )
            .await,
        );
    }
    let earned: Vec<(&str, i64)> = got
        .iter()
        .map(|o| (o.status.as_str(), o.credited_ms))
        .collect();
    assert_eq!(
        earned,
        [("credited", 5 * MIN), ("credited", 0), ("credited", 0)],
        "new reports, but the same minutes: credited once"
    );

    // Ten minutes of media in one minute of wall: the minute plus the 2 s tolerance.
    let start = w.now - 4 * HOUR;
    let fast = watch_one(
        me,
        report(
            "again-ff",
            "M-a",
            "again-2",
            &[(0, 10 * MIN)],
            (start, start + MIN),
        ),
    )
    .await;
    assert!(fast.is("credited", MIN + TOLERANCE), "{fast:?}");
    let year = hours(me, "M-a", 2026).await;
    // 5 min + 62 s = 362 s: 0.134 study hours.
    assert_year(&year, 5 * MIN + MIN + TOLERANCE, 0.13, 32, false, 0);
    let lessons = lesson_credits(&year);
    assert_eq!(lessons["again-1"], 5 * MIN);
    assert_eq!(lessons["again-2"], 62 * SEC);

    // Only credited time counts as watched: watching the lesson properly earns the rest.
    let start = w.now - 2 * HOUR;
    let proper = watch_one(
        me,
        report(
            "again-proper",
            "M-a",
            "again-2",
            &[(0, 10 * MIN)],
            (start, start + 10 * MIN),
        ),
    )
    .await;
    assert!(proper.is("credited", 10 * MIN - 62 * SEC), "{proper:?}");
    let year = hours(me, "M-a", 2026).await;
    // 5 + 10 = 15 min: a third of a study hour.
    assert_year(&year, 15 * MIN, 0.33, 32, false, 0);
    assert_eq!(lesson_credits(&year)["again-2"], 10 * MIN);
    assert_ledger_adds_up(&w.app);
}

#[tokio::test]
async fn two_devices_at_once_earn_no_more_than_the_wall_time_plus_one_tolerance() {
    let w = World::at(MARCH).await;
    w.course("twice", &[("twice-1", 10 * MIN), ("twice-2", 10 * MIN)]);
    let phone = w.member("M-a", "v1");
    let station = w.station("st-v1", "v1");

    // 08:00-08:10 on the phone; 08:05-08:15 at the station, another lesson: 15 min of wall.
    let t = w.now - 3 * HOUR;
    let on_phone = watch_one(
        w.with(&phone),
        report(
            "twice-phone",
            "M-a",
            "twice-1",
            &[(0, 10 * MIN)],
            (t, t + 10 * MIN),
        ),
    )
    .await;
    assert!(on_phone.is("credited", 10 * MIN), "{on_phone:?}");
    let at_station = watch_one(
        w.with(&station),
        report(
            "twice-station",
            "M-a",
            "twice-2",
            &[(0, 10 * MIN)],
            (t + 5 * MIN, t + 15 * MIN),
        ),
    )
    .await;
    // The station's report earns only its wall time the phone did not use, plus its tolerance.
    assert!(
        at_station.is("credited", 5 * MIN + TOLERANCE),
        "{at_station:?}"
    );

    let year = hours(w.with(&phone), "M-a", 2026).await;
    assert_year(&year, 15 * MIN + TOLERANCE, 0.33, 32, false, 0);
    for (lesson, credited) in lesson_credits(&year) {
        assert!(
            (5 * MIN..=10 * MIN).contains(&credited),
            "{lesson}: {credited}"
        );
    }

    // A third device over the same quarter hour adds nothing at all.
    let third = watch_one(
        w.with(&phone),
        report(
            "twice-third",
            "M-a",
            "twice-2",
            &[(0, 10 * MIN)],
            (t + 2 * MIN, t + 12 * MIN),
        ),
    )
    .await;
    assert!(third.is("credited", 0), "{third:?}");
    assert_eq!(
        hours(w.with(&phone), "M-a", 2026).await["credited_ms"],
        15 * MIN + TOLERANCE
    );
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 4-5. Stations: offline batches, double delivery, wrong clocks

#[tokio::test]
async fn a_week_of_offline_reports_delivered_twice_is_credited_once_report_by_report() {
    let mut w = World::at(MARCH).await;
    w.course("week", &[("week-1", 10 * MIN), ("week-2", 10 * MIN)]);
    let a = w.member("M-a", "v1");
    w.member("M-b", "v1");
    let station = w.station("st-v1", "v1");

    // Ten evenings' worth of two-minute sittings over the past week for each member. M-a
    // works through both lessons once; M-b goes through the first lesson twice.
    let mut reports = Vec::new();
    let mut expected = Vec::new();
    for k in 0..10 {
        let chunk = (k % 5) * 2 * MIN;
        let played = [(chunk, chunk + 2 * MIN)];
        let a_start = w.now - 7 * DAY + k * 15 * HOUR;
        let lesson = if k < 5 { "week-1" } else { "week-2" };
        reports.push(report(
            &format!("a-{k}"),
            "M-a",
            lesson,
            &played,
            (a_start, a_start + 2 * MIN),
        ));
        expected.push(("credited", 2 * MIN));
        let b_start = a_start + HOUR;
        reports.push(report(
            &format!("b-{k}"),
            "M-b",
            "week-1",
            &played,
            (b_start, b_start + 2 * MIN),
        ));
        expected.push(("credited", if k < 5 { 2 * MIN } else { 0 }));
    }
    // Mixed in: a member the server does not know, and a sitting from 91 days ago.
    reports.insert(
        5,
        report(
            "nobody-1",
            "M-nobody",
            "week-1",
            &[(0, MIN)],
            (w.now - DAY, w.now - DAY + MIN),
        ),
    );
    expected.insert(5, ("rejected", 0));
    let old = w.now - 91 * DAY;
    reports.insert(
        12,
        report("old-1", "M-a", "week-1", &[(0, MIN)], (old, old + MIN)),
    );
    expected.insert(12, ("rejected", 0));
    assert_eq!(reports.len(), 22);

    // Over the network, stamped with the station's (right) clock.
    let network: Vec<Value> = reports
        .iter()
        .map(|r| with_field(r.clone(), "device_clock", json!(ts(w.now))))
        .collect();
    let first = watch(w.with(&station), batch(&network)).await;
    let got: Vec<(&str, i64)> = first
        .iter()
        .map(|o| (o.status.as_str(), o.credited_ms))
        .collect();
    assert_eq!(got, expected, "{first:#?}");
    assert!(first[5].reason().contains("M-nobody"), "{:?}", first[5]);
    assert!(first[12].reason().contains("ago"), "{:?}", first[12]);

    let year_a = hours(w.with(&station), "M-a", 2026).await;
    // Both lessons in full: 20 min, 0.44 study hours.
    assert_year(&year_a, 20 * MIN, 0.44, 32, false, 0);
    assert_eq!(
        lesson_credits(&year_a),
        BTreeMap::from([("week-1".into(), 10 * MIN), ("week-2".into(), 10 * MIN)])
    );
    let year_b = hours(w.with(&station), "M-b", 2026).await;
    assert_year(&year_b, 10 * MIN, 0.22, 32, false, 0);

    // An hour later the same files arrive "by USB": same ids and bodies, another device clock.
    w.set_now(w.now + HOUR);
    let usb: Vec<Value> = reports
        .iter()
        .map(|r| with_field(r.clone(), "device_clock", json!(ts(w.now))))
        .collect();
    let second = watch(w.with(&station), batch(&usb)).await;
    for (n, o) in second.iter().enumerate() {
        match n {
            5 => assert!(
                o.is("rejected", 0) && o.reason().contains("M-nobody"),
                "{o:?}"
            ),
            12 => assert!(o.is("rejected", 0) && o.reason().contains("ago"), "{o:?}"),
            _ => assert!(o.is("duplicate", 0), "{o:?}"),
        }
    }
    assert_eq!(hours(w.with(&a), "M-a", 2026).await, year_a);
    assert_eq!(
        hours(w.with(&station), "M-b", 2026).await["credited_ms"],
        10 * MIN
    );

    // A used id with another body is a conflict, whatever changed: the media, or the member.
    let changed_media = with_field(reports[0].clone(), "played", json!([[0, 3 * MIN]]));
    let changed_member = with_field(reports[1].clone(), "member", json!("M-a"));
    let conflicts = watch(w.with(&station), batch(&[changed_media, changed_member])).await;
    for o in &conflicts {
        assert!(o.is("rejected", 0), "{o:?}");
        assert!(o.reason().contains("already used"), "{o:?}");
    }
    assert_eq!(hours(w.with(&a), "M-a", 2026).await, year_a);
    assert_ledger_adds_up(&w.app);
}

#[tokio::test]
async fn a_station_clock_a_day_wrong_is_corrected_by_its_device_clock_and_without_one_the_future_is_refused(
) {
    let w = World::at(MARCH).await;
    w.course(
        "clock",
        &[
            ("clock-1", 10 * MIN),
            ("clock-2", 10 * MIN),
            ("clock-3", 10 * MIN),
            ("clock-4", 10 * MIN),
        ],
    );
    let a = w.member("M-a", "v1");
    w.member("M-b", "v1");
    let station = w.station("st-v1", "v1");
    let st = w.with(&station);
    let now = w.now;

    // The station thinks it is yesterday: 20 to 10 minutes ago reads as a day earlier.
    let behind = with_field(
        report(
            "clock-behind",
            "M-a",
            "clock-1",
            &[(0, 10 * MIN)],
            (now - DAY - 20 * MIN, now - DAY - 10 * MIN),
        ),
        "device_clock",
        json!(ts(now - DAY)),
    );
    assert!(watch_one(st, behind).await.is("credited", 10 * MIN));
    // 100 days behind: without the correction it would be too old.
    let far_behind = with_field(
        report(
            "clock-far-behind",
            "M-a",
            "clock-2",
            &[(0, 5 * MIN)],
            (now - 100 * DAY - 40 * MIN, now - 100 * DAY - 35 * MIN),
        ),
        "device_clock",
        json!(ts(now - 100 * DAY)),
    );
    assert!(watch_one(st, far_behind).await.is("credited", 5 * MIN));

    // A day ahead, and no device clock to correct it by: refused, with the reason.
    let ahead = report(
        "clock-ahead",
        "M-a",
        "clock-3",
        &[(0, 10 * MIN)],
        (now + DAY - 10 * MIN, now + DAY),
    );
    let refused = watch_one(st, ahead.clone()).await;
    assert_eq!(refused.status, "rejected");
    assert!(
        refused.reason().contains("86400 s in the future"),
        "{refused:?}"
    );
    // The same sitting with the station's clock reading: the last ten minutes.
    let corrected = with_field(
        with_field(ahead, "id", json!("clock-ahead-2")),
        "device_clock",
        json!(ts(now + DAY)),
    );
    assert!(watch_one(st, corrected).await.is("credited", 10 * MIN));
    // Uncorrected and 100 days old: too old.
    let stale = report(
        "clock-stale",
        "M-a",
        "clock-4",
        &[(0, 10 * MIN)],
        (now - 100 * DAY, now - 100 * DAY + 10 * MIN),
    );
    let stale = watch_one(st, stale).await;
    assert_eq!(stale.status, "rejected");
    assert!(stale.reason().contains("ago"), "{stale:?}");

    // Credited at the corrected times: resume says when each play ended.
    let resume = w.with(&a).get("/api/v1/members/M-a/resume").await;
    assert_eq!(resume.status, 200, "{}", resume.text());
    let body = resume.json();
    assert_eq!(body["member"], "M-a");
    let at: BTreeMap<String, (i64, i64)> = body["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lesson"].as_str().unwrap().to_string(),
                (
                    l["position_ms"].as_i64().unwrap(),
                    l["at_ms"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(
        at,
        BTreeMap::from([
            ("clock-1".into(), (10 * MIN, now - 10 * MIN)),
            ("clock-2".into(), (5 * MIN, now - 35 * MIN)),
            ("clock-3".into(), (10 * MIN, now)),
        ])
    );
    let year = hours(w.with(&a), "M-a", 2026).await;
    // 10 + 5 + 10 = 25 min: 0.5556 study hours.
    assert_year(&year, 25 * MIN, 0.56, 32, false, 0);

    // Without a device clock, up to the allowed skew (5 min) ahead is fine; beyond, refused.
    let skewed = report(
        "clock-skew-ok",
        "M-b",
        "clock-4",
        &[(0, 10 * MIN)],
        (now - 6 * MIN, now + 4 * MIN),
    );
    assert!(watch_one(st, skewed).await.is("credited", 10 * MIN));
    let too_skewed = report(
        "clock-skew-bad",
        "M-b",
        "clock-3",
        &[(0, 10 * MIN)],
        (now - 4 * MIN, now + 6 * MIN),
    );
    let too_skewed = watch_one(st, too_skewed).await;
    assert_eq!(too_skewed.status, "rejected");
    assert!(
        too_skewed.reason().contains("360 s in the future"),
        "{too_skewed:?}"
    );
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 6. Group study

#[tokio::test]
async fn a_group_session_credits_each_member_their_presence_and_counts_as_centralised_training() {
    let w = World::at(MARCH).await;
    w.course("group", &[("group-1", 30 * MIN)]);
    let station = w.station("st-v1", "v1");
    let other_station = w.station("st-v2", "v2");
    let st = w.with(&station);
    let a = w.member("M-a", "v1"); // on time
    let b = w.member("M-b", "v1"); // late
    w.member("M-c", "v1"); // leaves early
    let d = w.member("M-d", "v1"); // stays home
    w.member("M-x", "v2"); // another village
    let s = w.person("M-s", "卓玛书记", "v1", None, &[Post::Secretary]);
    let town = w.manager("town");

    // The secretary already has 56 hours from lectures, but no centralised training yet.
    register_hours(w.with(&town), "M-s", 56).await;
    let before = hours(w.with(&s), "M-s", 2026).await;
    assert_year(&before, 56 * STUDY_HOUR, 56.0, 56, false, 0);

    let open = json!({"id": "gs-1", "lesson": "group-1", "lang": "zh-Hans"});
    let opened = st.post("/api/v1/group-sessions", open.clone()).await;
    assert_eq!(opened.status, 201, "{}", opened.text());
    assert_eq!(opened.json()["id"], "gs-1");
    let again = st.post("/api/v1/group-sessions", open.clone()).await;
    assert_eq!((again.status, again.error_code().as_str()), (409, "exists"));
    let by_member = w.with(&a).post("/api/v1/group-sessions", open).await;
    assert_eq!(by_member.status, 403, "only a station runs group study");

    let t0 = w.now - 2 * HOUR;
    let checks = |events: Value| json!({ "events": events });
    let first = st
        .post(
            "/api/v1/group-sessions/gs-1/attendance",
            checks(json!([
                {"member": "M-a", "action": "in", "at": ts(t0 - 5 * MIN)},
                {"member": "M-c", "action": "in", "at": ts(t0 - MIN)},
                {"member": "M-s", "action": "in", "at": ts(t0)},
            ])),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    // A member of another village cannot be checked in here.
    let stranger = st
        .post(
            "/api/v1/group-sessions/gs-1/attendance",
            checks(json!([{"member": "M-x", "action": "in", "at": ts(t0)}])),
        )
        .await;
    assert_eq!(stranger.status, 422, "{}", stranger.text());
    // Nor may another station touch this session.
    let foreign = w
        .with(&other_station)
        .post(
            "/api/v1/group-sessions/gs-1/attendance",
            checks(json!([{"member": "M-x", "action": "in", "at": ts(t0)}])),
        )
        .await;
    assert_eq!(foreign.status, 403, "{}", foreign.text());
    let later = st
        .post(
            "/api/v1/group-sessions/gs-1/attendance",
            checks(json!([
                {"member": "M-b", "action": "in", "at": ts(t0 + 10 * MIN)},
                {"member": "M-c", "action": "out", "at": ts(t0 + 20 * MIN)},
            ])),
        )
        .await;
    assert_eq!(later.status, 200, "{}", later.text());

    // Half an hour of playback, t0 to t0+30min.
    let end = json!({
        "played": [[0, 30 * MIN]],
        "wall": [ts(t0), ts(t0 + 30 * MIN)],
        "position_ms": 30 * MIN,
    });
    let ended = st
        .post("/api/v1/group-sessions/gs-1/end", end.clone())
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    let body = ended.json();
    assert_eq!(body["session"], "gs-1");
    let credited: BTreeMap<String, (i64, i64)> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["member"].as_str().unwrap().to_string(),
                (
                    r["present_ms"].as_i64().unwrap(),
                    r["credited_ms"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(
        credited,
        BTreeMap::from([
            ("M-a".into(), (30 * MIN, 30 * MIN)),
            // Arrived 10 minutes in: minutes 10-30 of the lesson.
            ("M-b".into(), (20 * MIN, 20 * MIN)),
            // Left 20 minutes in: minutes 0-20.
            ("M-c".into(), (20 * MIN, 20 * MIN)),
            ("M-s".into(), (30 * MIN, 30 * MIN)),
        ])
    );

    let again = st.post("/api/v1/group-sessions/gs-1/end", end).await;
    assert_eq!((again.status, again.error_code().as_str()), (409, "ended"));
    let too_late = st
        .post(
            "/api/v1/group-sessions/gs-1/attendance",
            checks(json!([{"member": "M-d", "action": "in", "at": ts(t0)}])),
        )
        .await;
    assert_eq!(too_late.status, 409, "{}", too_late.text());

    assert_year(&hours(st, "M-a", 2026).await, 30 * MIN, 0.67, 32, false, 1);
    assert_year(&hours(st, "M-b", 2026).await, 20 * MIN, 0.44, 32, false, 1);
    assert_year(&hours(st, "M-c", 2026).await, 20 * MIN, 0.44, 32, false, 1);
    assert_year(&hours(st, "M-d", 2026).await, 0, 0.0, 32, false, 0);
    // 56 h + 30 min = 153,000,000 ms = 56.67 study hours, and now a centralised training.
    let after = hours(w.with(&s), "M-s", 2026).await;
    assert_year(&after, 56 * STUDY_HOUR + 30 * MIN, 56.67, 56, true, 1);
    assert_eq!(
        lesson_credits(&after),
        BTreeMap::from([("group-1".into(), 30 * MIN)])
    );

    // The late member catches up on the first ten minutes on the phone: the lesson is whole.
    let catch_up = watch_one(
        w.with(&b),
        report(
            "b-catch-up",
            "M-b",
            "group-1",
            &[(0, 10 * MIN)],
            (w.now - 30 * MIN, w.now - 20 * MIN),
        ),
    )
    .await;
    assert!(catch_up.is("credited", 10 * MIN), "{catch_up:?}");
    let year_b = hours(w.with(&b), "M-b", 2026).await;
    assert_year(&year_b, 30 * MIN, 0.67, 32, false, 1);

    // A member who was not checked in cannot claim the session in a report of their own.
    let claim = with_field(
        report(
            "d-claim",
            "M-d",
            "group-1",
            &[(0, 10 * MIN)],
            (w.now - 50 * MIN, w.now - 40 * MIN),
        ),
        "group_session",
        json!("gs-1"),
    );
    let claim = watch_one(w.with(&d), claim).await;
    assert_eq!(claim.status, "rejected");
    assert!(claim.reason().contains("not checked in"), "{claim:?}");
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 7. Mobile members

#[tokio::test]
async fn a_mobile_member_is_credited_by_the_station_where_they_live_not_the_one_at_home() {
    let w = World::at(MARCH).await;
    w.course("mobile", &[("mobile-1", 10 * MIN)]);
    // Lives (and works) in v2 now; their home branch is v1.
    let m = w.person("M-m", "外出务工党员", "v2", Some("v1"), &[Post::Member]);
    let here = w.station("st-v2", "v2");
    let home = w.station("st-v1", "v1");

    let t = w.now - 2 * HOUR;
    let credited = watch_one(
        w.with(&here),
        report(
            "m-here",
            "M-m",
            "mobile-1",
            &[(0, 10 * MIN)],
            (t, t + 10 * MIN),
        ),
    )
    .await;
    assert!(credited.is("credited", 10 * MIN), "{credited:?}");
    let refused = watch_one(
        w.with(&home),
        report(
            "m-home",
            "M-m",
            "mobile-1",
            &[(0, 10 * MIN)],
            (t + HOUR, t + HOUR + 10 * MIN),
        ),
    )
    .await;
    assert_eq!(refused.status, "rejected");
    assert!(refused.reason().contains("may not credit"), "{refused:?}");

    let year = hours(w.with(&m), "M-m", 2026).await;
    assert_year(&year, 10 * MIN, 0.22, 32, false, 0);
    assert_eq!(hours(w.with(&here), "M-m", 2026).await, year);
    // The home branch's manager still sees them; the home station does not.
    assert_eq!(hours(w.with(&w.manager("v1")), "M-m", 2026).await, year);
    let path = "/api/v1/members/M-m/hours?year=2026";
    assert_eq!(w.with(&home).get(path).await.status, 403);
    // They count where they live.
    let town = w.manager("town");
    let report = w
        .with(&town)
        .get("/api/v1/reports/orgs/town?year=2026")
        .await;
    assert_eq!(report.status, 200, "{}", report.text());
    let body = report.json();
    let child = |id: &str| {
        body["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["org"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(child("v1")["members"], 0);
    assert_eq!(child("v2")["members"], 1);
    assert_eq!(child("v2")["credited_ms"], 10 * MIN);
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 8. Registrations

#[tokio::test]
async fn managers_register_hours_with_a_reason_and_correct_them_with_new_entries() {
    let w = World::at(MARCH).await;
    let m = w.member("M-r", "v1");
    w.member("M-other", "v1");
    let station = w.station("st-v1", "v1");
    let town = w.manager("town");
    let mgr = w.with(&town);
    let path = "/api/v1/members/M-r/hours?year=2026";

    // A two-hour lecture on the party constitution.
    let lecture = registration("reg-1", "2026-03-01", 2 * STUDY_HOUR, "党课：学习党章");
    let created = register(mgr, "M-r", lecture.clone()).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["id"], "reg-1");
    let year = hours(w.with(&m), "M-r", 2026).await;
    assert_year(&year, 2 * STUDY_HOUR, 2.0, 32, false, 0);
    assert_eq!(year["registered_ms"], 2 * STUDY_HOUR);
    assert_eq!(year["lessons"], json!([]));

    // Sent again (a retry): nothing new.
    let again = register(mgr, "M-r", lecture.clone()).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(hours(w.with(&m), "M-r", 2026).await, year);
    // The same id for another entry is a conflict.
    let other = with_field(lecture.clone(), "duration_ms", json!(3 * STUDY_HOUR));
    let conflict = register(mgr, "M-r", other).await;
    assert_eq!(conflict.status, 409, "{}", conflict.text());

    // One hour too many was registered: a correction takes it back.
    let mut correction = registration("reg-2", "2026-03-01", -STUDY_HOUR, "多登记了一小时");
    correction["corrects"] = json!("reg-1");
    let corrected = register(mgr, "M-r", correction).await;
    assert_eq!(corrected.status, 201, "{}", corrected.text());
    let year = hours(w.with(&m), "M-r", 2026).await;
    assert_year(&year, STUDY_HOUR, 1.0, 32, false, 0);

    // Corrections never take more than the entry gave, nor correct a correction.
    let mut over = registration("reg-3", "2026-03-01", -2 * STUDY_HOUR, "再更正");
    over["corrects"] = json!("reg-1");
    let over = register(mgr, "M-r", over).await;
    assert_eq!(
        (over.status, over.error_code().as_str()),
        (422, "invalid"),
        "{}",
        over.text()
    );
    let mut nested = registration("reg-4", "2026-03-01", -MIN, "更正的更正");
    nested["corrects"] = json!("reg-2");
    assert_eq!(register(mgr, "M-r", nested).await.status, 422);
    let negative = registration("reg-5", "2026-03-01", -MIN, "没有说明更正哪条");
    assert_eq!(register(mgr, "M-r", negative).await.status, 422);
    let mut nothing = registration("reg-6", "2026-03-01", -MIN, "更正不存在的登记");
    nothing["corrects"] = json!("reg-none");
    assert_eq!(register(mgr, "M-r", nothing).await.status, 422);

    // No reason, a blank one, a bad date, no time: refused.
    for (field, value) in [
        ("reason", json!("")),
        ("reason", json!("   ")),
        ("date", json!("2026-02-30")),
        ("duration_ms", json!(0)),
        ("duration_ms", json!(DAY + 1)),
    ] {
        let bad = with_field(
            registration("reg-bad", "2026-03-01", STUDY_HOUR, "集中学习"),
            field,
            value.clone(),
        );
        let reply = register(mgr, "M-r", bad).await;
        assert_eq!(reply.status, 422, "{field} = {value}: {}", reply.text());
    }
    // A body without the field at all is not shaped like a registration: 400.
    let mut shapeless = registration("reg-bad", "2026-03-01", STUDY_HOUR, "集中学习");
    shapeless.as_object_mut().unwrap().remove("reason");
    assert_eq!(register(mgr, "M-r", shapeless).await.status, 400);

    // Only managers of the member's subtree (and admins) register.
    let fine = registration("reg-7", "2026-03-02", STUDY_HOUR, "主题党日");
    let other_manager = w.manager("other");
    for (who, token) in [
        ("the member", &m),
        ("their station", &station),
        ("another subtree's manager", &other_manager),
    ] {
        let reply = register(w.with(token), "M-r", fine.clone()).await;
        assert_eq!(reply.status, 403, "{who}: {}", reply.text());
    }
    assert_eq!(hours(w.with(&m), "M-r", 2026).await, year);
    assert_eq!(
        register(w.with(&w.manager("v1")), "M-r", fine).await.status,
        201
    );
    let unknown = register(
        w.admin(),
        "M-nobody",
        registration("reg-8", "2026-03-02", MIN, "x"),
    )
    .await;
    assert_eq!(unknown.status, 404);

    // A centralised training registered, then corrected to nothing, no longer counts.
    let mut training = registration("reg-9", "2026-03-03", 3 * STUDY_HOUR, "县委集中轮训");
    training["centralised"] = json!(true);
    assert_eq!(register(mgr, "M-r", training).await.status, 201);
    let year = hours(w.with(&m), "M-r", 2026).await;
    assert_year(&year, 5 * STUDY_HOUR, 5.0, 32, false, 1);
    let mut undo = registration("reg-10", "2026-03-03", -3 * STUDY_HOUR, "未参加轮训");
    undo["corrects"] = json!("reg-9");
    assert_eq!(register(mgr, "M-r", undo).await.status, 201);
    let year = hours(w.with(&m), "M-r", 2026).await;
    assert_year(&year, 2 * STUDY_HOUR, 2.0, 32, false, 0);
    // An entry dated in another year counts there.
    let last_year = registration("reg-11", "2025-12-31", STUDY_HOUR, "年终民主生活会");
    assert_eq!(register(mgr, "M-r", last_year).await.status, 201);
    assert_eq!(hours(w.with(&m), "M-r", 2026).await, year);
    assert_year(
        &hours(w.with(&m), "M-r", 2025).await,
        STUDY_HOUR,
        1.0,
        32,
        false,
        0,
    );

    // Who may read the hours: the member and their managers; not others.
    assert_eq!(As::anyone(&w.app).get(path).await.status, 401);
    let other_member = w.token(Principal::Member {
        member: "M-other".into(),
    });
    assert_eq!(w.with(&other_member).get(path).await.status, 403);
    assert_eq!(w.with(&other_manager).get(path).await.status, 403);
    assert_eq!(w.with(&town).get(path).await.status, 200);
    assert_eq!(
        w.admin()
            .get("/api/v1/members/M-nobody/hours?year=2026")
            .await
            .status,
        404
    );
    assert_eq!(
        w.with(&m)
            .get("/api/v1/members/M-r/hours?year=1999")
            .await
            .status,
        400
    );
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 9. Organisation reports

#[tokio::test]
async fn organisation_reports_roll_up_the_tree_as_json_and_as_csv_with_a_bom() {
    let w = World::at(MARCH).await;
    // v1: one member who met 32 h, one with 16 h. v2: a secretary with 56 h but no
    // centralised training, and a member with 32 h. town: one member with nothing yet.
    w.person("M1", "扎西", "v1", None, &[Post::Member]);
    w.person("M2", "卓玛", "v1", None, &[Post::Member]);
    w.person("M3", "次仁书记", "v2", None, &[Post::Secretary]);
    w.person("M4", "拉姆", "v2", None, &[Post::Member]);
    w.person("M5", "格桑", "town", None, &[Post::Member]);
    let county = w.manager("county");
    for (member, study_hours) in [("M1", 32), ("M2", 16), ("M3", 56), ("M4", 32)] {
        register_hours(w.with(&county), member, study_hours).await;
    }

    let town = w.manager("town");
    let reply = w
        .with(&town)
        .get("/api/v1/reports/orgs/town?year=2026")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let row = |v: &Value| {
        (
            v["org"].as_str().unwrap().to_string(),
            v["members"].as_u64().unwrap(),
            v["met"].as_u64().unwrap(),
            v["completion_rate"].as_f64().unwrap(),
            v["total_hours"].as_f64().unwrap(),
        )
    };
    assert_eq!(body["year"], 2026);
    assert_eq!(body["name"], "瓦切镇党总支");
    // 5 members, 2 met (M1, M4), 48 + 88 = 136 hours.
    assert_eq!(row(&body), ("town".into(), 5, 2, 0.4, 136.0));
    assert_eq!(body["own_members"], 1);
    assert_eq!(body["credited_ms"], 136 * STUDY_HOUR);
    let mut children: Vec<_> = body["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(row)
        .collect();
    children.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        children,
        [
            ("v1".into(), 2, 1, 0.5, 48.0),
            // The secretary has 56 h but no centralised training: not met.
            ("v2".into(), 2, 1, 0.5, 88.0),
        ]
    );

    let top = w
        .with(&county)
        .get("/api/v1/reports/orgs/county?year=2026")
        .await;
    assert_eq!(top.status, 200);
    let top = top.json();
    assert_eq!(row(&top), ("county".into(), 5, 2, 0.4, 136.0));
    let mut children: Vec<_> = top["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(row)
        .collect();
    children.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        children,
        [
            ("other".into(), 0, 0, 0.0, 0.0),
            ("town".into(), 5, 2, 0.4, 136.0)
        ]
    );
    // Three levels down and back: the town under the county holds the villages.
    let town_row = top["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["org"] == "town")
        .unwrap();
    assert_eq!(town_row["children"].as_array().unwrap().len(), 2);

    // The same rows as CSV, for a spreadsheet: UTF-8 with a BOM, Chinese names intact.
    let csv = w
        .with(&town)
        .get_with(
            "/api/v1/reports/orgs/town?year=2026",
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(&csv.body[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(csv.body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "year,org,name,kind,parent,depth,members,met,completion_rate,total_hours",
            "2026,town,瓦切镇党总支,general-branch,county,0,5,2,0.4000,136.00",
            "2026,v1,阿木柯村党支部,branch,town,1,2,1,0.5000,48.00",
            "2026,v2,查尔玛村党支部,branch,town,1,2,1,0.5000,88.00",
        ]
    );

    // One row per member.
    let members = w
        .with(&town)
        .get("/api/v1/reports/orgs/town?year=2026&by=member&format=csv")
        .await;
    assert_eq!(members.status, 200, "{}", members.text());
    assert!(members.header("content-type").starts_with("text/csv"));
    assert_eq!(&members.body[..3], b"\xEF\xBB\xBF");
    let mut reader = ::csv::Reader::from_reader(&members.body[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "member",
            "name",
            "org",
            "posts",
            "credited_ms",
            "hours",
            "required_hours",
            "met",
            "centralised_trainings"
        ]
    );
    let rows: BTreeMap<String, Vec<String>> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r.iter().map(String::from).collect())
        })
        .collect();
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        ["M1", "M2", "M3", "M4", "M5"]
    );
    let m3 = &rows["M3"];
    assert_eq!(
        (
            m3[1].as_str(),
            m3[2].as_str(),
            m3[3].as_str(),
            m3[4].as_str()
        ),
        ("次仁书记", "v2", "secretary", "151200000")
    );
    assert_eq!(m3[5].parse::<f64>().unwrap(), 56.0);
    assert_eq!(
        (m3[6].as_str(), m3[7].as_str(), m3[8].as_str()),
        ("56", "false", "0")
    );
    assert_eq!(rows["M2"][4], (16 * STUDY_HOUR).to_string());
    assert_eq!(rows["M1"][7], "true");
    assert_eq!(rows["M5"][4], "0");

    // As JSON, the same member rows.
    let json_rows = w
        .with(&town)
        .get("/api/v1/reports/orgs/town?year=2026&by=member")
        .await;
    assert_eq!(json_rows.status, 200);
    let json_rows = json_rows.json();
    assert_eq!(json_rows["members"].as_array().unwrap().len(), 5);

    // Only managers of that subtree; nothing to see for bad queries.
    let other = w.manager("other");
    for (token, path, status) in [
        (&other, "/api/v1/reports/orgs/town?year=2026", 403),
        (&other, "/api/v1/reports/orgs/v1?year=2026&format=csv", 403),
        (&town, "/api/v1/reports/orgs/county?year=2026", 403),
        (&town, "/api/v1/reports/orgs/v2?year=2026", 200),
        (&other, "/api/v1/reports/orgs/other?year=2026", 200),
        (&town, "/api/v1/reports/orgs/town?year=2026&format=xml", 400),
        (&town, "/api/v1/reports/orgs/town?year=2026&by=branch", 400),
        (&w.admin, "/api/v1/reports/orgs/nowhere?year=2026", 404),
    ] {
        let reply = w.with(token).get(path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
    }
    let m1 = w.token(Principal::Member {
        member: "M1".into(),
    });
    assert_eq!(
        w.with(&m1)
            .get("/api/v1/reports/orgs/v1?year=2026")
            .await
            .status,
        403
    );
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 10. Resume

#[tokio::test]
async fn resume_comes_from_the_latest_wall_time_whatever_order_reports_arrive_in() {
    let w = World::at(MARCH).await;
    w.course("resume", &[("resume-1", 10 * MIN)]);
    let phone = w.member("M-a", "v1");
    let other = w.member("M-b", "v1");
    let station = w.station("st-v1", "v1");
    let me = w.with(&phone);
    let now = w.now;

    // This morning's sitting arrives first; last night's, sent from the station, arrives after.
    let late = report(
        "r-late",
        "M-a",
        "resume-1",
        &[(3 * MIN, 7 * MIN)],
        (now - HOUR, now - HOUR + 4 * MIN),
    );
    assert!(watch_one(me, late).await.is("credited", 4 * MIN));
    let early = report(
        "r-early",
        "M-a",
        "resume-1",
        &[(0, 9 * MIN)],
        (now - 12 * HOUR, now - 12 * HOUR + 9 * MIN),
    );
    // Minutes 0-9 with 3-7 already credited: 5 new minutes.
    assert!(watch_one(w.with(&station), early)
        .await
        .is("credited", 5 * MIN));

    let resume = me.get("/api/v1/members/M-a/resume").await;
    assert_eq!(resume.status, 200, "{}", resume.text());
    assert_eq!(
        resume.json(),
        json!({"member": "M-a", "lessons": [
            {"lesson": "resume-1", "position_ms": 7 * MIN, "at_ms": now - HOUR + 4 * MIN}
        ]})
    );
    let play = me.get("/api/v1/lessons/resume-1/play").await;
    assert_eq!(play.status, 200, "{}", play.text());
    assert_eq!(play.json()["resume_ms"], 7 * MIN);
    // Only a member's own token carries a position.
    let station_play = w.with(&station).get("/api/v1/lessons/resume-1/play").await;
    assert_eq!(station_play.status, 200);
    assert_eq!(station_play.json()["resume_ms"], Value::Null);
    let fresh = w.with(&other).get("/api/v1/lessons/resume-1/play").await;
    assert_eq!(fresh.json()["resume_ms"], Value::Null);

    // Seeking back in a newer sitting moves the position back.
    let newest = report(
        "r-newest",
        "M-a",
        "resume-1",
        &[(MIN, 3 * MIN)],
        (now - 10 * MIN, now - 8 * MIN),
    );
    assert!(watch_one(me, newest).await.is("credited", 0));
    assert_eq!(
        me.get("/api/v1/lessons/resume-1/play").await.json()["resume_ms"],
        3 * MIN
    );
    // 0-9 minutes of the lesson: 540 s, 0.2 study hours.
    assert_year(&hours(me, "M-a", 2026).await, 9 * MIN, 0.2, 32, false, 0);
    assert_eq!(
        w.with(&other)
            .get("/api/v1/members/M-a/resume")
            .await
            .status,
        403
    );
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 11. Shapes and rules

#[tokio::test]
async fn a_body_that_is_not_json_or_not_shaped_like_reports_is_refused_whole() {
    let w = World::at(MARCH).await;
    w.course("shape", &[("shape-1", 10 * MIN)]);
    let phone = w.member("M-a", "v1");
    w.member("M-b", "v1");
    let me = w.with(&phone);
    let t = w.now - 2 * HOUR;
    let good = report(
        "good-1",
        "M-a",
        "shape-1",
        &[(0, 10 * MIN)],
        (t, t + 10 * MIN),
    );

    let mut no_wall = report("no-wall", "M-a", "shape-1", &[(0, MIN)], (t, t + MIN));
    no_wall.as_object_mut().unwrap().remove("wall");
    let bodies = [
        "this is not JSON".to_string(),
        "{\"reports\": [".to_string(),
        batch(&[good.clone(), no_wall]).to_string(),
        json!({"reports": {"id": "x"}}).to_string(),
        json!({"reports": [good.clone()], "station": "st-v1"}).to_string(),
        with_field(good.clone(), "comment", json!("unknown field")).to_string(),
        with_field(good.clone(), "played", json!([[-5, 10]])).to_string(),
        with_field(good.clone(), "wall", json!(["yesterday", "today"])).to_string(),
        with_field(good.clone(), "position_ms", json!("end")).to_string(),
        json!([good.clone()]).to_string(),
    ];
    for body in &bodies {
        let reply = me.post_raw("/api/v1/watch", body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
        assert_eq!(reply.error_code(), "bad-json", "{body}");
    }
    // Nothing from those requests was credited, not even the good report beside a bad one.
    assert_eq!(hours(me, "M-a", 2026).await["credited_ms"], 0);
    assert!(watch_one(me, good).await.is("credited", 10 * MIN));

    // Well-formed reports that break a rule are rejected one by one, inside a 200.
    let later = t + HOUR;
    let rules = [
        report(
            "reversed",
            "M-a",
            "shape-1",
            &[(MIN, 0)],
            (later, later + MIN),
        ),
        report(
            "too-long",
            "M-a",
            "shape-1",
            &[(0, MIN)],
            (later - DAY - MIN, later),
        ),
        report(
            "backwards",
            "M-a",
            "shape-1",
            &[(0, MIN)],
            (later, later - MIN),
        ),
        report(
            "no-lesson",
            "M-a",
            "nothing-1",
            &[(0, MIN)],
            (later, later + MIN),
        ),
        report(
            "not-mine",
            "M-b",
            "shape-1",
            &[(0, MIN)],
            (later, later + MIN),
        ),
        report(
            "bad id",
            "M-a",
            "shape-1",
            &[(0, MIN)],
            (later, later + MIN),
        ),
        report("fine", "M-a", "shape-1", &[(0, MIN)], (later, later + MIN)),
    ];
    let outcomes = watch(me, batch(&rules)).await;
    let reasons: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|o| (o.status.as_str(), o.reason()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "rejected",
                "played interval [60000, 0) is empty or reversed"
            ),
            (
                "rejected",
                "the wall interval must end after it starts and last at most a day"
            ),
            (
                "rejected",
                "the wall interval must end after it starts and last at most a day"
            ),
            ("rejected", "no published lesson \"nothing-1\""),
            ("rejected", "this token may not credit member \"M-b\""),
            (
                "rejected",
                "report id must be 1-100 printable characters without spaces"
            ),
            ("credited", ""),
        ]
    );
    // Rejected reports are not kept: the fixed one goes through under the same id.
    let fixed = report(
        "reversed",
        "M-a",
        "shape-1",
        &[(0, MIN)],
        (later, later + MIN),
    );
    assert!(watch_one(me, fixed).await.is("credited", 0));
    assert_eq!(hours(me, "M-a", 2026).await["credited_ms"], 10 * MIN);

    let anonymous = As::anyone(&w.app)
        .post(
            "/api/v1/watch",
            report("anon", "M-a", "shape-1", &[(0, MIN)], (t, t + MIN)),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// New Year

#[tokio::test]
async fn a_report_spanning_new_year_in_shanghai_is_split_and_the_new_year_counts_afresh() {
    // 23:00 on New Year's Eve in Shanghai.
    let mut w = World::at("2026-12-31T15:00:00Z").await;
    w.course("ny", &[("ny-1", 10 * MIN), ("ny-2", 10 * MIN)]);
    let phone = w.member("M-a", "v1");
    let me = phone;
    let default_year = |body: Value| body["year"].as_i64().unwrap();
    let this_year = w.with(&me).get("/api/v1/members/M-a/hours").await;
    assert_eq!(default_year(this_year.json()), 2026);

    // Three days later.
    w.set_now(at("2027-01-03T02:00:00Z"));
    let this_year = w.with(&me).get("/api/v1/members/M-a/hours").await;
    assert_eq!(default_year(this_year.json()), 2027);

    // 23:55 to 00:05 in Shanghai: five minutes of each year.
    let span = report(
        "ny-span",
        "M-a",
        "ny-1",
        &[(0, 10 * MIN)],
        (at("2026-12-31T15:55:00Z"), at("2026-12-31T16:05:00Z")),
    );
    assert!(watch_one(w.with(&me), span).await.is("credited", 10 * MIN));
    // Midnight in UTC is 08:00 in Shanghai: not a new year there, nothing to split.
    let utc = report(
        "ny-utc",
        "M-a",
        "ny-2",
        &[(0, 10 * MIN)],
        (at("2026-12-31T23:55:00Z"), at("2027-01-01T00:05:00Z")),
    );
    assert!(watch_one(w.with(&me), utc).await.is("credited", 10 * MIN));
    // The whole lesson again in the new year: its first half counts again there.
    let again = report(
        "ny-again",
        "M-a",
        "ny-1",
        &[(0, 10 * MIN)],
        (at("2027-01-02T02:00:00Z"), at("2027-01-02T02:10:00Z")),
    );
    assert!(watch_one(w.with(&me), again).await.is("credited", 5 * MIN));
    // The first half again in the old year: already counted there.
    let old = report(
        "ny-old",
        "M-a",
        "ny-1",
        &[(0, 5 * MIN)],
        (at("2026-12-30T02:00:00Z"), at("2026-12-30T02:05:00Z")),
    );
    assert!(watch_one(w.with(&me), old).await.is("credited", 0));

    let old_year = hours(w.with(&me), "M-a", 2026).await;
    assert_year(&old_year, 5 * MIN, 0.11, 32, false, 0);
    assert_eq!(
        lesson_credits(&old_year),
        BTreeMap::from([("ny-1".into(), 5 * MIN)])
    );
    let new_year = hours(w.with(&me), "M-a", 2027).await;
    assert_year(&new_year, 20 * MIN, 0.44, 32, false, 0);
    assert_eq!(
        lesson_credits(&new_year),
        BTreeMap::from([("ny-1".into(), 10 * MIN), ("ny-2".into(), 10 * MIN)])
    );

    // Hours registered on New Year's Eve count in the old year.
    let town = w.manager("town");
    let eve = registration("ny-eve", "2026-12-31", STUDY_HOUR, "跨年主题党日");
    assert_eq!(register(w.with(&town), "M-a", eve).await.status, 201);
    assert_year(
        &hours(w.with(&me), "M-a", 2026).await,
        STUDY_HOUR + 5 * MIN,
        1.11,
        32,
        false,
        0,
    );
    assert_eq!(hours(w.with(&me), "M-a", 2027).await, new_year);
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// 12. Everything at once

#[tokio::test]
async fn after_a_busy_winter_the_kept_totals_equal_the_totals_recomputed_from_the_ledger() {
    let w = World::at("2027-01-03T02:00:00Z").await;
    w.course(
        "busy",
        &[
            ("busy-1", 10 * MIN),
            ("busy-2", 20 * MIN),
            ("busy-g", 30 * MIN),
        ],
    );
    let station = w.station("st-v1", "v1");
    let st = w.with(&station);
    let mut phones = BTreeMap::new();
    for id in ["B-1", "B-2", "B-3"] {
        phones.insert(id, w.member(id, "v1"));
    }
    let sec = w.person("B-s", "书记", "v1", None, &[Post::Secretary]);
    let town = w.manager("town");
    // What each member's reports and sessions said they added, to compare with the totals,
    // and the most their wall time (plus a tolerance per play) could ever have earned.
    let mut added: BTreeMap<String, i64> = BTreeMap::new();
    let mut wall: BTreeMap<String, i64> = BTreeMap::new();
    let mut tally = |outcomes: &[Outcome], reports: &[Value]| {
        for (o, r) in outcomes.iter().zip(reports) {
            let member = r["member"].as_str().unwrap().to_string();
            let (from, to) = (
                at(r["wall"][0].as_str().unwrap()),
                at(r["wall"][1].as_str().unwrap()),
            );
            *wall.entry(member.clone()).or_default() += to - from + TOLERANCE;
            *added.entry(member).or_default() += o.credited_ms;
        }
    };

    // A week of station sittings over New Year, some fast (five minutes of media in one of
    // wall), many going over minutes already credited; the batch is sent twice.
    let mut reports = Vec::new();
    for k in 0..24_i64 {
        let member = ["B-1", "B-2", "B-3", "B-s"][(k % 4) as usize];
        let lesson = if k % 3 == 0 { "busy-2" } else { "busy-1" };
        let start = w.now - 7 * DAY + k * 6 * HOUR + (k % 5) * 7 * MIN;
        let from = (k * 3 % 8) * MIN;
        let wall_len = if k % 7 == 0 { MIN } else { 4 * MIN };
        reports.push(with_field(
            report(
                &format!("busy-{k}"),
                member,
                lesson,
                &[(from, from + 4 * MIN), (from / 2, from / 2 + MIN)],
                (start, start + wall_len),
            ),
            "device_clock",
            json!(ts(w.now)),
        ));
    }
    // Across midnight in Shanghai, on a phone.
    let eve = report(
        "busy-eve",
        "B-1",
        "busy-2",
        &[(0, 20 * MIN)],
        (at("2026-12-31T15:50:00Z"), at("2026-12-31T16:10:00Z")),
    );
    let outcomes = watch(w.with(&phones["B-1"]), eve.clone()).await;
    tally(&outcomes, &[eve]);
    let outcomes = watch(st, batch(&reports)).await;
    assert!(
        outcomes.iter().all(|o| o.status == "credited"),
        "{outcomes:#?}"
    );
    tally(&outcomes, &reports);
    let resent: Vec<Value> = reports
        .iter()
        .map(|r| with_field(r.clone(), "device_clock", json!(ts(w.now - MIN))))
        .collect();
    let outcomes = watch(st, batch(&resent)).await;
    assert!(
        outcomes.iter().all(|o| o.is("duplicate", 0)),
        "{outcomes:#?}"
    );

    // Group study on 2 January with a late arrival.
    let t0 = at("2027-01-02T06:00:00Z");
    assert_eq!(
        st.post(
            "/api/v1/group-sessions",
            json!({"id": "busy-gs", "lesson": "busy-g", "lang": "zh-Hans"})
        )
        .await
        .status,
        201
    );
    let checks = st
        .post(
            "/api/v1/group-sessions/busy-gs/attendance",
            json!({"events": [
                {"member": "B-1", "action": "in", "at": ts(t0)},
                {"member": "B-s", "action": "in", "at": ts(t0 - MIN)},
                {"member": "B-2", "action": "in", "at": ts(t0 + 7 * MIN)},
                {"member": "B-2", "action": "out", "at": ts(t0 + 19 * MIN)},
            ]}),
        )
        .await;
    assert_eq!(checks.status, 200, "{}", checks.text());
    let ended = st
        .post(
            "/api/v1/group-sessions/busy-gs/end",
            json!({"played": [[0, 30 * MIN]], "wall": [ts(t0), ts(t0 + 30 * MIN)],
                   "position_ms": 30 * MIN}),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    for r in ended.json()["results"].as_array().unwrap() {
        let member = r["member"].as_str().unwrap().to_string();
        *wall.entry(member.clone()).or_default() += r["present_ms"].as_i64().unwrap() + TOLERANCE;
        *added.entry(member).or_default() += r["credited_ms"].as_i64().unwrap();
    }

    // Registrations in both years, one corrected.
    for (member, id, date, ms) in [
        ("B-s", "busy-reg-1", "2026-12-28", 3 * STUDY_HOUR),
        ("B-s", "busy-reg-2", "2027-01-02", 2 * STUDY_HOUR),
        ("B-3", "busy-reg-3", "2027-01-02", STUDY_HOUR),
    ] {
        let reply = register(w.with(&town), member, registration(id, date, ms, "冬训")).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
    let mut fix = registration("busy-reg-4", "2026-12-28", -STUDY_HOUR, "冬训少一课时");
    fix["corrects"] = json!("busy-reg-1");
    assert_eq!(register(w.with(&town), "B-s", fix).await.status, 201);

    // What every report and session said it added is what the years hold, member by member.
    for member in ["B-1", "B-2", "B-3", "B-s"] {
        let mut watched = 0;
        for year in [2026, 2027] {
            watched += hours(w.with(&town), member, year).await["watched_ms"]
                .as_i64()
                .unwrap_or_else(|| panic!("{member}"));
        }
        assert_eq!(watched, added.get(member).copied().unwrap_or(0), "{member}");
        // Nobody earns more than the time they spent.
        assert!(
            watched > 0 && watched <= wall[member],
            "{member}: {watched} of {wall:?}"
        );
    }
    let secretary = hours(w.with(&sec), "B-s", 2027).await;
    assert_eq!(secretary["centralised_trainings"], 1);
    assert_eq!(secretary["registered_ms"], 2 * STUDY_HOUR);
    let last_year = hours(w.with(&sec), "B-s", 2026).await;
    assert_eq!(last_year["registered_ms"], 2 * STUDY_HOUR);
    assert_ledger_adds_up(&w.app);
}

// ---------------------------------------------------------------------------------------------
// Found while writing these tests (see the ignore reasons)

/// Opens a session at the station, checks `member` in at `t0` and ends it with half an hour of
/// playback from `t0`; returns the answer to the end.
async fn half_hour_session(st: As<'_>, id: &str, lesson: &str, member: &str, t0: i64) -> Reply {
    let opened = st
        .post(
            "/api/v1/group-sessions",
            json!({"id": id, "lesson": lesson, "lang": "zh-Hans"}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.text());
    let checked = st
        .post(
            &format!("/api/v1/group-sessions/{id}/attendance"),
            json!({"events": [{"member": member, "action": "in", "at": ts(t0)}]}),
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.text());
    st.post(
        &format!("/api/v1/group-sessions/{id}/end"),
        json!({"played": [[0, 30 * MIN]], "wall": [ts(t0), ts(t0 + 30 * MIN)],
               "position_ms": 30 * MIN}),
    )
    .await
}

#[tokio::test]
async fn a_group_session_played_tomorrow_or_long_ago_credits_nobody() {
    let w = World::at(MARCH).await;
    w.course("when", &[("when-1", 30 * MIN)]);
    let station = w.station("st-v1", "v1");
    let st = w.with(&station);
    w.member("M-a", "v1");
    // A watch report with these wall times would be rejected as in the future / too old.
    let tomorrow = w.now + DAY;
    let ended = half_hour_session(st, "gs-tomorrow", "when-1", "M-a", tomorrow).await;
    assert_ne!(ended.status, 200, "credited: {}", ended.text());
    assert_eq!(hours(st, "M-a", 2026).await["credited_ms"], 0);
    let long_ago = w.now - 100 * DAY;
    let ended = half_hour_session(st, "gs-long-ago", "when-1", "M-a", long_ago).await;
    assert_ne!(ended.status, 200, "credited: {}", ended.text());
    assert_eq!(hours(st, "M-a", 2025).await["credited_ms"], 0);
}

#[tokio::test]
async fn a_report_whose_id_looks_like_a_group_play_is_credited_like_any_other() {
    let w = World::at(MARCH).await;
    w.course("ids", &[("ids-g", 30 * MIN), ("ids-1", 10 * MIN)]);
    let station = w.station("st-v1", "v1");
    let st = w.with(&station);
    w.member("M-a", "v1");
    let ended = half_hour_session(st, "gs-1", "ids-g", "M-a", w.now - 3 * HOUR).await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    assert_eq!(hours(st, "M-a", 2026).await["credited_ms"], 30 * MIN);
    // The station's own report of another lesson, later that day, under an id of its choosing.
    let t = w.now - HOUR;
    let outcome = watch_one(
        st,
        report(
            "gs-1/M-a/0",
            "M-a",
            "ids-1",
            &[(0, 10 * MIN)],
            (t, t + 10 * MIN),
        ),
    )
    .await;
    assert!(outcome.is("credited", 10 * MIN), "{outcome:?}");
    assert_eq!(hours(st, "M-a", 2026).await["credited_ms"], 40 * MIN);
}

#[tokio::test]
async fn a_correction_dated_in_another_year_takes_hours_from_the_year_it_corrects() {
    let w = World::at(MARCH).await;
    let m = w.member("M-r", "v1");
    let town = w.manager("town");
    let mgr = w.with(&town);
    let december = registration("dec", "2025-12-20", 3 * STUDY_HOUR, "冬训");
    assert_eq!(register(mgr, "M-r", december).await.status, 201);
    let march = registration("mar", "2026-03-01", 2 * STUDY_HOUR, "主题党日");
    assert_eq!(register(mgr, "M-r", march).await.status, 201);
    // In January the manager notices December's entry was an hour too much.
    let mut fix = registration("dec-fix", "2026-01-05", -STUDY_HOUR, "冬训多登记一小时");
    fix["corrects"] = json!("dec");
    let fixed = register(mgr, "M-r", fix).await;
    let (last, this) = (
        hours(w.with(&m), "M-r", 2025).await["credited_ms"].clone(),
        hours(w.with(&m), "M-r", 2026).await["credited_ms"].clone(),
    );
    if fixed.status == 422 {
        // Refusing a correction outside the entry's year would be fine too.
        assert_eq!((last, this), (json!(3 * STUDY_HOUR), json!(2 * STUDY_HOUR)));
    } else {
        assert_eq!(fixed.status, 201, "{}", fixed.text());
        assert_eq!(
            (last, this),
            (json!(2 * STUDY_HOUR), json!(2 * STUDY_HOUR)),
            "(2025, 2026): December's entry should lose the hour, March's should keep its two"
        );
    }
}

#[tokio::test]
async fn registering_hours_for_an_unknown_member_is_403_for_all_but_admins_like_reading_them() {
    let w = World::at(MARCH).await;
    let m = w.member("M-r", "v1");
    let station = w.station("st-v1", "v1");
    let town = w.manager("town");
    let body = registration("probe", "2026-03-01", STUDY_HOUR, "探测");
    for token in [&m, &station, &town] {
        let read = w
            .with(token)
            .get("/api/v1/members/M-nobody/hours?year=2026")
            .await;
        assert_eq!(read.status, 403, "reading: {}", read.text());
        let write = register(w.with(token), "M-nobody", body.clone()).await;
        assert_eq!(write.status, 403, "registering: {}", write.text());
    }
    assert_eq!(register(w.admin(), "M-nobody", body).await.status, 404);
}

#[tokio::test]
async fn a_report_seen_before_is_a_duplicate_even_after_the_member_moved() {
    let w = World::at(MARCH).await;
    w.course("moved", &[("moved-1", 10 * MIN)]);
    w.member("M-a", "v1");
    let station = w.station("st-v1", "v1");
    let t = w.now - 2 * DAY;
    let sitting = report(
        "moved-r1",
        "M-a",
        "moved-1",
        &[(0, 10 * MIN)],
        (t, t + 10 * MIN),
    );
    let network = with_field(sitting.clone(), "device_clock", json!(ts(w.now)));
    assert!(watch_one(w.with(&station), network)
        .await
        .is("credited", 10 * MIN));
    // The member moves to the next village; the USB copy of the station's file arrives after.
    let moved = w
        .admin()
        .send(
            Method::PATCH,
            "/api/v1/members/M-a",
            Some(json!({"org": "v2"}).to_string().into_bytes()),
            &[],
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let usb = with_field(sitting, "device_clock", json!(ts(w.now - HOUR)));
    let again = watch_one(w.with(&station), usb).await;
    assert!(again.is("duplicate", 0), "{again:?}");
    assert_eq!(hours(w.admin(), "M-a", 2026).await["credited_ms"], 10 * MIN);
}

#[tokio::test]
async fn the_same_report_sent_many_times_at_once_is_credited_once_and_a_changed_body_conflicts() {
    let w = World::at(MARCH).await;
    w.course("once", &[("once-1", 10 * MIN)]);
    w.member("M-o", "v1");
    let station = w.station("st-o", "v1");
    let t = w.now - 2 * DAY;
    let sitting = report(
        "once-r1",
        "M-o",
        "once-1",
        &[(0, 10 * MIN)],
        (t, t + 10 * MIN),
    );
    // A shorter body under the same id: another play, not a repeat of this one.
    let changed = report(
        "once-r1",
        "M-o",
        "once-1",
        &[(0, 5 * MIN)],
        (t, t + 5 * MIN),
    );
    // Sixteen copies race one another; writes wait in the group flush between the id check
    // and the store, so every copy must see the first one's pending id.
    let copies = (0..16).map(|n| {
        let body = if n == 7 {
            changed.clone()
        } else {
            sitting.clone()
        };
        watch_one(w.with(&station), body)
    });
    let outcomes = futures_util::future::join_all(copies).await;
    let credited: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == "credited").collect();
    assert_eq!(credited.len(), 1, "{outcomes:#?}");
    let first_was_changed = credited[0].credited_ms == 5 * MIN;
    for (n, o) in outcomes.iter().enumerate() {
        if o.status == "credited" {
            continue;
        }
        let is_changed = n == 7;
        if is_changed == first_was_changed {
            assert!(o.is("duplicate", 0), "copy {n}: {o:?}");
        } else {
            assert_eq!(o.status, "rejected", "copy {n}: {o:?}");
            assert!(o.reason().contains("once-r1"), "copy {n}: {o:?}");
        }
    }
    let expected = if first_was_changed { 5 * MIN } else { 10 * MIN };
    assert_eq!(hours(w.admin(), "M-o", 2026).await["credited_ms"], expected);
    assert_ledger_adds_up(&w.app);
}

#[tokio::test]
async fn a_repeat_arriving_before_the_first_is_in_the_store_is_still_a_duplicate() {
    use yuanjiao::domain::org::Principal;
    use yuanjiao::ledger::{self, Outcome as Credit};
    let w = World::at(MARCH).await;
    w.course("queued", &[("queued-1", 10 * MIN)]);
    w.member("M-q", "v1");
    let t = w.now - DAY;
    let body = report(
        "queued-r1",
        "M-q",
        "queued-1",
        &[(0, 10 * MIN)],
        (t, t + 10 * MIN),
    );
    let sent: yuanjiao::domain::watch::WatchReport = serde_json::from_value(body).unwrap();
    let services = w.app.services.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        let submit = |r: &yuanjiao::domain::watch::WatchReport| {
            ledger::submit_unflushed(&services, &Principal::Admin, "test", vec![r.clone()]).unwrap()
        };
        // Nobody waits yet, so the first write is handed over but not applied.
        let (first, _) = submit(&sent);
        let (second, ticket) = submit(&sent);
        services
            .ledger
            .flush
            .wait_blocking(ticket, &services)
            .unwrap();
        let (third, _) = submit(&sent);
        [first, second, third].map(|mut o| o.remove(0))
    })
    .await
    .unwrap();
    assert_eq!(
        outcomes,
        [
            Credit::Credited(10 * MIN),
            Credit::Duplicate,
            Credit::Duplicate
        ]
    );
    assert_eq!(hours(w.admin(), "M-q", 2026).await["credited_ms"], 10 * MIN);
    assert_ledger_adds_up(&w.app);
}

#[tokio::test]
async fn a_report_refused_for_a_full_disk_leaves_nothing_behind_and_counts_once_space_returns() {
    use yuanjiao::domain::org::Principal;
    use yuanjiao::ledger::{self, Outcome as Credit};
    use yuanjiao::repo::StoreError;
    let disk = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = support::Tmpfs::mount(disk.path(), "32m") else {
        eprintln!("cannot mount a tmpfs here: skipped");
        return;
    };
    let floor = 8 << 20;
    let w = World::at_with(MARCH, |s| {
        s.storage.data_dir = disk.path().join("data");
        s.storage.min_free_bytes = floor;
    })
    .await;
    w.course("full", &[("full-1", 10 * MIN)]);
    w.member("M-f", "v1");
    let t = w.now - DAY;
    let body = report(
        "full-r1",
        "M-f",
        "full-1",
        &[(0, 10 * MIN)],
        (t, t + 10 * MIN),
    );
    let sent: yuanjiao::domain::watch::WatchReport = serde_json::from_value(body).unwrap();
    // Fill the disk to half the floor.
    let services = w.app.services.clone();
    let free = services.floor.free_bytes().unwrap();
    let filler = disk.path().join("filler");
    std::fs::write(&filler, vec![7u8; (free - floor / 2) as usize]).unwrap();
    let outcomes = tokio::task::spawn_blocking(move || {
        let submit = || ledger::submit(&services, &Principal::Admin, "test", vec![sent.clone()]);
        let refused = [submit(), submit()];
        std::fs::remove_file(&filler).unwrap();
        (refused, submit().unwrap())
    })
    .await
    .unwrap();
    // Refused both times: the first refusal let go of the id (else the second would be a
    // "duplicate" of a report never stored).
    for refused in &outcomes.0 {
        assert!(matches!(refused, Err(StoreError::Space(_))), "{refused:?}");
    }
    // And the member's state was read again (else the play would be there already, adding 0).
    assert_eq!(outcomes.1, [Credit::Credited(10 * MIN)]);
    assert_eq!(hours(w.admin(), "M-f", 2026).await["credited_ms"], 10 * MIN);
    assert_ledger_adds_up(&w.app);
}
