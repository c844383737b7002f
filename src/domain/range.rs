//! Byte ranges and conditional requests (RFC 9110 §13 and §14) as pure decisions.
//!
//! The HTTP adapter hands over raw header values; this module answers what to send:
//! 304, 412, 416, the whole representation, or which byte ranges of it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// More range specs than this in one request are ignored (RFC 9110 §14.2 allows it):
/// thousands of tiny ranges cost the server far more than they save the client.
pub const MAX_RANGES: usize = 64;

/// An inclusive byte range `first..=last`, as written in `Content-Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value of `Content-Range` for this range of a representation of `total` bytes.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.first, self.last, total)
    }
}

/// What a `Range` header asks for, once read against the representation's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeSet {
    /// No usable range: send the whole representation (absent, unknown unit, malformed, too many).
    Full,
    /// Satisfiable ranges, sorted, with overlapping and adjacent ones merged; never empty.
    Partial(Vec<ByteRange>),
    /// Well formed, but no range overlaps the representation.
    Unsatisfiable,
}

enum Spec {
    FromTo(u64, Option<u64>),
    Suffix(u64),
}

/// Reads a `Range` header value for a representation of `len` bytes.
pub fn parse_range(header: &str, len: u64) -> RangeSet {
    let Some((unit, set)) = header.split_once('=') else {
        return RangeSet::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeSet::Full;
    }
    let mut specs = Vec::new();
    // `1#range-spec`: list rules say empty elements are allowed and ignored.
    for element in set.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match parse_spec(element) {
            Some(spec) => specs.push(spec),
            None => return RangeSet::Full,
        }
        if specs.len() > MAX_RANGES {
            return RangeSet::Full;
        }
    }
    if specs.is_empty() {
        return RangeSet::Full;
    }
    let mut ranges: Vec<ByteRange> = specs.iter().filter_map(|s| satisfy(s, len)).collect();
    if ranges.is_empty() {
        return RangeSet::Unsatisfiable;
    }
    ranges.sort_by_key(|r| r.first);
    let mut merged: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(prev) if r.first <= prev.last.saturating_add(1) => {
                prev.last = prev.last.max(r.last)
            }
            _ => merged.push(r),
        }
    }
    RangeSet::Partial(merged)
}

fn parse_spec(element: &str) -> Option<Spec> {
    let (first, last) = element.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix(parse_digits(last)?));
    }
    let first = parse_digits(first)?;
    if last.is_empty() {
        return Some(Spec::FromTo(first, None));
    }
    let last = parse_digits(last)?;
    // A last-pos before the first-pos makes the whole header invalid (§14.1.1).
    (last >= first).then_some(Spec::FromTo(first, Some(last)))
}

/// `1*DIGIT`, saturating: a position past u64 is still syntactically a position.
fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

fn satisfy(spec: &Spec, len: u64) -> Option<ByteRange> {
    match *spec {
        Spec::FromTo(first, last) if first < len => Some(ByteRange {
            first,
            last: last.map_or(len - 1, |l| l.min(len - 1)),
        }),
        Spec::Suffix(n) if n > 0 && len > 0 => Some(ByteRange {
            first: len - n.min(len),
            last: len - 1,
        }),
        _ => None,
    }
}

/// The validators of a stored representation.
#[derive(Debug, Clone)]
pub struct Validators {
    /// The opaque tag, without quotes; always compared as a strong validator.
    pub etag: String,
    pub last_modified: SystemTime,
}

/// The request's method, as far as preconditions and ranges care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Other,
}

/// Raw conditional and range header values of a request (repeated headers joined by ", ").
#[derive(Debug, Clone, Default)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub if_unmodified_since: Option<&'a str>,
    pub if_range: Option<&'a str>,
    pub range: Option<&'a str>,
}

/// What to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    NotModified,
    PreconditionFailed,
    RangeNotSatisfiable,
    Full,
    Partial(Vec<ByteRange>),
}

