//! What a credited minute rests on (issue: evidence behind every credited minute): a member's
//! report is credited only inside a play session the server issued for that member and lesson,
//! and one session never credits more than the time the server saw pass. Stations and admins
//! keep crediting as before; an admin's reports are audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::small_county::report;

use std::time::Duration;
use support::clocked_county::{County, DAY, MIN, NOW};

fn with_session(mut report: Value, session: &str) -> Value {
    report["play_session"] = json!(session);
    report
}

fn of_lesson(mut report: Value, lesson: &str) -> Value {
    report["lesson"] = json!(lesson);
    report
}

fn no_evidence(outcomes: &[(String, i64, String)]) -> bool {
    outcomes.iter().all(|(status, ms, reason)| {
        status == "rejected" && *ms == 0 && reason.starts_with("no-evidence")
    })
}

#[tokio::test]
async fn a_fabricated_past_report_from_a_member_token_credits_nothing() {
    let county = County::new().await;
    let member = &county.tokens.member;
    // Every lesson, 10 to 45 days ago, as a script with the member's token would send them.
    let fabricated: Vec<Value> = [(10, "lim-1"), (45, "lim-2")]
        .iter()
        .map(|&(days, lesson)| {
            of_lesson(
                report(
                    &format!("fake-{lesson}"),
                    "M-a",
                    (0, 40 * MIN),
                    NOW - days * DAY,
                ),
                lesson,
            )
        })
        .collect();
    let outcomes = county.watch(member, fabricated.clone()).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    assert!(
        outcomes[0].2.contains("names no play_session"),
        "{outcomes:?}"
    );
    // A session asked for now does not cover plays of weeks ago.
    let session = county.play_session(member, "lim-1").await;
    let outcomes = county
        .watch(member, vec![with_session(fabricated[0].clone(), &session)])
        .await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    assert!(
        outcomes[0].2.contains("outside the play session"),
        "{outcomes:?}"
    );
    assert_eq!(county.credited_ms("M-a").await, 0);
}

#[tokio::test]
async fn a_session_is_evidence_only_for_the_member_and_lesson_it_was_issued_for() {
    let county = County::new().await;
    let session = county.play_session(&county.tokens.member, "lim-1").await;
    county.set_now(NOW + 20 * MIN);
    let played = report("r-1", "M-a", (0, 10 * MIN), NOW + MIN);
    // Another lesson under it, another member under it (sent by their manager), a forged one.
    let other_lesson = with_session(of_lesson(played.clone(), "lim-2"), &session);
    let mut other_member = with_session(played.clone(), &session);
    other_member["member"] = json!("M-b");
    other_member["id"] = json!("r-2");
    let mut forged = session.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = with_session(played.clone(), std::str::from_utf8(&forged).unwrap());
    let outcomes = county
        .watch(&county.tokens.member, vec![other_lesson, forged])
        .await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    let outcomes = county
        .watch(&county.tokens.manager, vec![other_member])
        .await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    // Its own play is credited in full.
    let outcomes = county
        .watch(&county.tokens.member, vec![with_session(played, &session)])
        .await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
    assert_eq!(outcomes[0].1, 10 * MIN);
}

#[tokio::test]
async fn a_session_credits_no_more_wall_time_than_the_server_saw_pass() {
    let county = County::new().await;
    let member = &county.tokens.member;
    let session = county.play_session(member, "lim-1").await;
    // Three minutes later, a report claiming eight minutes of play (starting within the clock
    // skew allowed before the session), then another claiming four minutes more.
    county.set_now(NOW + 3 * MIN);
    let claimed = with_session(report("r-1", "M-a", (0, 8 * MIN), NOW - 5 * MIN), &session);
    let outcomes = county.watch(member, vec![claimed]).await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
    let first = outcomes[0].1;
    // Three minutes, and the ledger's one tolerance after them.
    let tolerance = county.app.services.settings.ledger.tolerance_ms as i64;
    assert!((3 * MIN..=3 * MIN + tolerance).contains(&first), "{first}");
    let more = with_session(
        report("r-2", "M-a", (8 * MIN, 12 * MIN), NOW - MIN),
        &session,
    );
    let outcomes = county.watch(member, vec![more.clone()]).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    assert!(
        outcomes[0].2.contains("already been credited"),
        "{outcomes:?}"
    );
    // Once the server has seen time pass, the same session carries on.
    county.set_now(NOW + 7 * MIN);
    let later = with_session(
        report("r-3", "M-a", (8 * MIN, 12 * MIN), NOW + 3 * MIN),
        &session,
    );
    let outcomes = county.watch(member, vec![later]).await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
    assert_eq!(county.credited_ms("M-a").await, first + outcomes[0].1);
    assert!(county.credited_ms("M-a").await <= 7 * MIN + tolerance);
}

