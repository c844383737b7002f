//! Reads any bytes as every kind of stored record, for the store-decoding fuzz target: decoding
//! must refuse or succeed without panicking, and whatever it accepts must read back the same
//! after being written again, or an upgrade that rewrites records would change them.

use super::ledger_codec::{decode_entry, encode_entry};
use super::{decode, decode_any, encode, encode_compact};
use crate::domain::catalog::Course;
use crate::domain::group::GroupSession;
use crate::domain::media::Probe;
use crate::domain::org::Org;
use crate::domain::upload::Upload;
use crate::repo::{AuditEntry, BlobMeta, CourseEntry, Job, MemberRecord, MemberYear, SeenId};
use crate::repo::{Terminal, TokenRecord};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Whether bytes are such a record (`None` if not) and, if so, whether a rewrite is stable.
type Check = fn(&[u8]) -> Option<bool>;

/// How many record kinds accepted the bytes; an error names the kind whose bytes changed
/// between the first and the second rewrite.
pub fn check_stored_bytes(bytes: &[u8]) -> Result<usize, String> {
    let mut accepted = 0;
    let checks: [(&str, Check); 15] = [
        ("ledger entry", |b| stable_as(b, decode_entry, encode_entry)),
        ("seen id", stable_compact::<SeenId>),
        ("member year", stable_compact::<MemberYear>),
        ("group session", stable::<GroupSession>),
        ("org", stable::<Org>),
        ("member", stable::<MemberRecord>),
        ("terminal", stable::<Terminal>),
        ("token", stable::<TokenRecord>),
        ("audit entry", stable::<AuditEntry>),
        ("blob meta", stable::<BlobMeta>),
        ("job", stable::<Job>),
        ("probe", stable::<Probe>),
        ("upload", stable::<Upload>),
        ("course entry", stable::<CourseEntry>),
        ("course version", stable::<Course>),
    ];
    for (kind, check) in checks {
        match check(bytes) {
            Some(true) => accepted += 1,
            Some(false) => return Err(format!("a {kind} changed when written again")),
            None => {}
        }
    }
    Ok(accepted)
}

/// None when the bytes are not such a JSON record; otherwise whether a rewrite is stable.
fn stable<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Option<bool> {
    stable_as::<T>(bytes, decode, encode)
}

/// The same for the ledger's compact records (which may also be older JSON).
fn stable_compact<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Option<bool> {
    stable_as::<T>(bytes, decode_any, encode_compact)
}

fn stable_as<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    read: fn(&'static str, &[u8]) -> Result<T, super::StoreError>,
    write: fn(&T) -> Vec<u8>,
) -> Option<bool> {
    let once = write(&read("fuzz", bytes).ok()?);
    let again = read("fuzz", &once).ok().map(|v| write(&v));
    Some(again.as_ref() == Some(&once))
}

#[cfg(test)]
mod fixtures {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::Value;

    /// The record decoded from stored bytes, as JSON, and as today's code writes it again.
    type Reader = fn(&[u8]) -> Result<(Value, Vec<u8>), super::super::StoreError>;

    fn json<T: Serialize + DeserializeOwned>(
        bytes: &[u8],
    ) -> Result<(Value, Vec<u8>), super::super::StoreError> {
        let record: T = decode("fixture", bytes)?;
        Ok((serde_json::to_value(&record).unwrap(), encode(&record)))
    }

    fn compact<T: Serialize + DeserializeOwned>(
        bytes: &[u8],
    ) -> Result<(Value, Vec<u8>), super::super::StoreError> {
        let record: T = decode_any("fixture", bytes)?;
        Ok((
            serde_json::to_value(&record).unwrap(),
            encode_compact(&record),
        ))
    }

    fn reader(kind: &str) -> Option<(Reader, bool)> {
        Some(match kind {
            "seen id" => (compact::<SeenId>, true),
            "member year" => (compact::<MemberYear>, true),
            "group session" => (json::<GroupSession>, false),
            "org" => (json::<Org>, false),
            "member" => (json::<MemberRecord>, false),
            "terminal" => (json::<Terminal>, false),
            "token" => (json::<TokenRecord>, false),
            "audit entry" => (json::<AuditEntry>, false),
            "blob meta" => (json::<BlobMeta>, false),
            "job" => (json::<Job>, false),
            "probe" => (json::<Probe>, false),
            "upload" => (json::<Upload>, false),
            "course entry" => (json::<CourseEntry>, false),
            "course version" => (json::<Course>, false),
            _ => return None,
        })
    }

    /// Whether everything `old` says is said the same in `new`; `new` may say more (a field
    /// added since, with its default).
    fn says_all_of(old: &Value, new: &Value) -> bool {
        match (old, new) {
            (Value::Object(o), Value::Object(n)) => o
                .iter()
                .all(|(k, v)| n.get(k).is_some_and(|nv| says_all_of(v, nv))),
            (Value::Array(o), Value::Array(n)) => {
                o.len() == n.len() && o.iter().zip(n).all(|(a, b)| says_all_of(a, b))
            }
            _ => old == new,
        }
    }

    #[test]
    fn records_of_every_kind_as_written_before_still_read_and_keep_every_field() {
        let fixture = include_str!("fixtures/records_v1.tsv");
        let mut kinds = Vec::new();
        for line in fixture.lines().filter(|l| !l.starts_with('#')) {
            let (kind, stored) = line.split_once('\t').unwrap();
            let (read, is_compact) = reader(kind).unwrap_or_else(|| panic!("no reader for {kind}"));
            let (bytes, old) = if is_compact {
                (hex::decode(stored).unwrap(), None)
            } else {
                let old: Value = serde_json::from_str(stored).unwrap();
                ([&[1u8][..], stored.as_bytes()].concat(), Some(old))
            };
            let (new, rewritten) =
                read(&bytes).unwrap_or_else(|e| panic!("a stored {kind} no longer reads: {e}"));
            match old {
                Some(old) => assert!(
                    says_all_of(&old, &new),
                    "a {kind} lost or changed a field: {new}"
                ),
                // Compact records have no field names: the same bytes must come back.
                None => assert_eq!(rewritten, bytes, "a compact {kind} is written differently"),
            }
            kinds.push(kind);
        }
        assert_eq!(
            kinds.len(),
            14,
            "one line per stored kind but ledger entries"
        );
    }
}
