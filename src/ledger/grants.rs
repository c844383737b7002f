//! Offline grants: what `POST /api/v1/lessons/{id}/offline` gives a member who takes a lesson
//! home. A grant is a play session that lasts `ledger.offline_grant_days`: its id carries its
//! issue and expiry and a MAC over member, lesson and those, so checking one reads nothing; the
//! media URLs it names carry it as `?og=`, and what `/media` delivers under it is recorded as for
//! a session. Its attention checks run on the clock from its issue, drawn from a seed the member
//! page is given, so the page can ask them with no server in reach.

use super::evidence::{PlaySessions, SessionHead};
use crate::config::LedgerSettings;
use crate::domain::evidence::NoEvidence;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;

pub use crate::domain::evidence::GRANT_PREFIX as PREFIX;
/// Issue time (8) ‖ nonce (8) ‖ expiry (8) ‖ delivery MAC over those (32) ‖ MAC over member,
/// lesson and those (32).
const RAW_LEN: usize = 88;
const SIGNED_LEN: usize = 24;

/// What a member page needs to ask a grant's checks offline: the n-th check falls due
/// `after_ms` after the grant's `issued_ms`, drawn from `seed` as
/// `domain::evidence::seeded_checks` does.
#[derive(Debug, serde::Serialize)]
pub struct GrantAttention {
    pub grace_ms: i64,
    pub min_ms: i64,
    pub max_ms: i64,
    pub issued_ms: i64,
    pub seed: String,
}

impl PlaySessions {
    /// A grant for a member to play a lesson offline from `issued_ms` until `expires_ms`.
    pub fn issue_grant(
        &self,
        member: &str,
        lesson: &str,
        issued_ms: i64,
        expires_ms: i64,
    ) -> String {
        let nonce: [u8; 8] = rand::random();
        let mut raw = Vec::with_capacity(RAW_LEN);
        raw.extend_from_slice(&issued_ms.to_be_bytes());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&expires_ms.to_be_bytes());
        let head = raw.clone();
        raw.extend_from_slice(hmac::sign(&self.key, &delivery_signed(&head)).as_ref());
        raw.extend_from_slice(hmac::sign(&self.key, &signed(member, lesson, &head)).as_ref());
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// When a grant was issued and when it expires, if this server issued it for this member
    /// and lesson.
    pub fn grant_validity(
        &self,
        id: &str,
        member: &str,
        lesson: &str,
    ) -> Result<(i64, i64), NoEvidence> {
        let unknown = || NoEvidence::GrantUnknown(id.chars().take(64).collect());
        let raw = decode(id).ok_or_else(unknown)?;
        let (head, rest) = raw.split_at(SIGNED_LEN);
        hmac::verify(&self.key, &delivery_signed(head), &rest[..32]).map_err(|_| unknown())?;
        // In constant time: the answer says nothing about how much of a guess was right.
        hmac::verify(&self.key, &signed(member, lesson, head), &rest[32..])
            .map_err(|_| NoEvidence::GrantNotYours)?;
        Ok(times(head))
    }

    /// The head of a grant this server issued, by its delivery MAC alone (for `/media`).
    pub(super) fn grant_head(&self, id: &str) -> Option<SessionHead> {
        let raw = decode(id)?;
        let (head, rest) = raw.split_at(SIGNED_LEN);
        hmac::verify(&self.key, &delivery_signed(head), &rest[..32]).ok()?;
        head[..16].try_into().ok()
    }

    /// A grant's checks, as the member page draws them, when checks are on.
    pub fn grant_attention(&self, l: &LedgerSettings, id: &str) -> Option<GrantAttention> {
        let head = self.grant_head(id)?;
        let raw = decode(id)?;
        let (min_ms, max_ms) = l.attention_interval_ms();
        l.attention_checks.then(|| GrantAttention {
            grace_ms: l.attention_grace.as_millis() as i64,
            min_ms,
            max_ms,
            issued_ms: times(&raw[..SIGNED_LEN]).0,
            seed: hex::encode(self.attention_seed(&head)),
        })
    }
}

fn decode(id: &str) -> Option<Vec<u8>> {
    let raw = URL_SAFE_NO_PAD.decode(id.strip_prefix(PREFIX)?).ok()?;
    (raw.len() == RAW_LEN).then_some(raw)
}

fn times(head: &[u8]) -> (i64, i64) {
    let at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[i..i + 8]);
        i64::from_be_bytes(b)
    };
    (at(0), at(16))
}

fn delivery_signed(head: &[u8]) -> Vec<u8> {
    [b"yuanjiao offline grant delivery 1".as_slice(), head].concat()
}

/// Each id goes with its length, so no two (member, lesson) pairs meet.
fn signed(member: &str, lesson: &str, head: &[u8]) -> Vec<u8> {
    let mut out = b"yuanjiao offline grant 1".to_vec();
    for part in [member.as_bytes(), lesson.as_bytes(), head] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sessions() -> PlaySessions {
        PlaySessions::with_key(&[7; 32])
    }

    #[test]
    fn a_grant_reads_back_its_validity_only_for_its_member_and_lesson() {
        let s = sessions();
        let id = s.issue_grant("M1", "L1", 1_000, 2_000);
        assert_eq!(s.grant_validity(&id, "M1", "L1"), Ok((1_000, 2_000)));
        assert_eq!(
            s.grant_validity(&id, "M2", "L1"),
            Err(NoEvidence::GrantNotYours)
        );
        assert_eq!(
            s.grant_validity(&id, "M1", "L2"),
            Err(NoEvidence::GrantNotYours)
        );
        assert!(s.grant_head(&id).is_some());
        assert_eq!(s.delivery_head(&id), s.grant_head(&id));
    }

    #[test]
    fn an_altered_expiry_or_a_foreign_grant_is_unknown() {
        let s = sessions();
        let id = s.issue_grant("M1", "L1", 1_000, 2_000);
        let mut raw = decode(&id).unwrap();
        raw[23] ^= 1; // a later expiry
        let altered = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
        assert!(matches!(
            s.grant_validity(&altered, "M1", "L1"),
            Err(NoEvidence::GrantUnknown(_))
        ));
        assert_eq!(s.grant_head(&altered), None);
        let other = PlaySessions::with_key(&[8; 32]);
        assert!(matches!(
            other.grant_validity(&id, "M1", "L1"),
            Err(NoEvidence::GrantUnknown(_))
        ));
        // A play session is not a grant, nor the other way round.
        let ps = s.issue("M1", "L1", 1_000, [0; 8]);
        assert!(matches!(
            s.grant_validity(&ps, "M1", "L1"),
            Err(NoEvidence::GrantUnknown(_))
        ));
        assert!(s.issued_ms(&id, "M1", "L1").is_err());
    }
}
