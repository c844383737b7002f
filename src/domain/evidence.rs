//! What a credited minute rests on. A member's report is credited only inside a play session the
//! server issued: its wall time must fall between the session's issue (less the clock skew
//! allowed) and the report's arrival, and one session never credits more wall time than the
//! server saw pass between its issue and its latest report.

use super::org::Principal;

/// How an offline grant's id begins (a play session's begins `ps1.`).
pub const GRANT_PREFIX: &str = "og1.";

/// What a caller's reports are credited on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis<'a> {
    /// Members' own reports and managers' on their behalf: a play session the server issued,
    /// under which the lesson's media was delivered.
    PlaySession,
    /// A registered station, which answers for its batches: the lesson's media must have been
    /// delivered to it.
    Station(&'a str),
    /// An administrator's, e.g. records migrated from another system; each request is audited.
    Admin,
}

/// Who needs what evidence, by the caller's role.
pub fn basis(caller: &Principal) -> Basis<'_> {
    match caller {
        Principal::Terminal { station, .. } => Basis::Station(station),
        Principal::Admin => Basis::Admin,
        _ => Basis::PlaySession,
    }
}

/// Why a report has no evidence behind it; shown as the reason `no-evidence: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoEvidence {
    #[error("the report names no play_session: a member's play starts with GET /api/v1/lessons/{{id}}/play, which issues one")]
    NoSession,
    #[error("play_session {0:?} was not issued by this server")]
    Unknown(String),
    #[error("its play_session was issued for another member or lesson")]
    NotThisPlay,
    #[error("its wall time lies outside the play session the server witnessed (issued {issued_s} s before the report arrived)")]
    Outside { issued_s: i64 },
    #[error("the lesson's media was never delivered in its play session (fetch it by the URLs the play gave, which carry ?ps=)")]
    NotDelivered,
    #[error("the lesson's media was never delivered to this station (its media URLs carry the station's ?st= tag, from GET /api/v1/me)")]
    NotDeliveredToStation,
    #[error("attention check {n} (due {due_s} s into the play session) was not answered, so the time since earns nothing until it is")]
    Unattended { n: u32, due_s: i64 },
    #[error("its play session has already been credited all the time the server saw pass since it was issued")]
    Spent,
    #[error("offline grant {0:?} was not issued by this server")]
    GrantUnknown(String),
    #[error("its offline grant was issued to another member or for another lesson")]
    GrantNotYours,
    #[error("it was played after its offline grant expired at {expired}; download the lesson again for a new grant")]
    GrantExpired { expired: String },
    #[error("the lesson's media was never downloaded under its offline grant (fetch the files POST /api/v1/lessons/{{id}}/offline named, by their URLs, which carry ?og=)")]
    NotDownloaded,
    #[error("a report names a play_session or an offline grant, not both")]
    TwoBases,
}

/// A session as the server issued it, and what its reports have used so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witnessed {
    pub issued_ms: i64,
    /// When the report arrived.
    pub received_ms: i64,
    /// `ledger.max_clock_skew`: how far before the issue a corrected wall time may start.
    pub skew_ms: i64,
    /// An offline grant's end: play after it is not witnessed. `None` for a play session.
    pub expires_ms: Option<i64>,
}

impl Witnessed {
    /// The part of a report's corrected wall interval that the session witnessed.
    pub fn clip(&self, (from, to): (i64, i64)) -> Result<(i64, i64), NoEvidence> {
        let end = self
            .expires_ms
            .map_or(self.received_ms, |e| e.min(self.received_ms));
        let (from, to) = (from.max(self.issued_ms - self.skew_ms), to.min(end));
        if from < to {
            Ok((from, to))
        } else if self.expires_ms.is_some_and(|e| from >= e) {
            Err(NoEvidence::GrantExpired {
                expired: jiff::Timestamp::from_millisecond(end)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            })
        } else {
            Err(self.outside())
        }
    }

    /// The witnessed wall interval shortened, if need be, so that the session's reports together
    /// span no more than the time from its issue to this report's arrival; `used_ms` is what its
    /// earlier reports were credited. (The ledger adds its one tolerance after the last.)
    pub fn within_budget(&self, wall: (i64, i64), used_ms: i64) -> Result<(i64, i64), NoEvidence> {
        let budget = self.received_ms - self.issued_ms - used_ms;
        if budget <= 0 {
            return Err(NoEvidence::Spent);
        }
        Ok((wall.0, wall.1.min(wall.0.saturating_add(budget))))
    }

