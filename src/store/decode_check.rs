//! Reads any bytes as every kind of stored record, for the store-decoding fuzz target: decoding
//! must refuse or succeed without panicking, and whatever it accepts must read back the same
//! after being written again, or an upgrade that rewrites records would change them.

use super::ledger_codec::{decode_entry, encode_entry};
use super::{decode, decode_any, encode, encode_compact};
use super::{AuditEntry, BlobMeta, CourseEntry, Job, MemberRecord, MemberYear, SeenId};
use super::{Terminal, TokenRecord};
use crate::domain::catalog::Course;
use crate::domain::group::GroupSession;
use crate::domain::media::Probe;
use crate::domain::org::Org;
use crate::domain::upload::Upload;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Whether bytes are such a record (`None` if not) and, if so, whether a rewrite is stable.
type Check = fn(&[u8]) -> Option<bool>;

/// How many record kinds accepted the bytes; an error names the kind whose bytes changed
/// between the first and the second rewrite.
pub fn check_stored_bytes(bytes: &[u8]) -> Result<usize, String> {
    let mut accepted = 0;
    let checks: [(&str, Check); 15] = [
        ("ledger entry", |b| {
            let entry = decode_entry("fuzz", b).ok()?;
            let once = encode_entry(&entry);
            let again = decode_entry("fuzz", &once).ok().map(|e| encode_entry(&e));
            Some(again.as_ref() == Some(&once))
        }),
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

/// None when the bytes are not such a record; otherwise whether a rewrite is stable.
fn stable<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Option<bool> {
    let value: T = decode("fuzz", bytes).ok()?;
    let once = encode(&value);
    let again = decode::<T>("fuzz", &once).ok().map(|v| encode(&v));
    Some(again.as_ref() == Some(&once))
}

fn stable_compact<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Option<bool> {
    let value: T = decode_any("fuzz", bytes).ok()?;
    let once = encode_compact(&value);
    let again = decode_any::<T>("fuzz", &once)
        .ok()
        .map(|v| encode_compact(&v));
    Some(again.as_ref() == Some(&once))
}
