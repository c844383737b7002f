//! Play sessions: the ids `GET /api/v1/lessons/{id}/play` gives a member, and what a report
//! naming one is credited on. An id carries its issue time and a MAC over member, lesson and that
//! time under a key kept in the store, so issuing one writes nothing and any process sharing the
//! store can check it. The media URLs of the play carry the id as `?ps=`, and what `/media`
//! delivers under it is recorded: a report is credited only for a lesson whose media was
//! delivered in its session. A second, shorter MAC over the issue time alone lets `/media` tell
//! an id this server issued without knowing whose it is, so made-up ids record nothing.

use crate::config::LedgerSettings;
use crate::domain::digest::Sha256;
use crate::domain::evidence::{basis, seeded_checks, AttentionCheck, Basis, NoEvidence, Witnessed};
use crate::domain::org::Principal;
use crate::domain::watch::WatchReport;
use crate::infra::Infra;
use crate::repo::{DeliveredTo, Repositories, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

const PREFIX: &str = "ps1.";
const STATION_PREFIX: &str = "st1.";
/// Issue time (8) ‖ nonce (8) ‖ device (8) ‖ delivery MAC over those (32) ‖ MAC over member,
/// lesson and those (32), both HMAC-SHA256. The device is a digest of the client's address and
/// browser, for the anomaly of one device playing for several members at once.
const RAW_LEN: usize = 88;
const SIGNED_LEN: usize = 24;
/// What identifies a session in the delivery records: issue time ‖ nonce.
pub type SessionHead = [u8; 16];

pub struct PlaySessions {
    pub(super) key: hmac::Key,
    /// Deliveries recorded lately, so the many range requests of one play write once.
    recorded: Mutex<HashSet<Vec<u8>>>,
}

/// Recent deliveries remembered before the set starts again.
const RECENT: usize = 100_000;

impl PlaySessions {
    pub fn open(store: &dyn Repositories) -> Result<PlaySessions, StoreError> {
        Ok(PlaySessions::with_key(&store.secret("play-sessions")?))
    }

    pub(super) fn with_key(secret: &[u8]) -> PlaySessions {
        PlaySessions {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            recorded: Mutex::default(),
        }
    }

    /// A new session for a member's play of a lesson, issued at `issued_ms` to `device`.
    pub fn issue(&self, member: &str, lesson: &str, issued_ms: i64, device: [u8; 8]) -> String {
        let nonce: [u8; 8] = rand::random();
        let mut raw = Vec::with_capacity(RAW_LEN);
        raw.extend_from_slice(&issued_ms.to_be_bytes());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&device);
        let head = raw.clone();
        raw.extend_from_slice(hmac::sign(&self.key, &delivery_signed(&head)).as_ref());
        let tag = hmac::sign(&self.key, &signed(member, lesson, &head));
        raw.extend_from_slice(tag.as_ref());
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// When the session was issued, if this server issued it for this member and lesson.
    pub fn issued_ms(&self, id: &str, member: &str, lesson: &str) -> Result<i64, NoEvidence> {
        let unknown = || NoEvidence::Unknown(id.chars().take(64).collect());
        let raw = id
            .strip_prefix(PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|raw| raw.len() == RAW_LEN)
            .ok_or_else(unknown)?;
        let (head, rest) = raw.split_at(SIGNED_LEN);
        let tag = &rest[32..];
        // In constant time: the answer says nothing about how much of a guess was right.
        hmac::verify(&self.key, &signed(member, lesson, head), tag)
            .map_err(|_| NoEvidence::NotThisPlay)?;
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&head[..8]);
        Ok(i64::from_be_bytes(issued))
    }

    /// The head of an id this server issued, checked by its delivery MAC alone (for `/media`,
    /// which does not know whose play it serves); `None` for anything else.
    pub fn delivery_head(&self, id: &str) -> Option<SessionHead> {
        if id.starts_with(crate::domain::evidence::GRANT_PREFIX) {
            return self.grant_head(id);
        }
        let signed = self.delivery_signed_part(id)?;
        signed[..16].try_into().ok()
    }

    /// The device a session was issued to, if this server issued it.
    pub fn device_of(&self, id: &str) -> Option<[u8; 8]> {
        let signed = self.delivery_signed_part(id)?;
        signed[16..].try_into().ok()
    }

    fn delivery_signed_part(&self, id: &str) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(id.strip_prefix(PREFIX)?).ok()?;
        if raw.len() != RAW_LEN {
            return None;
        }
        let signed = &raw[..SIGNED_LEN];
        let mac = &raw[SIGNED_LEN..SIGNED_LEN + 32];
        hmac::verify(&self.key, &delivery_signed(signed), mac).ok()?;
        Some(signed.to_vec())
    }
}

