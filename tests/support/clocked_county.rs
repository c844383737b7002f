//! The small county on a clock the test sets, with the calls the evidence tests make: plays as
//! the member page makes them, batches of reports and the hours they earned.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::small_county::{set_up, Tokens};
use super::TestApp;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use yuanjiao::clock::FixedClock;

pub const MIN: i64 = 60_000;
pub const DAY: i64 = 1440 * MIN;
/// 2026-03-10T04:00:00Z, noon in Shanghai.
pub const NOW: i64 = 1_773_115_200_000;

pub struct County {
    pub app: TestApp,
    pub clock: Arc<FixedClock>,
    pub tokens: Tokens,
}

impl County {
    /// Without attention checks, which have their own tests.
    pub async fn new() -> County {
        Self::with(|s| s.ledger.attention_checks = false).await
    }

    pub async fn with(adjust: impl FnOnce(&mut yuanjiao::config::Settings)) -> County {
        let clock = Arc::new(FixedClock::new(at(NOW)));
        let app = TestApp::spawn_with_clock(clock.clone(), adjust).await;
        let tokens = set_up(&app);
        County { app, clock, tokens }
    }

    pub fn set_now(&self, ms: i64) {
        self.clock.set(at(ms));
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// What `GET /play` gives this member's token for a lesson, and its session, without
    /// fetching the media.
    pub async fn play(&self, token: &str, lesson: &str) -> (Value, String) {
        let path = format!("/api/v1/lessons/{lesson}/play");
        let (status, play) = self.get(token, &path).await;
        assert_eq!(status, 200, "{play}");
        let session = play["play_session"]
            .as_str()
            .expect("a session")
            .to_string();
        (play, session)
    }

    /// A play as the member page makes it: `GET /play`, then the media by the URL it gave.
    pub async fn play_session(&self, token: &str, lesson: &str) -> String {
        let (play, session) = self.play(token, lesson).await;
        let url = play["url"].as_str().unwrap();
        let media = self.app.client.get(self.app.url(url)).send().await.unwrap();
        assert_eq!(media.status(), 200);
        media.bytes().await.unwrap();
        session
    }

    /// `(status, credited_ms, reason)` of each report of a batch.
    pub async fn watch(&self, token: &str, reports: Vec<Value>) -> Vec<(String, i64, String)> {
        self.watch_results(token, reports)
            .await
            .iter()
            .map(|r| {
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["credited_ms"].as_i64().unwrap(),
                    r["reason"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// The results of a batch as the server wrote them.
    pub async fn watch_results(&self, token: &str, reports: Vec<Value>) -> Vec<Value> {
        let resp = self
            .app
            .client
            .post(self.app.url("/api/v1/watch"))
            .bearer_auth(token)
            .json(&json!({ "reports": reports }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let answer: Value = resp.json().await.unwrap();
        answer["results"].as_array().unwrap().clone()
    }

    pub async fn credited_ms(&self, member: &str) -> i64 {
        let path = format!("/api/v1/members/{member}/hours?year=2026");
        let (_, hours) = self.get(&self.tokens.admin, &path).await;
        hours["credited_ms"].as_i64().unwrap()
    }
}

pub fn at(ms: i64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms as u64)
}