#[tokio::test]
async fn a_member_pages_offline_queue_sent_days_later_credits() {
    let county = County::new().await;
    let member = &county.tokens.member;
    let session = county.play_session(member, "lim-1").await;
    // Forty minutes played in four reports, held on the phone and sent three days later.
    let queue: Vec<Value> = (0..4)
        .map(|n| {
            let played = (n * 10 * MIN, (n + 1) * 10 * MIN);
            let r = report(&format!("q-{n}"), "M-a", played, NOW + MIN + n * 10 * MIN);
            with_session(r, &session)
        })
        .collect();
    county.set_now(NOW + 3 * DAY);
    let outcomes = county.watch(member, queue.clone()).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o.0 == "credited" && o.1 == 10 * MIN),
        "{outcomes:?}"
    );
    // Sent again (the phone never heard back), they are duplicates, not spent evidence.
    let again = county.watch(member, queue).await;
    assert!(again.iter().all(|o| o.0 == "duplicate"), "{again:?}");
    assert_eq!(county.credited_ms("M-a").await, 40 * MIN);
}

#[tokio::test]
async fn a_scripted_play_that_never_fetched_the_media_credits_nothing() {
    let county = County::new().await;
    let member = &county.tokens.member;
    let (play, session) = county.play(member, "lim-1").await;
    county.set_now(NOW + 15 * MIN);
    let scripted = with_session(report("s-1", "M-a", (0, 10 * MIN), NOW + MIN), &session);
    let outcomes = county.watch(member, vec![scripted.clone()]).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    assert!(outcomes[0].2.contains("never delivered"), "{outcomes:?}");
    // The same media fetched without the session, or under a made-up one, is no evidence.
    let bare = play["url"]
        .as_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    for url in [
        bare.clone(),
        format!("{bare}?ps=ps1.AAAA"),
        format!("{bare}?ps={session}x"),
    ] {
        let resp = county
            .app
            .client
            .get(county.app.url(&url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{url}");
    }
    let outcomes = county.watch(member, vec![scripted.clone()]).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    // One range of it by the play's own URL is.
    let resp = county
        .app
        .client
        .get(county.app.url(play["url"].as_str().unwrap()))
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    let outcomes = county.watch(member, vec![scripted]).await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
}

#[tokio::test]
async fn a_stations_week_old_offline_batch_credits_without_play_sessions() {
    let county = County::new().await;
    let batch: Vec<Value> = (0..3)
        .map(|n| {
            let played = (n * 20 * MIN, (n + 1) * 20 * MIN);
            report(&format!("st-{n}"), "M-a", played, NOW - (7 - n) * DAY)
        })
        .collect();
    let outcomes = county.watch(&county.tokens.station, batch).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o.0 == "credited" && o.1 == 20 * MIN),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_station_is_credited_only_for_lessons_delivered_to_it() {
    let county = County::new().await;
    let terminal = yuanjiao::repo::Terminal {
        id: "st-2".into(),
        name: "新站".into(),
        org: "branch".into(),
        languages: vec![yuanjiao::domain::lang::Lang::chinese()],
        audiences: vec![],
        disabled: false,
    };
    let station =
        yuanjiao::people::create_terminal(&county.app.services, &terminal, "test").unwrap();
    let played = report("st2-1", "M-a", (0, 20 * MIN), NOW - DAY);
    let outcomes = county.watch(&station, vec![played.clone()]).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
    assert!(
        outcomes[0].2.contains("never delivered to this station"),
        "{outcomes:?}"
    );
    // A group session on it cannot end with credit either.
    let open = json!({"id": "gs-x", "lesson": "lim-1", "lang": "zh-Hans"});
    let post = |path: &str, body: Value| {
        let req = county
            .app
            .client
            .post(county.app.url(path))
            .bearer_auth(&station);
        req.json(&body).send()
    };
    assert_eq!(
        post("/api/v1/group-sessions", open).await.unwrap().status(),
        201
    );
    let end = json!({
        "wall": [support::small_county::ts(NOW - 30 * MIN), support::small_county::ts(NOW)],
        "played": [[0, 30 * MIN]], "position_ms": 30 * MIN,
    });
    let refused = post("/api/v1/group-sessions/gs-x/end", end).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("no-evidence"));
    // Downloaded as its page does, with its tag: a part is enough to be delivered.
    let (_, me) = county.get(&station, "/api/v1/me").await;
    let tag = me["delivery_tag"].as_str().unwrap();
    let (_, play) = county.get(&station, "/api/v1/lessons/lim-1/play").await;
    assert!(play["play_session"].is_null(), "{play}");
    let url = format!("{}?st={tag}", play["url"].as_str().unwrap());
    let part = county
        .app
        .client
        .get(county.app.url(&url))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    let outcomes = county.watch(&station, vec![played]).await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
    // Another station's tag, or one made up, delivers nothing to this one.
    let other = of_lesson(report("st2-2", "M-a", (0, MIN), NOW - DAY), "lim-2");
    let (_, play2) = county.get(&station, "/api/v1/lessons/lim-2/play").await;
    let bare = play2["url"].as_str().unwrap();
    let (_, me1) = county.get(&county.tokens.station, "/api/v1/me").await;
    let tag1 = me1["delivery_tag"].as_str().unwrap();
    let forged = format!("st1.{}.AAAA", tag.split('.').nth(1).unwrap());
    for t in [tag1, forged.as_str()] {
        let url = county.app.url(&format!("{bare}?st={t}"));
        assert_eq!(
            county.app.client.get(url).send().await.unwrap().status(),
            200
        );
    }
    let outcomes = county.watch(&station, vec![other]).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
}

#[tokio::test]
async fn an_admins_reports_are_credited_and_each_request_is_in_the_audit_log() {
    let county = County::new().await;
    let admin = &county.tokens.admin;
    let migrated = vec![
        report("old-1", "M-a", (0, 30 * MIN), NOW - 20 * DAY),
        report("old-2", "M-b", (0, 30 * MIN), NOW - 19 * DAY),
    ];
    let outcomes = county.watch(admin, migrated).await;
    assert!(outcomes.iter().all(|o| o.0 == "credited"), "{outcomes:?}");
    let (_, log) = county.get(admin, "/api/v1/audit?limit=1000").await;
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["entry"])
        .find(|e| e["action"] == "ledger.admin-reports")
        .expect("the admin's reports are audited");
    assert_eq!(entry["actor"], "admin");
    assert_eq!(entry["detail"]["credited"], 2);
    assert_eq!(entry["detail"]["reports"], json!(["old-1", "old-2"]));
    assert!(entry["token"].is_string(), "{entry}");
}