/// Evaluates preconditions in the order of RFC 9110 §13.2.2, then the range.
pub fn decide(method: Method, c: &Conditions, v: &Validators, len: u64) -> Decision {
    let safe = matches!(method, Method::Get | Method::Head);
    if let Some(h) = c.if_match {
        if !matches_any(h, &v.etag, Comparison::Strong) {
            return Decision::PreconditionFailed;
        }
    } else if let Some(date) = c.if_unmodified_since.and_then(parse_date) {
        if seconds(v.last_modified) > date {
            return Decision::PreconditionFailed;
        }
    }
    if let Some(h) = c.if_none_match {
        if matches_any(h, &v.etag, Comparison::Weak) {
            return if safe {
                Decision::NotModified
            } else {
                Decision::PreconditionFailed
            };
        }
    } else if let (true, Some(date)) = (safe, c.if_modified_since.and_then(parse_date)) {
        if seconds(v.last_modified) <= date {
            return Decision::NotModified;
        }
    }
    // Only GET has range semantics (§14.2); HEAD and others get the full representation.
    let (Method::Get, Some(range)) = (method, c.range) else {
        return Decision::Full;
    };
    if let Some(if_range) = c.if_range {
        if !if_range_holds(if_range, v) {
            return Decision::Full;
        }
    }
    match parse_range(range, len) {
        RangeSet::Full => Decision::Full,
        RangeSet::Partial(ranges) => Decision::Partial(ranges),
        RangeSet::Unsatisfiable => Decision::RangeNotSatisfiable,
    }
}

#[derive(Clone, Copy)]
enum Comparison {
    Strong,
    Weak,
}

/// `"*"` or a list of entity tags; a malformed list matches nothing.
fn matches_any(header: &str, etag: &str, cmp: Comparison) -> bool {
    if header.trim() == "*" {
        return true;
    }
    let Some(tags) = parse_etag_list(header) else {
        return false;
    };
    tags.iter().any(|(weak, tag)| {
        *tag == etag
            && match cmp {
                Comparison::Strong => !weak,
                Comparison::Weak => true,
            }
    })
}

/// Parses `1#entity-tag` into (is_weak, opaque) pairs.
fn parse_etag_list(header: &str) -> Option<Vec<(bool, &str)>> {
    let mut tags = Vec::new();
    let mut rest = header.trim_start();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
            continue;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = quoted.strip_prefix('"')?;
        let end = inner.find('"')?;
        tags.push((weak, &inner[..end]));
        rest = inner[end + 1..].trim_start();
        if !(rest.is_empty() || rest.starts_with(',')) {
            return None;
        }
    }
    (!tags.is_empty()).then_some(tags)
}

/// `If-Range` holds for a strong tag equal to ours or a date exactly equal to `Last-Modified`.
fn if_range_holds(header: &str, v: &Validators) -> bool {
    let header = header.trim();
    if header.starts_with('"') || header.starts_with("W/") {
        return parse_etag_list(header)
            .is_some_and(|tags| tags.len() == 1 && tags[0] == (false, v.etag.as_str()));
    }
    parse_date(header).is_some_and(|date| date == seconds(v.last_modified))
}

fn parse_date(s: &str) -> Option<u64> {
    httpdate::parse_http_date(s.trim()).ok().map(seconds)
}

/// HTTP dates have one-second resolution; compare at that resolution.
pub fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The layout of a `multipart/byteranges` body (RFC 9110 §14.6): each part's head, and the close.
#[derive(Debug, Clone)]
pub struct MultipartPlan {
    pub parts: Vec<(String, ByteRange)>,
    pub close: String,
}

impl MultipartPlan {
    pub fn new(boundary: &str, content_type: &str, ranges: &[ByteRange], total: u64) -> Self {
        let parts = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let lead = if i == 0 { "" } else { "\r\n" };
                let head = format!(
                    "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
                    r.content_range(total)
                );
                (head, *r)
            })
            .collect();
        MultipartPlan {
            parts,
            close: format!("\r\n--{boundary}--\r\n"),
        }
    }

    /// The exact body length, so the response can carry `Content-Length`.
    pub fn content_length(&self) -> u64 {
        let parts: u64 = self
            .parts
            .iter()
            .map(|(h, r)| h.len() as u64 + r.len())
            .sum();
        parts + self.close.len() as u64
    }
}

#[cfg(test)]
#[path = "range_tests.rs"]
mod tests;
