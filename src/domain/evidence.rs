//! What a credited minute rests on. A member's report is credited only inside a play session the
//! server issued: its wall time must fall between the session's issue (less the clock skew
//! allowed) and the report's arrival, and one session never credits more wall time than the
//! server saw pass between its issue and its latest report.

use super::org::Principal;

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
}

/// A session as the server issued it, and what its reports have used so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witnessed {
    pub issued_ms: i64,
    /// When the report arrived.
    pub received_ms: i64,
    /// `ledger.max_clock_skew`: how far before the issue a corrected wall time may start.
    pub skew_ms: i64,
}

impl Witnessed {
    /// The part of a report's corrected wall interval that the session witnessed.
    pub fn clip(&self, (from, to): (i64, i64)) -> Result<(i64, i64), NoEvidence> {
        let (from, to) = (
            from.max(self.issued_ms - self.skew_ms),
            to.min(self.received_ms),
        );
        if from < to {
            Ok((from, to))
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
/// until the check's right answer, given no earlier than its due time less `tolerance_ms` (an
/// answer before the question was asked is no answer). Merged, in order.
pub fn unattended(
    issued_ms: i64,
    checks: &[AttentionCheck],
    answers: &[Answer],
    (grace_ms, tolerance_ms): (i64, i64),
    (from, to): (i64, i64),
) -> Vec<(i64, i64)> {
    let mut stretches: Vec<(i64, i64)> = Vec::new();
    for check in checks {
        let due = issued_ms + check.after_ms;
        let answered = answers
            .iter()
            .filter(|(n, code, at)| {
                *n == check.n && *code == check.code && *at >= due - tolerance_ms
            })
            .map(|&(_, _, at)| at)
            .min();
        let (start, end) = (due + grace_ms, answered.unwrap_or(i64::MAX));
        let (start, end) = (start.max(from), end.min(to));
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
