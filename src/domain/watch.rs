//! What players, stations and managers send to the ledger — watch reports, group sessions and
//! registrations — and the checks that turn them into plays or reject them with a reason.

use super::lang::Lang;
use super::ledger::Play;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::collections::BTreeMap;

/// One watch report, as §4 of the HTTP contract shapes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchReport {
    pub id: String,
    pub member: String,
    pub lesson: String,
    pub lang: Lang,
    /// Media milliseconds played, `[from, to)`, in the order played.
    #[serde(deserialize_with = "super::watch_body::capped_intervals")]
    pub played: Vec<(u64, u64)>,
    /// When they were played, by the sender's clock.
    pub wall: (Timestamp, Timestamp),
    pub position_ms: u64,
    /// The sender's clock when it sent the report, to correct a wrong clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_clock: Option<Timestamp>,
    #[serde(default)]
    pub group_session: Option<String>,
    /// The play session `GET /api/v1/lessons/{id}/play` issued: the evidence a member's report
    /// is credited on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub play_session: Option<String>,
    /// Instead of a play session, for a lesson played offline: the offline grant
    /// `POST /api/v1/lessons/{id}/offline` gave when it was downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// The session's attention checks answered so far: number, code, when (sender's clock).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<(u32, String, Timestamp)>,
}

impl WatchReport {
    /// The play session or offline grant the report names (a grant when both are named).
    pub fn evidence_id(&self) -> Option<&str> {
        self.grant.as_deref().or(self.play_session.as_deref())
    }
}

/// Why a well-formed report earns nothing and is not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("report id must be 1-100 printable characters without spaces")]
    BadId,
    #[error("played interval [{0}, {1}) is empty or reversed")]
    BadInterval(u64, u64),
    #[error("a report may hold at most {MAX_INTERVALS} played intervals")]
    TooManyIntervals,
    #[error("the wall interval must end after it starts and last at most a day")]
    BadWall,
    #[error("it ended {ago_s} s ago, beyond the {max_s} s offline reports are kept for")]
    TooOld { ago_s: i64, max_s: i64 },
    #[error("it ends {ahead_s} s in the future (after correcting the sender's clock)")]
    InFuture { ahead_s: i64 },
    #[error("no member {0:?}")]
    UnknownMember(String),
    #[error("this token may not credit member {0:?}")]
    Forbidden(String),
    #[error("no published lesson {0:?}")]
    UnknownLesson(String),
    #[error("report id {0:?} was already used for a different report")]
    Conflict(String),
    #[error("{0}")]
    Session(String),
    #[error("no-evidence: {0}")]
    NoEvidence(#[from] super::evidence::NoEvidence),
    /// The member has as many reports for that day as a day of wall time can justify.
    #[error("rate: the member already has {cap} reports for that day of wall time, more than a day can justify")]
    Rate { cap: u32 },
}

pub const MAX_INTERVALS: usize = 10_000;
const DAY_MS: i64 = 86_400_000;

/// The limits the checks apply.
#[derive(Debug, Clone)]
pub struct Limits {
    pub offline_max_age_ms: i64,
    pub max_clock_skew_ms: i64,
}

impl Limits {
    /// A wall interval (clock already corrected) must end after it starts, last at most a day,
    /// not end too far in the future, and not be older than offline reports are kept for.
    pub fn check_wall(&self, from: i64, to: i64, received_ms: i64) -> Result<(), Rejection> {
        if to <= from || to - from > DAY_MS {
            return Err(Rejection::BadWall);
        }
        if to > received_ms + self.max_clock_skew_ms {
            return Err(Rejection::InFuture {
                ahead_s: (to - received_ms) / 1000,
            });
        }
        if received_ms - to > self.offline_max_age_ms {
            return Err(Rejection::TooOld {
                ago_s: (received_ms - to) / 1000,
                max_s: self.offline_max_age_ms / 1000,
            });
        }
        Ok(())
    }
}

/// How many watch reports a member has stored per local day (days since 1970-01-01 in the
/// ledger's zone) of the reports' wall time; duplicates are never stored, so never counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportsPerDay(BTreeMap<i32, u32>);

impl ReportsPerDay {
    pub fn count(&mut self, day: i32) {
        *self.0.entry(day).or_default() += 1;
    }

    /// Whether one more report for `day` stays within `cap` a day.
    pub fn admits(&self, day: i32, cap: u32) -> Result<(), Rejection> {
        match self.0.get(&day) {
            Some(&stored) if stored >= cap => Err(Rejection::Rate { cap }),
            _ => Ok(()),
        }
    }
}

pub fn check_report_id(id: &str) -> Result<(), Rejection> {
    let ok = !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(()).ok_or(Rejection::BadId)
}

impl WatchReport {
    /// A digest of everything but `device_clock`, which changes when a report is sent again.
    pub fn body_digest(&self) -> [u8; 32] {
        let canonical = WatchReport {
            device_clock: None,
            ..self.clone()
        };
        let json = serde_json::to_vec(&canonical).unwrap_or_default();
        sha2::Sha256::digest(&json).into()
    }

    /// How far the sender's clock is behind the server's, in ms (0 when it did not say).
    pub fn clock_offset_ms(&self, received_ms: i64) -> i64 {
        self.device_clock
            .map_or(0, |clock| received_ms - clock.as_millisecond())
    }

