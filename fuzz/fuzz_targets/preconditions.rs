//! Precondition evaluation (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, `If-Range`, `Range`): any six header values give an answer, and a
//! partial answer's ranges lie inside the representation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};
use yuanjiao::domain::range::{decide, Conditions, Decision, Method, Validators};
use yuanjiao::domain::representation::none_match_hits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Fields separated by newlines: method, six headers (empty = absent), the etag.
    let mut fields = text.split('\n');
    let method = match fields.next().map(str::len) {
        Some(0) => Method::Get,
        Some(1) => Method::Head,
        _ => Method::Other,
    };
    let mut next = || fields.next().filter(|f| !f.is_empty());
    let conditions = Conditions {
        if_match: next(),
        if_none_match: next(),
        if_modified_since: next(),
        if_unmodified_since: next(),
        if_range: next(),
        range: next(),
    };
    let etag = next().unwrap_or("abc").to_string();
    let validators = Validators {
        etag: etag.clone(),
        last_modified: UNIX_EPOCH + Duration::from_secs(1_780_000_000),
    };
    let len = 4096;
    if let Decision::Partial(ranges) = decide(method, &conditions, &validators, len) {
        assert!(ranges.iter().all(|r| r.first <= r.last && r.last < len));
    }
    if let Some(inm) = conditions.if_none_match {
        let _ = none_match_hits(inm, &etag);
    }
});