impl PlaySessions {
    /// Records that `/media` delivered `source` (or a file made from it) under the session `ps`
    /// names, if this server issued it.
    pub fn delivered(&self, infra: &Infra, ps: &str, source: &Sha256) {
        if let Some(head) = self.delivery_head(ps) {
            self.record(infra, DeliveredTo::Session(head), source);
        }
    }

    /// Records that `/media` delivered `source` to the station a tag names, if it is this
    /// server's.
    pub fn delivered_to_station(&self, infra: &Infra, tag: &str, source: &Sha256) {
        if let Some(station) = self.station_of(tag) {
            self.record(infra, DeliveredTo::Station(station), source);
        }
    }

    /// Never fails the delivery: a record that cannot be written is logged, and only the
    /// report it would have backed goes uncredited.
    fn record(&self, infra: &Infra, to: DeliveredTo, source: &Sha256) {
        let store = &infra.store;
        let key = to.key(source);
        {
            let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
            if recorded.len() >= RECENT {
                recorded.clear();
            }
            if !recorded.insert(key) {
                return;
            }
        }
        if let Err(e) = store.record_delivery(&to, source) {
            tracing::warn!(error = %e, %source, "a delivery could not be recorded");
        }
    }

    /// The tag a station's media URLs carry (`?st=`): its id, and a MAC over it.
    pub fn station_tag(&self, station: &str) -> String {
        let mac = hmac::sign(&self.key, &station_signed(station));
        let (id, mac) = (URL_SAFE_NO_PAD.encode(station), URL_SAFE_NO_PAD.encode(mac));
        format!("{STATION_PREFIX}{id}.{mac}")
    }

    fn station_of(&self, tag: &str) -> Option<String> {
        let (id, mac) = tag.strip_prefix(STATION_PREFIX)?.split_once('.')?;
        let station = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        hmac::verify(&self.key, &station_signed(&station), &mac).ok()?;
        Some(station)
    }
}

fn station_signed(station: &str) -> Vec<u8> {
    [
        b"yuanjiao station delivery 1\0".as_slice(),
        station.as_bytes(),
    ]
    .concat()
}

impl PlaySessions {
    /// The attention checks of a session or grant, due within `horizon_ms` of its issue: at
    /// intervals drawn from `[min_ms, max_ms]` by its seed, so any process can recompute them
    /// and nobody can foresee them without the session.
    pub fn checks(
        &self,
        head: &SessionHead,
        interval_ms: (i64, i64),
        horizon_ms: i64,
    ) -> Vec<AttentionCheck> {
        seeded_checks(&self.attention_seed(head), interval_ms, horizon_ms)
    }

    /// What a session's checks are drawn from; an offline grant gives it to the member page.
    pub fn attention_seed(&self, head: &SessionHead) -> [u8; 32] {
        let tag = hmac::sign(
            &self.key,
            &[b"yuanjiao attention 2".as_slice(), head].concat(),
        );
        let mut seed = [0u8; 32];
        seed.copy_from_slice(tag.as_ref());
        seed
    }
}

/// The checks a member page asks, each `after_ms` after it got them; a check unanswered
/// `grace_ms` past its time stops the play earning until it is answered.
#[derive(Debug, serde::Serialize)]
pub struct AttentionPlan {
    pub grace_ms: i64,
    pub checks: Vec<AttentionCheck>,
}

/// How far ahead a play's checks are given: longer than any lesson is watched in one sitting.
const ATTENTION_HORIZON_MS: i64 = 6 * 3_600_000;

impl PlaySessions {
    /// What `GET /play` gives with a session: its checks, when they are on.
    pub fn attention_plan(&self, l: &LedgerSettings, session: &str) -> Option<AttentionPlan> {
        let head = self.delivery_head(session)?;
        l.attention_checks.then(|| AttentionPlan {
            grace_ms: l.attention_grace.as_millis() as i64,
            checks: self.checks(&head, l.attention_interval_ms(), ATTENTION_HORIZON_MS),
        })
    }
}