    /// Checks the report against the rules and makes it a play. `offset_ms` corrects the
    /// sender's clock; `duration_ms` is the lesson's.
    pub fn to_play(
        &self,
        received_ms: i64,
        offset_ms: i64,
        duration_ms: i64,
        limits: &Limits,
    ) -> Result<Play, Rejection> {
        check_report_id(&self.id)?;
        if self.played.len() > MAX_INTERVALS {
            return Err(Rejection::TooManyIntervals);
        }
        if let Some(&(a, b)) = self.played.iter().find(|(a, b)| a >= b) {
            return Err(Rejection::BadInterval(a, b));
        }
        let from = self.wall.0.as_millisecond() + offset_ms;
        let to = self.wall.1.as_millisecond() + offset_ms;
        limits.check_wall(from, to, received_ms)?;
        Ok(self.play(offset_ms, duration_ms))
    }

    /// The play this report becomes, without the checks (for reports already accepted).
    pub fn play(&self, offset_ms: i64, duration_ms: i64) -> Play {
        let clamp = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
        Play {
            id: self.id.clone(),
            lesson: self.lesson.clone(),
            duration_ms,
            wall: (
                self.wall.0.as_millisecond() + offset_ms,
                self.wall.1.as_millisecond() + offset_ms,
            ),
            played: self
                .played
                .iter()
                .map(|&(a, b)| (clamp(a), clamp(b)))
                .collect(),
            position_ms: clamp(self.position_ms),
            session: self.group_session.clone(),
        }
    }
}

/// A manager's entry of hours for an offline activity, or a correction of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub id: String,
    /// The day of the activity, `YYYY-MM-DD`, in the ledger's time zone.
    pub date: String,
    /// Negative only in a correction.
    pub duration_ms: i64,
    pub reason: String,
    /// Whether the activity was centralised training.
    #[serde(default)]
    pub centralised: bool,
    /// The registration this one corrects.
    #[serde(default)]
    pub corrects: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("registration id must be 1-100 printable characters without spaces")]
    BadId,
    #[error("date {0:?} is not a calendar date YYYY-MM-DD")]
    BadDate(String),
    #[error("a reason (1-500 characters) is required")]
    NoReason,
    #[error("duration_ms must be non-zero and at most a day either way")]
    BadDuration,
    #[error("only a correction (with \"corrects\") may subtract time")]
    NegativeWithoutCorrection,
    #[error("no registration {0:?} of this member to correct")]
    NothingToCorrect(String),
    #[error("a correction corrects an original entry, not another correction")]
    CorrectionOfCorrection,
    #[error("the correction would leave {0:?} below zero")]
    OverCorrection(String),
    #[error("registration id {0:?} was already used for a different entry")]
    Conflict(String),
}

impl Registration {
    /// The checks that need no other entries.
    pub fn check(&self) -> Result<i32, RegistrationError> {
        check_report_id(&self.id).map_err(|_| RegistrationError::BadId)?;
        let year = super::ledger::Calendar::year_of_date(&self.date)
            .ok_or_else(|| RegistrationError::BadDate(self.date.clone()))?;
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(RegistrationError::NoReason);
        }
        if self.duration_ms == 0 || self.duration_ms.abs() > DAY_MS {
            return Err(RegistrationError::BadDuration);
        }
        if self.duration_ms < 0 && self.corrects.is_none() {
            return Err(RegistrationError::NegativeWithoutCorrection);
        }
        Ok(year)
    }

    /// Checks a correction against the member's earlier entries.
    pub fn check_against(&self, earlier: &[Registration]) -> Result<(), RegistrationError> {
        let Some(target) = &self.corrects else {
            return Ok(());
        };
        let original = earlier
            .iter()
            .find(|r| &r.id == target)
            .ok_or_else(|| RegistrationError::NothingToCorrect(target.clone()))?;
        if original.corrects.is_some() {
            return Err(RegistrationError::CorrectionOfCorrection);
        }
        let net: i64 = earlier
            .iter()
            .filter(|r| r.corrects.as_ref() == Some(target))
            .map(|r| r.duration_ms)
            .sum::<i64>()
            + original.duration_ms
            + self.duration_ms;
        if net < 0 {
            return Err(RegistrationError::OverCorrection(target.clone()));
        }
        Ok(())
    }
}

impl Registration {
    /// The year an entry counts in: its own date's, or for a correction, the corrected
    /// entry's — a correction takes hours from the year they were given in.
    pub fn year_among(&self, entries: &[Registration]) -> Option<i32> {
        let date = match &self.corrects {
            Some(target) => &entries.iter().find(|r| &r.id == target)?.date,
            None => &self.date,
        };
        super::ledger::Calendar::year_of_date(date)
    }
}

/// What a member's registrations add to a year: time, and centralised trainings (originals
/// marked centralised that corrections have not brought to zero).
pub fn registered(entries: &[Registration], year: i32) -> (i64, usize) {
    let in_year = |r: &&Registration| r.year_among(entries) == Some(year);
    let time = entries
        .iter()
        .filter(in_year)
        .map(|r| r.duration_ms)
        .sum::<i64>();
    let centralised = entries
        .iter()
        .filter(in_year)
        .filter(|r| r.corrects.is_none() && r.centralised)
        .filter(|r| {
            let corrections: i64 = entries
                .iter()
                .filter(|c| c.corrects.as_ref() == Some(&r.id))
                .map(|c| c.duration_ms)
                .sum();
            r.duration_ms + corrections > 0
        })
        .count();
    (time.max(0), centralised)
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
