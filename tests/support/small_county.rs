//! A county with one branch, members M-a and M-b in it, a station of the branch and a published
//! course of text lessons of an hour each, for tests of what the ledger accepts.
#![allow(dead_code, clippy::unwrap_used)]

use super::TestApp;
use serde_json::{json, Value};
use yuanjiao::catalog;
use yuanjiao::domain::catalog::{Audience, LessonKind, Theme};
use yuanjiao::domain::catalog_edit::{Edit, NewCourse, NewLesson};
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::org::{Field, Member, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::{MemberRecord, Terminal};

const HOUR: i64 = 3_600_000;
const PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Yzc8ZGX/DFXE3HtAkC3A+w$HUbeU0QvndrEveV8nRTEpUFyiYj2XsgybTc/tMOmFgM";

pub fn ts(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// A report of lesson `lim-1`, played from `wall_from` (epoch ms) without a pause.
pub fn report(id: &str, member: &str, played: (i64, i64), wall_from: i64) -> Value {
    json!({
        "id": id,
        "member": member,
        "lesson": "lim-1",
        "lang": "zh-Hans",
        "played": [[played.0, played.1]],
        "wall": [ts(wall_from), ts(wall_from + played.1 - played.0)],
        "position_ms": played.1,
        "group_session": null,
    })
}

/// Tokens of the county's callers.
pub struct Tokens {
    pub admin: String,
    pub member: String,
    pub member_b: String,
    pub manager: String,
    pub station: String,
}

/// The county, with lessons `lim-1` and `lim-2`; returns the tokens.
pub fn set_up(app: &TestApp) -> Tokens {
    let s = &app.services;
    super::county_and_branch(s);
    for id in ["M-a", "M-b"] {
        let member = Member {
            id: id.into(),
            name: format!("党员{id}"),
            org: "branch".into(),
            home_org: None,
            posts: vec![Post::Member],
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
    let zh = |text: &str| [(Lang::chinese(), text.to_string())].into();
    let course = NewCourse {
        id: "lim".into(),
        title: zh("课程"),
        description: Default::default(),
        translation: Default::default(),
        themes: vec![Theme::PolicyAffairs],
        audiences: vec![Audience::Rural],
        programs: vec![],
    };
    catalog::create_course(s, course, "test").unwrap();
    let mut edits = Vec::new();
    for lesson in ["lim-1", "lim-2"] {
        let text = format!("# {lesson}\n\n学习材料。\n");
        let sha = app.add_blob(text.as_bytes(), &format!("{lesson}.md"));
        edits.push(Edit::AddLesson(NewLesson {
            id: lesson.into(),
            kind: LessonKind::Text,
            duration_ms: HOUR as u64,
            title: zh("第一课"),
        }));
        edits.push(Edit::SetVariant {
            lesson: lesson.into(),
            lang: Lang::chinese(),
            variant: catalog::variant_of(s, &sha).unwrap(),
        });
    }
    catalog::edit_course(s, "lim", edits, "test").unwrap();
    catalog::publish(s, "lim", "test").unwrap();
    let station = Terminal {
        id: "st-1".into(),
        name: "村站".into(),
        org: "branch".into(),
        languages: vec![Lang::chinese()],
        audiences: vec![],
        disabled: false,
    };
    let member = |id: &str| {
        let who = Principal::Member { member: id.into() };
        people::issue_token(s, who, None, "test").unwrap()
    };
    let manager = Principal::Manager {
        org: "branch".into(),
    };
    Tokens {
        admin: people::issue_token(s, Principal::Admin, None, "test").unwrap(),
        member: member("M-a"),
        member_b: member("M-b"),
        manager: people::issue_token(s, manager, None, "test").unwrap(),
        station: {
            let token = people::create_terminal(s, &station, "test").unwrap();
            super::evidence::deliver_to_station(s, &station.id);
            token
        },
    }
}