#[tokio::test]
async fn only_a_members_own_play_gets_a_session_and_it_is_never_cached() {
    let county = County::new().await;
    let resp = county
        .app
        .client
        .get(county.app.url("/api/v1/lessons/lim-1/play"))
        .bearer_auth(&county.tokens.member)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let first: Value = resp.json().await.unwrap();
    let second = county.play_session(&county.tokens.member, "lim-1").await;
    assert_ne!(
        first["play_session"],
        json!(second),
        "each play its own session"
    );
    let (_, station) = county
        .get(&county.tokens.station, "/api/v1/lessons/lim-1/play")
        .await;
    assert!(station["play_session"].is_null(), "{station}");
}

#[tokio::test]
async fn a_member_who_misses_an_attention_check_stops_earning_until_they_answer() {
    let county = County::with(|s| {
        s.ledger.attention_check_min = Duration::from_secs(600);
        s.ledger.attention_check_max = Duration::from_secs(600);
        s.ledger.attention_grace = Duration::from_secs(60);
    })
    .await;
    let member = &county.tokens.member;
    let (play, _) = county.play(member, "lim-1").await;
    let checks = play["attention"]["checks"].as_array().unwrap();
    assert_eq!(play["attention"]["grace_ms"], 60_000);
    assert_eq!(checks[0]["after_ms"], 10 * MIN);
    assert_eq!(checks[1]["after_ms"], 20 * MIN);
    let code = |n: usize| checks[n - 1]["code"].as_str().unwrap().to_string();
    assert_eq!(code(1).len(), 6);
    // Another play, fetched as the page does: its own session, with its own checks.
    let session = county.play_session(member, "lim-1").await;
    let tolerance = county.app.services.settings.ledger.tolerance_ms as i64;
    let checks_of = |session: &str| {
        let head = county
            .app
            .services
            .play_sessions
            .delivery_head(session)
            .unwrap();
        county
            .app
            .services
            .play_sessions
            .checks(&head, (10 * MIN, 10 * MIN), DAY)
    };
    let codes = checks_of(&session);
    let answer = |n: usize, at: i64| json!([n, codes[n - 1].code, support::small_county::ts(at)]);
    let sent = |id: &str, played: (i64, i64), from: i64, answers: Vec<Value>| {
        let mut r = with_session(report(id, "M-a", played, from), &session);
        r["attention"] = json!(answers);
        r
    };
    county.set_now(NOW + 35 * MIN);
    let before = sent("a-1", (0, 8 * MIN), NOW + MIN, vec![]);
    // Check 1 is due 10 minutes in; unanswered, play from 11 minutes on earns nothing.
    let across = sent("a-2", (8 * MIN, 16 * MIN), NOW + 9 * MIN, vec![]);
    let silent = sent("a-3", (16 * MIN, 24 * MIN), NOW + 17 * MIN, vec![]);
    let results = county
        .watch_results(member, vec![before.clone(), across.clone()])
        .await;
    // The answer says which stretch was attended: 9 to 11 minutes in.
    assert!(results[0].get("credited_wall").is_none(), "{results:?}");
    assert_eq!(
        results[1]["credited_wall"],
        json!([NOW + 9 * MIN, NOW + 11 * MIN])
    );
    let outcomes = county.watch(member, vec![before, across, silent]).await;
    assert_eq!(outcomes[0].0, "duplicate", "{outcomes:?}");
    assert_eq!(results[0]["credited_ms"], 8 * MIN);
    let across_ms = results[1]["credited_ms"].as_i64().unwrap();
    assert!(
        (2 * MIN..=2 * MIN + tolerance).contains(&across_ms),
        "{results:?}"
    );
    assert!(no_evidence(&outcomes[2..]), "{outcomes:?}");
    assert!(outcomes[2].2.contains("attention check 1"), "{outcomes:?}");
    // Check 1 answered at 18 minutes (and check 2 in time): from then on it earns again.
    let both = || vec![answer(1, NOW + 18 * MIN), answer(2, NOW + 20 * MIN + 5_000)];
    let resumed = sent("a-4", (16 * MIN, 24 * MIN), NOW + 17 * MIN, both());
    let later = sent("a-5", (24 * MIN, 29 * MIN), NOW + 25 * MIN, both());
    let outcomes = county.watch(member, vec![resumed, later]).await;
    assert!(
        (7 * MIN..=7 * MIN + tolerance).contains(&outcomes[0].1),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1].1, 5 * MIN, "{outcomes:?}");
    // An answer sent before its check was asked, or with another code, is no answer.
    let early = sent(
        "a-6",
        (29 * MIN, 33 * MIN),
        NOW + 30 * MIN,
        vec![answer(1, NOW + 5 * MIN)],
    );
    let outcomes = county.watch(member, vec![early]).await;
    assert!(no_evidence(&outcomes), "{outcomes:?}");
}