    fn outside(&self) -> NoEvidence {
        NoEvidence::Outside {
            issued_s: (self.received_ms - self.issued_ms) / 1000,
        }
    }
}

/// One attention check (防挂机) of a play session: due `after_ms` after the session was
/// issued, answered by sending back its `code`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttentionCheck {
    pub n: u32,
    pub after_ms: i64,
    pub code: String,
}

/// An answer a report carries: check number, code, and when it was given (corrected epoch ms).
pub type Answer<'a> = (u32, &'a str, i64);

/// The wall stretches of `window` that earn nothing: from each check's due time plus `grace_ms`
/// until the member answered it or any later check. An answer counts when its code is its
/// check's and it was given no earlier than that check's due time less `tolerance_ms` (an answer
/// before the question was asked is no answer). A later answer ends an earlier silence because
/// it shows the member there again: a check that fell due while nothing played (a grant's
/// checks run on the clock) is answered by the first one asked when play starts. Merged, in
/// order.
pub fn unattended(
    issued_ms: i64,
    checks: &[AttentionCheck],
    answers: &[Answer],
    (grace_ms, tolerance_ms): (i64, i64),
    (from, to): (i64, i64),
) -> Vec<(i64, i64)> {
    // The earliest good answer to each check, then to it or any later one (checks come in order).
    let mut earliest: Vec<i64> = checks
        .iter()
        .map(|check| {
            let due = issued_ms + check.after_ms;
            answers
                .iter()
                .filter(|(n, code, at)| {
                    *n == check.n && *code == check.code && *at >= due - tolerance_ms
                })
                .map(|&(_, _, at)| at)
                .min()
                .unwrap_or(i64::MAX)
        })
        .collect();
    for i in (0..earliest.len().saturating_sub(1)).rev() {
        earliest[i] = earliest[i].min(earliest[i + 1]);
    }
    let mut stretches: Vec<(i64, i64)> = Vec::new();
    for (check, answered) in checks.iter().zip(earliest) {
        let due = issued_ms + check.after_ms;
        let (start, end) = ((due + grace_ms).max(from), answered.min(to));
        if start >= end {
            continue;
        }
        match stretches.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => stretches.push((start, end)),
        }
    }
    stretches.sort_unstable();
    stretches
}

/// The checks drawn from a session's `seed`: the n-th comes `[min_ms, max_ms]` after the one
/// before (the first after the issue), up to `horizon_ms`, each drawn with its code from
/// SHA-256(seed ‖ n as 4 big-endian bytes): bytes 0..8 pick the interval, 8..11 are the code.
/// A member page can draw an offline grant's checks itself from the seed the grant gives.
pub fn seeded_checks(
    seed: &[u8],
    (min_ms, max_ms): (i64, i64),
    horizon_ms: i64,
) -> Vec<AttentionCheck> {
    use sha2::Digest as _;
    let span = (max_ms - min_ms).max(0) as u64 + 1;
    let mut checks = Vec::new();
    let mut after_ms = 0i64;
    for n in 1u32.. {
        let digest = sha2::Sha256::new()
            .chain_update(seed)
            .chain_update(n.to_be_bytes())
            .finalize();
        let mut draw = [0u8; 8];
        draw.copy_from_slice(&digest[..8]);
        after_ms += min_ms.max(1) + (u64::from_be_bytes(draw) % span) as i64;
        if after_ms > horizon_ms {
            break;
        }
        checks.push(AttentionCheck {
            n,
            after_ms,
            code: hex::encode(&digest[8..11]),
        });
    }
    checks
}

/// The first piece of `wall` outside every stretch, if any: what a report still earns.
pub fn attended_part(wall: (i64, i64), stretches: &[(i64, i64)]) -> Option<(i64, i64)> {
    let mut start = wall.0;
    for &(a, b) in stretches {
        if b <= start {
            continue;
        }
        if a > start {
            return Some((start, a.min(wall.1))).filter(|(x, y)| x < y);
        }
        start = b;
        if start >= wall.1 {
            return None;
        }
    }
    (start < wall.1).then_some((start, wall.1))
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
