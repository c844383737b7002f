//! The ledger's use of evidence: what a report's play session witnessed, whether its lesson
//! was delivered, which part its attention checks leave attended, and the count of reports
//! rejected for want of evidence.

use super::evidence::{self, SessionHead};
use super::LedgerHost;
use super::Outcome;
use crate::domain::evidence::{attended_part, unattended, Answer, Basis, NoEvidence, Witnessed};
use crate::domain::ledger::Play;
use crate::domain::watch::{Rejection, WatchReport};
use crate::repo::{DeliveredTo, StoreError};
use std::collections::BTreeMap;

/// A play as witnessed, the wall its report claimed, and its play session.
pub(super) type Witnessing = (Play, (i64, i64), Option<(String, Witnessed)>);

/// A checked report's play as its evidence allows: the play with its wall clipped to what its
/// session witnessed, the wall it claimed, and the session. A session's report is credited only
/// for a lesson whose media `/media` delivered under it.
pub(super) fn witness(
    services: &impl LedgerHost,
    view: &crate::catalog::View,
    basis: Basis<'_>,
    report: &WatchReport,
    mut play: Play,
    now: i64,
    skew_ms: i64,
) -> Result<Result<Witnessing, Rejection>, StoreError> {
    let claimed = play.wall;
    let sessions = &services.play_sessions();
    let witness = match evidence::witnessed(sessions, basis, report, now, skew_ms) {
        Ok(witness) => witness,
        Err(no) => return Ok(Err(no.into())),
    };
    if let Some((_, witnessed)) = &witness {
        match witnessed.clip(play.wall) {
            Ok(wall) => play.wall = wall,
            Err(no) => return Ok(Err(no.into())),
        }
    }
    // A session's id passed its MAC above, so its head reads.
    let head = witness
        .as_ref()
        .and_then(|(id, _)| sessions.delivery_head(id));
    if witness.is_some() && head.is_none() {
        return Ok(Err(NoEvidence::NotDelivered.into()));
    }
    let to = match (head, basis) {
        (Some(head), _) => Some(DeliveredTo::Session(head)),
        (None, Basis::Station(station)) => Some(DeliveredTo::Station(station.into())),
        (None, _) => None,
    };
    if let (Some(to), Some((_, lesson))) = (to, view.lesson(&report.lesson)) {
        if !evidence::lesson_delivered(&*services.infra().store, &to, lesson)? {
            return Ok(Err(match to {
                DeliveredTo::Session(_) if report.grant.is_some() => NoEvidence::NotDownloaded,
                DeliveredTo::Session(_) => NoEvidence::NotDelivered,
                DeliveredTo::Station(_) => NoEvidence::NotDeliveredToStation,
            }
            .into()));
        }
    }
    if let (Some((_, witnessed)), Some(head)) = (&witness, &head) {
        match attended(services, head, witnessed, report, &play, claimed) {
            Ok(wall) => play.wall = wall,
            Err(no) => return Ok(Err(no.into())),
        }
    }
    Ok(Ok((play, claimed, witness)))
}

/// The first piece of the play's wall the member attended: outside every stretch after an
/// attention check of its session went unanswered past the grace.
fn attended(
    services: &impl LedgerHost,
    head: &SessionHead,
    witnessed: &Witnessed,
    report: &WatchReport,
    play: &Play,
    claimed: (i64, i64),
) -> Result<(i64, i64), NoEvidence> {
    let l = &services.infra().settings.ledger;
    if !l.attention_checks {
        return Ok(play.wall);
    }
    let horizon = play.wall.1 - witnessed.issued_ms;
    let checks = services
        .play_sessions()
        .checks(head, l.attention_interval_ms(), horizon);
    let offset = claimed.0 - report.wall.0.as_millisecond();
    let answers: Vec<Answer> = report
        .attention
        .iter()
        .map(|(n, code, at)| (*n, code.as_str(), at.as_millisecond() + offset))
        .collect();
    let slack = (l.attention_grace.as_millis() as i64, l.tolerance_ms as i64);
    let stretches = unattended(witnessed.issued_ms, &checks, &answers, slack, play.wall);
    attended_part(play.wall, &stretches).ok_or_else(|| {
        // The check whose silence this is: the last one due before the report's wall began.
        let missed = checks
            .iter()
            .rev()
            .find(|c| witnessed.issued_ms + c.after_ms <= play.wall.0)
            .or(checks.first());
        NoEvidence::Unattended {
            n: missed.map_or(0, |c| c.n),
            due_s: missed.map_or(0, |c| c.after_ms / 1000),
        }
    })
}

/// Counts the reports rejected for want of evidence per member, for the anomalies report. A
/// count that cannot be written is logged; the answer to the sender stands.
pub(super) fn count_rejections(
    services: &impl LedgerHost,
    members: &[String],
    outcomes: &[Outcome],
    now: i64,
) {
    let mut counts: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (member, outcome) in members.iter().zip(outcomes) {
        if let Outcome::Rejected(Rejection::NoEvidence(no)) = outcome {
            let c = counts.entry(member).or_default();
            c.0 += 1;
            c.1 += u32::from(matches!(no, NoEvidence::Unattended { .. }));
        }
    }
    let year = services.ledger().rules().calendar.year_of(now);
    for (member, added) in counts {
        if let Err(e) = services.infra().store.count_rejections(year, member, added) {
            tracing::warn!(error = %e, member, "rejections could not be counted");
        }
    }
}
