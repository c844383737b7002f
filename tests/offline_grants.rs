//! Lessons taken home (issue: members on weak links, offline study): `POST
//! /api/v1/lessons/{id}/offline` gives a member an offline grant and the files to download under
//! it; reports of plays of those files name the grant and are credited when they arrive, for
//! play within the grant's validity, by the usual rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::clocked_county::{County, DAY, MIN, NOW};
use support::small_county::{report, ts};

impl County {
    async fn post_offline(&self, token: &str, lesson: &str) -> (u16, Value) {
        let resp = self
            .app
            .client
            .post(self.app.url(&format!("/api/v1/lessons/{lesson}/offline")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// A grant for the member's token, with its first file downloaded by the URL it gave.
    async fn take_home(&self, token: &str, lesson: &str) -> Value {
        let (status, grant) = self.post_offline(token, lesson).await;
        assert_eq!(status, 200, "{grant}");
        let url = grant["files"][0]["url"].as_str().unwrap();
        let media = self.app.client.get(self.app.url(url)).send().await.unwrap();
        assert_eq!(media.status(), 200);
        media.bytes().await.unwrap();
        grant
    }
}

fn under(mut report: Value, grant: &Value) -> Value {
    report["grant"] = grant["grant"].clone();
    report
}

#[tokio::test]
async fn a_member_is_granted_a_lesson_for_the_configured_days_with_its_files_and_their_hashes() {
    let county = County::new().await;
    let (status, grant) = county.post_offline(&county.tokens.member, "lim-1").await;
    assert_eq!(status, 200, "{grant}");
    assert!(grant["grant"].as_str().unwrap().starts_with("og1."));
    assert_eq!(grant["expires"], json!(ts(NOW + 14 * DAY)));
    assert_eq!(grant["lesson"], "lim-1");
    let file = &grant["files"][0];
    // A text lesson has no renditions: its source is what goes home.
    assert_eq!(file["name"], "source");
    assert!(file["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("?og={}", grant["grant"].as_str().unwrap())));
    let body = county
        .app
        .client
        .get(county.app.url(file["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let bytes = body.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, file["size"].as_u64().unwrap());
    assert_eq!(
        support::sha256_hex(&bytes),
        file["sha256"].as_str().unwrap()
    );
    // Checks are off in this county.
    assert_eq!(grant["attention"], Value::Null);

    let (status, body) = county.post_offline(&county.tokens.station, "lim-1").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("member"),
        "{body}"
    );
    let (status, _) = county.post_offline(&county.tokens.member, "no-such").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_offline_play_reported_days_later_is_credited_once_under_its_grant() {
    let county = County::new().await;
    let grant = county.take_home(&county.tokens.member, "lim-1").await;
    // Studied at home on day 2, reported when the phone next saw the network, on day 5.
    let played = under(
        report("home-1", "M-a", (0, 30 * MIN), NOW + 2 * DAY),
        &grant,
    );
    county.set_now(NOW + 5 * DAY);
    let outcomes = county
        .watch(&county.tokens.member, vec![played.clone()])
        .await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
    assert_eq!(outcomes[0].1, 30 * MIN);
    let again = county.watch(&county.tokens.member, vec![played]).await;
    assert_eq!(again[0].0, "duplicate", "{again:?}");
    assert_eq!(county.credited_ms("M-a").await, 30 * MIN);
}

#[tokio::test]
async fn a_grant_used_by_another_member_earns_nothing() {
    let county = County::new().await;
    let grant = county.take_home(&county.tokens.member, "lim-1").await;
    county.set_now(NOW + DAY);
    // M-b's own token, and their manager's, with M-a's grant.
    let stolen = under(report("b-1", "M-b", (0, 30 * MIN), NOW + 2 * MIN), &grant);
    for token in [&county.tokens.member_b, &county.tokens.manager] {
        let outcomes = county.watch(token, vec![stolen.clone()]).await;
        assert_eq!(outcomes[0].0, "rejected", "{outcomes:?}");
        assert!(
            outcomes[0].2.contains("issued to another member"),
            "{outcomes:?}"
        );
    }
    // Nor for another lesson.
    let mut other = under(report("a-2", "M-a", (0, 30 * MIN), NOW + 2 * MIN), &grant);
    other["lesson"] = json!("lim-2");
    let outcomes = county.watch(&county.tokens.member, vec![other]).await;
    assert!(outcomes[0].2.contains("another lesson"), "{outcomes:?}");
    assert_eq!(county.credited_ms("M-b").await, 0);
    assert_eq!(county.credited_ms("M-a").await, 0);
}

#[tokio::test]
async fn play_after_a_grant_expired_is_rejected_with_when_it_expired() {
    let county = County::with(|s| {
        s.ledger.attention_checks = false;
        s.ledger.offline_grant_days = 3;
    })
    .await;
    let grant = county.take_home(&county.tokens.member, "lim-1").await;
    assert_eq!(grant["expires"], json!(ts(NOW + 3 * DAY)));
    county.set_now(NOW + 6 * DAY);
    let late = under(report("late", "M-a", (0, 30 * MIN), NOW + 4 * DAY), &grant);
    let in_time = under(
        report("in-time", "M-a", (0, 30 * MIN), NOW + 2 * DAY),
        &grant,
    );
    let outcomes = county
        .watch(&county.tokens.member, vec![late, in_time])
        .await;
    assert_eq!(outcomes[0].0, "rejected", "{outcomes:?}");
    assert!(outcomes[0].2.contains("grant expired at"), "{outcomes:?}");
    assert!(outcomes[0].2.contains(&ts(NOW + 3 * DAY)), "{outcomes:?}");
    assert_eq!(outcomes[1].0, "credited", "{outcomes:?}");
}

#[tokio::test]
async fn a_grant_whose_files_were_never_downloaded_or_a_made_up_one_earns_nothing() {
    let county = County::new().await;
    let (_, grant) = county.post_offline(&county.tokens.member, "lim-1").await;
    county.set_now(NOW + DAY);
    let played = under(report("nd", "M-a", (0, 30 * MIN), NOW + 2 * MIN), &grant);
    let outcomes = county.watch(&county.tokens.member, vec![played]).await;
    assert!(
        outcomes[0]
            .2
            .contains("never downloaded under its offline grant"),
        "{outcomes:?}"
    );
    let mut made_up = report("mu", "M-a", (0, 30 * MIN), NOW + 2 * MIN);
    made_up["grant"] = json!("og1.AAAAAAAAAAAA");
    let mut both = under(report("both", "M-a", (0, 30 * MIN), NOW + 2 * MIN), &grant);
    both["play_session"] = json!("ps1.AAAA");
    let outcomes = county
        .watch(&county.tokens.member, vec![made_up, both])
        .await;
    assert!(
        outcomes[0].2.contains("not issued by this server"),
        "{outcomes:?}"
    );
    assert!(outcomes[1].2.contains("not both"), "{outcomes:?}");
    assert_eq!(county.credited_ms("M-a").await, 0);
}

#[tokio::test]
async fn offline_attention_checks_are_drawn_from_the_grant_and_answered_in_the_reports() {
    let county = County::with(|s| {
        s.ledger.attention_check_min = Duration::from_secs(600);
        s.ledger.attention_check_max = Duration::from_secs(900);
        s.ledger.attention_grace = Duration::from_secs(60);
    })
    .await;
    let grant = county.take_home(&county.tokens.member, "lim-1").await;
    let plan = &grant["attention"];
    assert_eq!(plan["issued_ms"], json!(NOW));
    let seed = hex::decode(plan["seed"].as_str().unwrap()).unwrap();
    let checks = yuanjiao::domain::evidence::seeded_checks(&seed, (600_000, 900_000), 3 * DAY);
    // A sitting at home on day 2 from `start`: before playing, the page asks the check that
    // fell due last (while nothing played), then each as it falls due, answered in 3 s.
    let start = NOW + 2 * DAY + 7 * MIN;
    let end = start + 40 * MIN;
    let asked: Vec<_> = checks.iter().filter(|c| NOW + c.after_ms <= end).collect();
    let last_before = asked
        .iter()
        .rposition(|c| NOW + c.after_ms <= start)
        .unwrap();
    let answers: Vec<Value> = asked[last_before..]
        .iter()
        .map(|c| json!([c.n, c.code, ts((NOW + c.after_ms + 3_000).max(start))]))
        .collect();
    assert!(answers.len() >= 3, "{answers:?}");
    let mut answered = under(report("att-1", "M-a", (0, 40 * MIN), start), &grant);
    answered["attention"] = json!(answers);
    county.set_now(NOW + 3 * DAY);
    let outcomes = county.watch(&county.tokens.member, vec![answered]).await;
    assert_eq!(outcomes[0].0, "credited", "{outcomes:?}");
    assert_eq!(outcomes[0].1, 40 * MIN, "{outcomes:?}");

    // The same sitting under another grant, with no answers.
    let county_b = County::with(|s| {
        s.ledger.attention_check_min = Duration::from_secs(600);
        s.ledger.attention_check_max = Duration::from_secs(900);
        s.ledger.attention_grace = Duration::from_secs(60);
    })
    .await;
    let grant_b = county_b.take_home(&county_b.tokens.member, "lim-1").await;
    let silent = under(report("att-2", "M-a", (0, 40 * MIN), start), &grant_b);
    county_b.set_now(NOW + 3 * DAY);
    let outcomes = county_b.watch(&county_b.tokens.member, vec![silent]).await;
    assert_eq!(outcomes[0].0, "rejected", "{outcomes:?}");
    assert!(outcomes[0].2.contains("attention check"), "{outcomes:?}");
}