/// Reports an admin sent rest on no evidence the server saw, so each request that credited any
/// is in the audit log, with the ids it credited (the first thousand).
pub fn audit_admin_reports(
    infra: &Infra,
    caller: &Principal,
    actor: &crate::audit::Actor,
    ids: &[String],
    outcomes: &[super::Outcome],
) -> Result<(), StoreError> {
    use super::Outcome;
    if basis(caller) != Basis::Admin {
        return Ok(());
    }
    let credited: Vec<&str> = ids
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| matches!(o, Outcome::Credited(_) | Outcome::CreditedInPart { .. }))
        .map(|(id, _)| id.as_str())
        .collect();
    if credited.is_empty() {
        return Ok(());
    }
    let detail = serde_json::json!({
        "credited": credited.len(),
        "reports": &credited[..credited.len().min(1000)],
    });
    let now = infra.now_ms();
    infra
        .store
        .audit(&actor.entry(now, "ledger.admin-reports", "watch", detail))
}

fn delivery_signed(head: &[u8]) -> Vec<u8> {
    [b"yuanjiao delivery 1".as_slice(), head].concat()
}

/// What the MAC covers; each id goes with its length, so no two (member, lesson) pairs meet.
fn signed(member: &str, lesson: &str, head: &[u8]) -> Vec<u8> {
    let mut out = b"yuanjiao play session 1".to_vec();
    for part in [member.as_bytes(), lesson.as_bytes(), head] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Whether `/media` delivered any variant of the lesson (or a file made from one) to `to`.
pub fn lesson_delivered(
    store: &dyn Repositories,
    to: &DeliveredTo,
    lesson: &crate::domain::catalog::Lesson,
) -> Result<bool, StoreError> {
    for variant in lesson.variants.values() {
        let Ok(source) = Sha256::parse_hex(&variant.sha256) else {
            continue;
        };
        if store.was_delivered(to, &source)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The report's session or offline grant as witnessed (`None` when its basis needs none),
/// checked against the member and lesson it was issued for.
pub fn witnessed(
    sessions: &PlaySessions,
    basis: Basis<'_>,
    report: &WatchReport,
    received_ms: i64,
    skew_ms: i64,
) -> Result<Option<(String, Witnessed)>, NoEvidence> {
    if basis != Basis::PlaySession {
        return Ok(None);
    }
    let witnessed = |issued_ms, expires_ms| Witnessed {
        issued_ms,
        received_ms,
        skew_ms,
        expires_ms,
    };
    match (&report.play_session, &report.grant) {
        (Some(_), Some(_)) => Err(NoEvidence::TwoBases),
        (None, None) => Err(NoEvidence::NoSession),
        (Some(id), None) => {
            let issued_ms = sessions.issued_ms(id, &report.member, &report.lesson)?;
            Ok(Some((id.clone(), witnessed(issued_ms, None))))
        }
        (None, Some(id)) => {
            let (issued_ms, expires_ms) =
                sessions.grant_validity(id, &report.member, &report.lesson)?;
            Ok(Some((id.clone(), witnessed(issued_ms, Some(expires_ms)))))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sessions() -> PlaySessions {
        PlaySessions::with_key(&[7; 32])
    }

    #[test]
    fn a_session_reads_back_only_for_its_member_and_lesson() {
        let s = sessions();
        let id = s.issue("M1", "L1", 1_780_000_000_123, [3; 8]);
        assert_eq!(s.issued_ms(&id, "M1", "L1"), Ok(1_780_000_000_123));
        assert_eq!(s.device_of(&id), Some([3; 8]));
        assert_eq!(s.issued_ms(&id, "M2", "L1"), Err(NoEvidence::NotThisPlay));
        assert_eq!(s.issued_ms(&id, "M1", "L2"), Err(NoEvidence::NotThisPlay));
        // Lengths keep ("M1", "L1") and ("M1L", "1") apart.
        assert_eq!(s.issued_ms(&id, "M1L", "1"), Err(NoEvidence::NotThisPlay));
    }

    #[test]
    fn an_altered_or_foreign_session_is_refused() {
        let s = sessions();
        let id = s.issue("M1", "L1", 1_780_000_000_000, [0; 8]);
        let mut altered = id.clone().into_bytes();
        altered[6] = if altered[6] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            s.issued_ms(&altered, "M1", "L1"),
            Err(NoEvidence::NotThisPlay)
        );
        let other_server = PlaySessions::with_key(&[8; 32]);
        assert!(other_server.issued_ms(&id, "M1", "L1").is_err());
        assert!(matches!(
            s.issued_ms("ps1.short", "M1", "L1"),
            Err(NoEvidence::Unknown(_))
        ));
        assert!(matches!(
            s.issued_ms("anything", "M1", "L1"),
            Err(NoEvidence::Unknown(_))
        ));
    }

    #[test]
    fn two_sessions_of_one_play_differ() {
        let s = sessions();
        assert_ne!(
            s.issue("M1", "L1", 1, [0; 8]),
            s.issue("M1", "L1", 1, [0; 8])
        );
    }
}
