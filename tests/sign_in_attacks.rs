//! PIN sign-in as an attacker tries it: parallel guesses against one member, one address
//! guessing across many ids, ids that do not exist, a flood of concurrent checks, and guesses
//! racing a manager's edit. Each answer past a limit is 429 with `Retry-After`, never more
//! Argon2 work; failures and locks are audited with the address they came from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::future::join_all;
use serde_json::{json, Value};
use support::people::seed;
use support::TestApp;
use yuanjiao::config::Settings;

/// Limits far above what a test sends, so only the one under test can answer 429.
fn only_the_member_lock(s: &mut Settings) {
    s.auth.sign_in_per_address_burst = 10_000;
    s.auth.sign_in_global_burst = 10_000;
    s.auth.max_concurrent_pin_checks = 64;
}

async fn sign_in(app: &TestApp, member: &str, pin: &str) -> (u16, Option<u64>, Value) {
    let resp = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"member": member, "pin": pin}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

/// 64 wrong PINs, 32 in flight at a time: how many answers of each status.
async fn guess_64_at_32(app: &TestApp, member: &str) -> (usize, usize) {
    let (mut refused, mut limited) = (0, 0);
    for round in 0..2 {
        let guesses = (0..32).map(|i| {
            let pin = format!("{:04}", 1000 + round * 32 + i);
            async move { sign_in(app, member, &pin).await }
        });
        for (status, retry, _) in join_all(guesses).await {
            match status {
                401 => refused += 1,
                429 => {
                    assert!(retry.is_some_and(|s| s >= 1), "429 carries Retry-After");
                    limited += 1
                }
                other => panic!("unexpected {other}"),
            }
        }
    }
    (refused, limited)
}

#[tokio::test]
async fn sixty_four_wrong_pins_sent_32_at_a_time_weigh_at_most_five_and_the_right_pin_waits() {
    let app = TestApp::spawn_with(only_the_member_lock).await;
    seed(&app);
    let (weighed, limited) = guess_64_at_32(&app, "M1").await;
    println!(
        "wrong PINs weighed under 32-way concurrency: {weighed} of 64 ({limited} answered 429)"
    );
    assert!(weighed <= 5, "{weighed} wrong PINs were weighed");
    assert_eq!(weighed + limited, 64);
    let (status, retry, _) = sign_in(&app, "M1", "4821").await;
    assert_eq!(status, 429, "the right PIN waits for the lock too");
    assert!(retry.unwrap() >= 1);
}

#[tokio::test]
async fn an_id_that_does_not_exist_counts_and_locks_like_one_that_does() {
    let app = TestApp::spawn_with(only_the_member_lock).await;
    seed(&app);
    let mut answers = Vec::new();
    for id in ["M1", "M404"] {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let (status, _, body) = sign_in(&app, id, "0000").await;
            statuses.push((status, body["code"].as_str().unwrap().to_string()));
        }
        answers.push(statuses);
    }
    assert_eq!(
        answers[0], answers[1],
        "the answers do not tell which id exists"
    );
    assert_eq!(answers[0][4].0, 401);
    assert_eq!(answers[0][5].0, 429);
    assert_eq!(answers[0][5].1, "sign-in-locked");
}

