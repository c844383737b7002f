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
