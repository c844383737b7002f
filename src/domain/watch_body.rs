//! The body of `POST /api/v1/watch` — one report, or `{"reports": [...]}` — parsed straight into
//! typed reports, with the count limits applied while parsing: a batch stops at `MAX_BATCH`
//! reports and a report keeps at most one played interval past `MAX_INTERVALS` (enough for the
//! rules to reject it), so what a body costs in memory is its typed size, never a tree of
//! `serde_json::Value`s several times larger (an interval `[0,1]` is 16 bytes here, about 150
//! as a `Value` array of two numbers).

use super::watch::{WatchReport, MAX_INTERVALS};
use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde::Deserialize;
use std::cell::Cell;
use std::fmt;

/// The most reports one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// Why a watch body is refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not one report or `{"reports": [...]}` of them.
    #[error("{0}")]
    NotReports(String),
    #[error("the body is larger than {limit} bytes, the most {key} allows this caller")]
    TooLarge { limit: usize, key: &'static str },
    #[error("the body could not be read: {0}")]
    Unreadable(String),
}

/// One report, or `{"reports": [...]}`; anything not shaped like that is an error.
pub fn parse_watch_body(body: &[u8]) -> Result<Vec<WatchReport>, BodyError> {
    let at = Cell::new(None);
    let mut reader = serde_json::Deserializer::from_slice(body);
    let parsed = reader
        .deserialize_map(BodyVisitor { at: &at })
        .and_then(|reports| reader.end().map(|()| reports));
    parsed.map_err(|e| match (e.classify(), at.get()) {
        (serde_json::error::Category::Data, Some(n)) => {
            BodyError::NotReports(format!("report {n}: {e}"))
        }
        (serde_json::error::Category::Data, None) => BodyError::NotReports(e.to_string()),
        _ => BodyError::NotJson(e.to_string()),
    })
}

/// The body; `at` is the number of the batch's report being read, for error messages.
struct BodyVisitor<'a> {
    at: &'a Cell<Option<usize>>,
}

impl<'de> Visitor<'de> for BodyVisitor<'_> {
    type Value = Vec<WatchReport>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("one report, or {\"reports\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let first: Option<String> = map.next_key()?;
        if first.as_deref() == Some("reports") {
            let reports = map.next_value_seed(Batch { at: self.at })?;
            if map.next_key::<IgnoredAny>()?.is_some() {
                return Err(de::Error::custom(
                    "a batch is {\"reports\": [...]} and nothing else",
                ));
            }
            return Ok(reports);
        }
        // A single report: hand it the key already read, then the rest of the object.
        let rest = Resumed { first, map };
        let report = WatchReport::deserialize(de::value::MapAccessDeserializer::new(rest))?;
        Ok(vec![report])
    }
}

/// A map whose first key was read already.
struct Resumed<A> {
    first: Option<String>,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Resumed<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(key) => seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(key))
                .map(Some),
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// The `reports` array, stopped at `MAX_BATCH`.
struct Batch<'a> {
    at: &'a Cell<Option<usize>>,
}

impl<'de> DeserializeSeed<'de> for Batch<'_> {
    type Value = Vec<WatchReport>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Batch<'_> {
    type Value = Vec<WatchReport>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("\"reports\" to be an array of reports")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut reports = Vec::new();
        while reports.len() < MAX_BATCH {
            self.at.set(Some(reports.len()));
            match seq.next_element::<WatchReport>()? {
                Some(report) => reports.push(report),
                None => {
                    self.at.set(None);
                    return Ok(reports);
                }
            }
        }
        self.at.set(None);
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "at most {MAX_BATCH} reports per request"
            )));
        }
        Ok(reports)
    }
}

/// A report's `played` intervals: every one is checked for shape, but only the first
/// `MAX_INTERVALS + 1` are kept — one more than allowed, so the rules still reject the report
/// with its reason while the rest costs no memory.
pub(super) fn capped_intervals<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(u64, u64)>, D::Error> {
    struct Intervals;

    impl<'de> Visitor<'de> for Intervals {
        type Value = Vec<(u64, u64)>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of [from_ms, to_ms] pairs")
        }

        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
            let mut kept = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_INTERVALS + 1));
            while let Some(interval) = seq.next_element::<(u64, u64)>()? {
                if kept.len() <= MAX_INTERVALS {
                    kept.push(interval);
                }
            }
            Ok(kept)
        }
    }

    d.deserialize_seq(Intervals)
}

#[cfg(test)]
#[path = "watch_body_tests.rs"]
mod tests;