#[tokio::test]
async fn one_address_trying_4_pins_on_each_of_1000_ids_is_throttled_after_its_budget() {
    // The shipped limits: 20 at once from one address, then 10 a minute.
    let app = TestApp::spawn().await;
    seed(&app);
    let burst = app.services.settings.auth.sign_in_per_address_burst as usize;
    let tries: Vec<(String, String)> = (0..1000)
        .flat_map(|n| (0..4).map(move |p| (format!("M{n}"), format!("{:04}", 5000 + p))))
        .collect();
    let (mut weighed, mut throttled) = (0, 0);
    for chunk in tries.chunks(16) {
        let sent = chunk.iter().map(|(id, pin)| sign_in(&app, id, pin));
        for (status, retry, body) in join_all(sent).await {
            match (status, body["code"].as_str()) {
                (401, _) => weighed += 1,
                (429, Some("sign-in-throttled")) => {
                    assert!(retry.unwrap() >= 1);
                    throttled += 1
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    println!("4,000 tries from one address: {weighed} weighed, {throttled} throttled");
    // The burst, and what 10 a minute refills while the test runs (well under a minute).
    assert!(
        weighed >= burst && weighed <= burst + 10,
        "{weighed} weighed"
    );
    assert_eq!(weighed + throttled, 4000);
}

#[tokio::test]
async fn concurrent_pin_checks_past_the_cap_are_429_not_queued_argon2_work() {
    let app = TestApp::spawn_with(|s| {
        only_the_member_lock(s);
        s.auth.max_concurrent_pin_checks = 1;
    })
    .await;
    seed(&app);
    let ids: Vec<String> = (0..32).map(|n| format!("X{n}")).collect();
    let answers = join_all(ids.iter().map(|id| sign_in(&app, id, "1234"))).await;
    let busy = answers
        .iter()
        .filter(|(s, r, b)| *s == 429 && b["code"] == "sign-in-busy" && r.is_some())
        .count();
    let refused = answers.iter().filter(|(s, _, _)| *s == 401).count();
    assert_eq!(busy + refused, 32, "{answers:?}");
    assert!(busy > 0 && refused > 0, "{busy} busy, {refused} weighed");
}

#[tokio::test]
async fn failed_sign_ins_and_locks_are_audited_with_the_id_tried_and_the_address() {
    let app = TestApp::spawn_with(only_the_member_lock).await;
    let admin = seed(&app)[0].1.clone().unwrap();
    for _ in 0..6 {
        sign_in(&app, "M404", "0000").await;
    }
    let log: Vec<Value> = app
        .client
        .get(app.url("/api/v1/audit?limit=1000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let of = |action: &str| -> Vec<Value> {
        log.iter()
            .map(|e| e["entry"].clone())
            .filter(|e| e["action"] == action)
            .collect()
    };
    let fails = of("sign_in.fail");
    assert_eq!(fails.len(), 5, "the sixth was refused before any check");
    assert_eq!(fails[0]["detail"]["member"], "M404");
    assert_eq!(fails[0]["detail"]["address"], "127.0.0.1");
    let locks = of("sign_in.lock");
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0]["subject"], "M404");
}

#[tokio::test]
async fn wrong_pins_racing_a_managers_edit_never_undo_it() {
    let app = TestApp::spawn_with(only_the_member_lock).await;
    let admin = seed(&app)[0].1.clone().unwrap();
    for round in 0..6 {
        let id = format!("R{round}");
        let body = json!({"id": id, "name": "旧名", "org": "branch", "posts": ["member"],
                          "field": "rural", "joined": "2020-01-01", "pin": "2468"});
        let made = app
            .client
            .post(app.url("/api/v1/members"))
            .bearer_auth(&admin)
            .json(&body);
        assert_eq!(made.send().await.unwrap().status(), 201);
        let name = format!("新名-{round}");
        let rename = async {
            app.client
                .patch(app.url(&format!("/api/v1/members/{id}")))
                .bearer_auth(&admin)
                .json(&json!({"name": name}))
                .send()
                .await
                .unwrap()
                .status()
        };
        let guesses =
            join_all((0..4).map(|p| sign_in(&app, &id, if p == 0 { "1111" } else { "2222" })));
        let (renamed, guessed) = tokio::join!(rename, guesses);
        assert_eq!(renamed, 200);
        let statuses: Vec<u16> = guessed.iter().map(|g| g.0).collect();
        assert_eq!(statuses, [401; 4], "{guessed:?}");
        let record = app.services.store.member(&id).unwrap().unwrap();
        assert_eq!(
            record.member.name, name,
            "round {round}: the edit was undone"
        );
        assert_eq!(
            record.failed_sign_ins, 4,
            "round {round}: a failure was lost"
        );
    }
}
