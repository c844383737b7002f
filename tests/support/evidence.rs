//! Play sessions for reports that tests write by hand: what a member page would have been given
//! when its play began, with the lesson's media delivered under it, so such reports are
//! credited as the page's would be.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use yuanjiao::services::Services;

/// The session given to each report body, so a report sent again is the same report.
static GIVEN: LazyLock<Mutex<HashMap<String, Given>>> = LazyLock::new(Mutex::default);

/// A report's session, and its attention checks answered.
type Given = (String, Vec<Value>);

/// Gives one report, or each of a batch, a play session issued a minute before its wall time
/// starts (by the server's clock, after correcting the sender's), with its attention checks
/// answered, unless it names one already.
pub fn witness(services: &Services, body: &mut Value) {
    if let Some(reports) = body.get_mut("reports").and_then(Value::as_array_mut) {
        reports.iter_mut().for_each(|r| witness_one(services, r));
    } else {
        witness_one(services, body);
    }
}

fn witness_one(services: &Services, report: &mut Value) {
    if report.get("play_session").is_some_and(|s| !s.is_null()) {
        return;
    }
    let (Some(member), Some(lesson)) = (report["member"].as_str(), report["lesson"].as_str())
    else {
        return;
    };
    // As the ledger tells a report sent again: by everything but the sender's clock.
    let mut unclocked = report.clone();
    if let Some(fields) = unclocked.as_object_mut() {
        fields.remove("device_clock");
    }
    let key = unclocked.to_string();
    let mut given = GIVEN.lock().unwrap();
    let session = given.entry(key).or_insert_with(|| {
        let instant = |v: &Value| v.as_str()?.parse::<jiff::Timestamp>().ok();
        let now = services
            .clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let offset = instant(&report["device_clock"]).map_or(0, |c| now - c.as_millisecond());
        let start = instant(&report["wall"][0]).map_or(now, |t| t.as_millisecond() + offset);
        let issued = start - 60_000;
        // A device of the member's own.
        let mut device = [0u8; 8];
        for (i, b) in member.bytes().enumerate() {
            device[i % 8] ^= b.wrapping_add(i as u8);
        }
        let session = services.play_sessions.issue(member, lesson, issued, device);
        deliver(services, &session, lesson);
        // Every check before the play ended, answered the moment it was asked.
        let end = instant(&report["wall"][1]).map_or(now, |t| t.as_millisecond() + offset);
        let interval = services.settings.ledger.attention_interval_ms();
        let head = services.play_sessions.delivery_head(&session).unwrap();
        let answers: Vec<Value> = services
            .play_sessions
            .checks(&head, interval, end - issued)
            .into_iter()
            .map(|c| {
                let at = issued + c.after_ms - offset;
                let at = jiff::Timestamp::from_millisecond(at).unwrap().to_string();
                serde_json::json!([c.n, c.code, at])
            })
            .collect();
        (session, answers)
    });
    report["play_session"] = Value::String(session.0.clone());
    if !session.1.is_empty() {
        report["attention"] = Value::Array(session.1.clone());
    }
}

/// Records that the lesson's media (each variant) was delivered under the session, as `/media`
/// does for the URLs `GET /play` gives.
pub fn deliver(services: &Services, session: &str, lesson: &str) {
    let view = services.catalog.view(services).unwrap();
    let Some((_, lesson)) = view.lesson(lesson) else {
        return;
    };
    for variant in lesson.variants.values() {
        let source = yuanjiao::domain::digest::Sha256::parse_hex(&variant.sha256).unwrap();
        services
            .play_sessions
            .delivered(&services.infra, session, &source);
    }
}

/// Records that every lesson's media was delivered to the station, as `/media` does for the
/// requests its page makes with the station's tag.
pub fn deliver_to_station(services: &Services, station: &str) {
    let view = services.catalog.view(services).unwrap();
    let tag = services.play_sessions.station_tag(station);
    for (course, _) in view.changes_after(0) {
        for lesson in &course.lessons {
            for variant in lesson.variants.values() {
                let source = yuanjiao::domain::digest::Sha256::parse_hex(&variant.sha256).unwrap();
                services
                    .play_sessions
                    .delivered_to_station(&services.infra, &tag, &source);
            }
        }
    }
}

/// For a station's token, what its page would have downloaded: every lesson's media.
pub fn deliver_to_caller(services: &Services, token: &str) {
    let found = yuanjiao::tokens::authenticate(services, token).unwrap();
    if let Some(yuanjiao::domain::org::Principal::Terminal { station, .. }) =
        found.map(|a| a.principal)
    {
        deliver_to_station(services, &station);
    }
}
