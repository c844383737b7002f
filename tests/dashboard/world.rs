//! The county the dashboard tests look at, credited through the HTTP API on a server whose
//! clock the test moves through 2026 (watch reports older than 90 days are refused, so each
//! report is sent while it is recent):
//!
//! ```text
//! county  红原县委            manager token `county`
//! ├── b1  阿木柯村党支部      manager token `b1`; station st-b1
//! │     S1 卓玛 (secretary, owes 56 h + one centralised training)
//! │     M1 扎西 (member, owes 32 h)
//! └── b2  查尔玛村党支部      manager token `b2`
//!       M2 拉姆 (member) — meets 32 h
//!       M3 格桑 (member) — nothing yet
//! ```
//!
//! What each earns in 2026, by month (minutes; a study hour is 45):
//! - M1: a play from 23:55 on New Year's Eve to 00:05 (five minutes in 2025, five in January);
//!   in March twenty minutes of the same lesson, of which five were already credited (15);
//!   thirty minutes of group study on 19 December.
//! - S1: 2 h registered for 20 February, corrected by -1 h on 3 July (February keeps 45);
//!   twenty minutes of the December group study (checked out early).
//! - M2: 16 h registered for 10 April and 16 h for 1 June; a play from 23:50 on 30 September
//!   to 00:10 on 1 October (ten minutes each side of midnight).
#![allow(dead_code)]

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use yuanjiao::catalog;
use yuanjiao::clock::FixedClock;
use yuanjiao::domain::catalog::{Audience, LessonKind, Theme};
use yuanjiao::domain::catalog_edit::{Edit, NewCourse, NewLesson};
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::org::{Field, Member, OrgKind, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::{MemberRecord, Terminal};

pub const MIN: i64 = 60_000;
pub const STUDY_HOUR: i64 = 45 * MIN;

/// Credited ms per month of 2026 in the whole county, January first.
pub const COUNTY_MONTHS: [i64; 12] = [
    5 * MIN,
    45 * MIN,
    15 * MIN,
    16 * STUDY_HOUR,
    0,
    16 * STUDY_HOUR,
    0,
    0,
    10 * MIN,
    10 * MIN,
    0,
    50 * MIN,
];
pub const B1_MONTHS: [i64; 12] = [
    5 * MIN,
    45 * MIN,
    15 * MIN,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    50 * MIN,
];
/// Each member's credited ms in 2026.
pub const CREDITED: [(&str, i64); 4] = [
    ("S1", 45 * MIN + 20 * MIN),
    ("M1", 5 * MIN + 15 * MIN + 30 * MIN),
    ("M2", 32 * STUDY_HOUR + 20 * MIN),
    ("M3", 0),
];

/// An Argon2id hash of the PIN "4821" (hashing one takes most of a second in a debug build).
const PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Yzc8ZGX/DFXE3HtAkC3A+w$HUbeU0QvndrEveV8nRTEpUFyiYj2XsgybTc/tMOmFgM";

pub struct World {
    pub app: TestApp,
    pub clock: Arc<FixedClock>,
    pub admin: String,
    pub county: String,
    pub b1: String,
    pub b2: String,
}

/// Epoch ms of an RFC 3339 time.
pub fn at(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn ts(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

impl World {
    /// The county above with every credit sent; the server's clock is left at noon on
    /// 20 December 2026 in Shanghai.
    pub async fn build() -> World {
        let clock = Arc::new(FixedClock::new(UNIX_EPOCH));
        let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
        let s = &app.services;
        crate::support::create_orgs(
            s,
            &[
                ("county", "红原县委", OrgKind::Committee, None),
                ("b1", "阿木柯村党支部", OrgKind::Branch, Some("county")),
                ("b2", "查尔玛村党支部", OrgKind::Branch, Some("county")),
            ],
        );
        for (id, name, org, post) in [
            ("S1", "卓玛", "b1", Post::Secretary),
            ("M1", "扎西", "b1", Post::Member),
            ("M2", "拉姆", "b2", Post::Member),
            ("M3", "格桑", "b2", Post::Member),
        ] {
            let member = Member {
                id: id.into(),
                name: name.into(),
                org: org.into(),
                home_org: None,
                posts: vec![post],
                field: Field::Rural,
                joined: "2019-07-01".into(),
                languages: vec![Lang::chinese()],
            };
            let record = MemberRecord {
                member,
                pin_hash: PIN_HASH.into(),
                failed_sign_ins: 0,
                locked_until_ms: 0,
                disabled: false,
            };
            s.store.put_member(&record).unwrap();
        }
        let token = |p: Principal| people::issue_token(s, p, None, "test").unwrap();
        let manager = |org: &str| token(Principal::Manager { org: org.into() });
        let world = World {
            admin: token(Principal::Admin),
            county: manager("county"),
            b1: manager("b1"),
            b2: manager("b2"),
            clock,
            app,
        };
        world.course();
        world.credit().await;
        world
    }

    fn set_now(&self, rfc3339: &str) {
        let ms = at(rfc3339) as u64;
        self.clock.set(UNIX_EPOCH + Duration::from_millis(ms));
    }

    /// Two published text lessons of thirty minutes.
    fn course(&self) {
        let s = &self.app.services;
        let zh = |text: &str| [(Lang::chinese(), text.to_string())].into();
        let new = NewCourse {
            id: "c1".into(),
            title: zh("党章学习"),
            description: Default::default(),
            translation: Default::default(),
            themes: vec![Theme::PolicyAffairs],
            audiences: vec![Audience::Rural],
            programs: vec![],
        };
        catalog::create_course(s, new, "test").unwrap();
        let mut edits = Vec::new();
        for lesson in ["l1", "l2"] {
            let text = format!("# {lesson}\n\n学习材料。\n");
            let sha = self.app.add_blob(text.as_bytes(), &format!("{lesson}.md"));
            edits.push(Edit::AddLesson(NewLesson {
                id: lesson.into(),
                kind: LessonKind::Text,
                duration_ms: 30 * MIN as u64,
                title: zh(lesson),
            }));
            edits.push(Edit::SetVariant {
                lesson: lesson.into(),
                lang: Lang::chinese(),
                variant: catalog::variant_of(s, &sha).unwrap(),
            });
        }
        catalog::edit_course(s, "c1", edits, "test").unwrap();
        catalog::publish(s, "c1", "test").unwrap();
    }

    /// Sends a request with a token; returns the status and the JSON body (or null).
    pub async fn call(&self, token: &str, method: Method, path: &str, body: Value) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(token, Method::GET, path, Value::Null).await
    }

    async fn post_ok(&self, token: &str, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(token, Method::POST, path, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        answer
    }

    async fn watch(
        &self,
        member: &str,
        id: &str,
        lesson: &str,
        played: (i64, i64),
        wall: (&str, &str),
    ) -> i64 {
        let token = people::issue_token(
            &self.app.services,
            Principal::Member {
                member: member.into(),
            },
            None,
            "test",
        )
        .unwrap();
        let mut report = json!({
            "id": id, "member": member, "lesson": lesson, "lang": "zh-Hans",
            "played": [[played.0, played.1]], "wall": [wall.0, wall.1],
            "position_ms": played.1, "group_session": null,
        });
        crate::support::evidence::witness(&self.app.services, &mut report);
        let answer = self.post_ok(&token, "/api/v1/watch", report).await;
        let result = &answer["results"][0];
        assert_eq!(result["status"], "credited", "{answer}");
        result["credited_ms"].as_i64().unwrap()
    }

    async fn register(&self, member: &str, id: &str, date: &str, ms: i64, corrects: Option<&str>) {
        let body = json!({
            "id": id, "date": date, "duration_ms": ms, "reason": "县委宣讲团专题党课",
            "centralised": false, "corrects": corrects,
        });
        let path = format!("/api/v1/members/{member}/registrations");
        self.post_ok(&self.county, &path, body).await;
    }

    async fn credit(&self) {
        // 23:55 on New Year's Eve to 00:05 in Shanghai.
        self.set_now("2026-01-05T04:00:00Z");
        let got = self
            .watch(
                "M1",
                "9a1f6c1e-0000-4000-8000-000000000001",
                "l1",
                (0, 10 * MIN),
                ("2025-12-31T15:55:00Z", "2025-12-31T16:05:00Z"),
            )
            .await;
        assert_eq!(got, 10 * MIN, "five minutes of 2025 and five of 2026");
        self.set_now("2026-03-15T04:00:00Z");
        let got = self
            .watch(
                "M1",
                "9a1f6c1e-0000-4000-8000-000000000002",
                "l1",
                (0, 20 * MIN),
                ("2026-03-10T02:00:00Z", "2026-03-10T02:20:00Z"),
            )
            .await;
        assert_eq!(
            got,
            15 * MIN,
            "five of the twenty minutes were credited in January"
        );

        self.register("S1", "reg-s1-feb", "2026-02-20", 2 * STUDY_HOUR, None)
            .await;
        self.register(
            "S1",
            "reg-s1-fix",
            "2026-07-03",
            -STUDY_HOUR,
            Some("reg-s1-feb"),
        )
        .await;
        self.register("M2", "reg-m2-apr", "2026-04-10", 16 * STUDY_HOUR, None)
            .await;
        self.register("M2", "reg-m2-jun", "2026-06-01", 16 * STUDY_HOUR, None)
            .await;

        self.set_now("2026-12-20T04:00:00Z");
        // 23:50 on 30 September to 00:10 on 1 October in Shanghai.
        let got = self
            .watch(
                "M2",
                "9a1f6c1e-0000-4000-8000-000000000003",
                "l2",
                (0, 20 * MIN),
                ("2026-09-30T15:50:00Z", "2026-09-30T16:10:00Z"),
            )
            .await;
        assert_eq!(got, 20 * MIN);
        self.group_study().await;
    }

    /// Half an hour of l2 at the b1 station on 19 December: M1 throughout, S1 for twenty
    /// minutes.
    async fn group_study(&self) {
        let terminal = Terminal {
            id: "st-b1".into(),
            name: "阿木柯村远程教育站点".into(),
            org: "b1".into(),
            languages: vec![Lang::chinese()],
            audiences: vec![],
            disabled: false,
        };
        let station = people::create_terminal(&self.app.services, &terminal, "test").unwrap();
        crate::support::evidence::deliver_to_station(&self.app.services, "st-b1");
        let t0 = at("2026-12-19T02:00:00Z");
        let open = json!({"id": "gs-dec", "lesson": "l2", "lang": "zh-Hans"});
        self.post_ok(&station, "/api/v1/group-sessions", open).await;
        let events = json!({"events": [
            {"member": "M1", "action": "in", "at": ts(t0 - 2 * MIN)},
            {"member": "S1", "action": "in", "at": ts(t0)},
            {"member": "S1", "action": "out", "at": ts(t0 + 20 * MIN)},
        ]});
        self.post_ok(&station, "/api/v1/group-sessions/gs-dec/attendance", events)
            .await;
        let end = json!({
            "played": [[0, 30 * MIN]],
            "wall": [ts(t0), ts(t0 + 30 * MIN)],
            "position_ms": 30 * MIN,
        });
        let ended = self
            .post_ok(&station, "/api/v1/group-sessions/gs-dec/end", end)
            .await;
        let credited: i64 = ended["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["credited_ms"].as_i64().unwrap())
            .sum();
        assert_eq!(credited, 50 * MIN, "{ended}");
    }
}

/// The members CSV's rows as (member, credited ms), in order, after checking its BOM.
pub fn credited_rows(csv: &[u8]) -> Vec<(String, i64)> {
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF", "UTF-8 with a byte-order mark");
    ::csv::Reader::from_reader(&csv[3..])
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[4].parse().unwrap())
        })
        .collect()
}

/// Member rows of a JSON answer as (member, credited ms), in order.
pub fn credited_members(rows: &Value) -> Vec<(String, i64)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member"].as_str().unwrap().to_string(),
                m["credited_ms"].as_i64().unwrap(),
            )
        })
        .collect()
}
