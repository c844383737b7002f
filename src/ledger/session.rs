//! Group study: a station opens a session for a lesson, checks members in and out, and ends it
//! with the playback; each present member is then credited their overlap, as a centralised
//! training.

use super::crediting::{self, Crediting};
use super::LedgerHost;
use super::{add_plays, load};
use crate::domain::group::{Attendance, GroupSession, Playback};
use crate::domain::lang::Lang;
use crate::domain::org::Principal;
use crate::domain::watch::{check_report_id, Rejection};
use crate::repo::{DeliveredTo, EntryKind, LedgerWrite, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::PoisonError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("only a station runs group sessions")]
    NotAStation,
    #[error("no group session {0:?}")]
    NotFound(String),
    #[error("group session {0:?} belongs to another station")]
    NotYours(String),
    #[error("group session {0:?} already exists")]
    Exists(String),
    #[error("group session {0:?} has ended")]
    Ended(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open {
    pub id: String,
    pub lesson: String,
    pub lang: Lang,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    pub events: Vec<Check>,
    #[serde(default)]
    pub device_clock: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub member: String,
    pub action: CheckAction,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckAction {
    In,
    Out,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    pub played: Vec<(u64, u64)>,
    pub wall: (Timestamp, Timestamp),
    pub position_ms: u64,
    #[serde(default)]
    pub device_clock: Option<Timestamp>,
}

/// One member's credit from an ended session.
#[derive(Debug, Serialize)]
pub struct Credited {
    pub member: String,
    pub present_ms: i64,
    pub credited_ms: i64,
}

fn station(caller: &Principal) -> Result<(&str, &str), SessionError> {
    match caller {
        Principal::Terminal { station, org } => Ok((station, org)),
        _ => Err(SessionError::NotAStation),
    }
}

fn offset(device_clock: Option<Timestamp>, now: i64) -> i64 {
    device_clock.map_or(0, |c| now - c.as_millisecond())
}

fn own(
    services: &impl LedgerHost,
    caller: &Principal,
    id: &str,
) -> Result<GroupSession, SessionError> {
    let (station, _) = station(caller)?;
    let session = services
        .infra()
        .store
        .group_session(id)?
        .ok_or_else(|| SessionError::NotFound(id.to_string()))?;
    if session.station != station {
        return Err(SessionError::NotYours(id.to_string()));
    }
    if session.playback.is_some() {
        return Err(SessionError::Ended(id.to_string()));
    }
    Ok(session)
}

/// Writes a session's state and waits until it is on disk.
fn save(services: &impl LedgerHost, session: GroupSession) -> Result<GroupSession, SessionError> {
    let write = LedgerWrite {
        session: Some(session.clone()),
        ..LedgerWrite::default()
    };
    let ticket = services
        .ledger()
        .hand_over(services, write, vec![], vec![], [])?;
    // The caller holds the sessions lock until the session is in the store (and on disk).
    services.ledger().flush.wait_blocking(ticket, services)?;
    Ok(session)
}

pub fn open(
    services: &impl LedgerHost,
    caller: &Principal,
    open: Open,
) -> Result<GroupSession, SessionError> {
    let (station, org) = station(caller)?;
    check_report_id(&open.id).map_err(|e| SessionError::Invalid(e.to_string()))?;
    let view = services.catalog().view(services.infra())?;
    let (_, lesson) = view.lesson(&open.lesson).ok_or_else(|| {
        SessionError::Invalid(Rejection::UnknownLesson(open.lesson.clone()).to_string())
    })?;
    let _lock = services.ledger().sessions();
    if services.infra().store.group_session(&open.id)?.is_some() {
        return Err(SessionError::Exists(open.id));
    }
    let session = GroupSession {
        id: open.id,
        station: station.to_string(),
        org: org.to_string(),
        lesson: open.lesson,
        lang: open.lang,
        duration_ms: i64::try_from(lesson.duration_ms).unwrap_or(i64::MAX),
        opened_ms: services.infra().now_ms() as i64,
        attendance: Vec::new(),
        playback: None,
    };
    save(services, session)
}

pub fn check(
    services: &impl LedgerHost,
    caller: &Principal,
    id: &str,
    checks: Checks,
) -> Result<GroupSession, SessionError> {
    let _lock = services.ledger().sessions();
    let mut session = own(services, caller, id)?;
    let crediting = Crediting::new(services.infra(), caller)?;
    let shift = offset(checks.device_clock, services.infra().now_ms() as i64);
    for event in checks.events {
        if let Err(rejection) = crediting.member(services.infra(), &event.member)? {
            return Err(SessionError::Invalid(rejection.to_string()));
        }
        session.attendance.push(Attendance {
            member: event.member,
            present: matches!(event.action, CheckAction::In),
            at_ms: event.at.as_millisecond() + shift,
        });
    }
    save(services, session)
}

/// Ends the session with its playback and credits everyone present, in one write.
pub fn end(
    services: &impl LedgerHost,
    caller: &Principal,
    id: &str,
    end: End,
    actor: &str,
) -> Result<Vec<Credited>, SessionError> {
    let _lock = services.ledger().sessions();
    let mut session = own(services, caller, id)?;
    // The station answers for the session, on media the server delivered to it.
    let view = services.catalog().view(services.infra())?;
    if let Some((_, lesson)) = view.lesson(&session.lesson) {
        let to = DeliveredTo::Station(session.station.clone());
        if !super::evidence::lesson_delivered(&*services.infra().store, &to, lesson)? {
            let no = Rejection::from(crate::domain::evidence::NoEvidence::NotDeliveredToStation);
            return Err(SessionError::Invalid(no.to_string()));
        }
    }
    let now = services.infra().now_ms() as i64;
    let shift = offset(end.device_clock, now);
    let wall = (
        end.wall.0.as_millisecond() + shift,
        end.wall.1.as_millisecond() + shift,
    );
    if end.played.iter().any(|(a, b)| a >= b) {
        return Err(SessionError::Invalid(
            "played intervals must not be empty".into(),
        ));
    }
    // The playback obeys what a watch report must: a day at most, not in the future, not
    // older than offline reports are kept for.
    crediting::limits(services.infra())
        .check_wall(wall.0, wall.1, now)
        .map_err(|why| SessionError::Invalid(format!("the playback: {why}")))?;
    let clamp = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
    session.playback = Some(Playback {
        wall,
        played: end
            .played
            .iter()
            .map(|&(a, b)| (clamp(a), clamp(b)))
            .collect(),
        position_ms: clamp(end.position_ms),
    });
    let rules = services.ledger().rules();
    let mut by_member: BTreeMap<String, Vec<crate::domain::ledger::Play>> = BTreeMap::new();
    for (member, play) in session.plays() {
        by_member.entry(member).or_default().push(play);
    }
    // Hold every member until the write is done, so nobody reads plays not yet stored.
    // Members are locked in id order; nothing else holds two members at once.
    let slots: Vec<_> = by_member
        .keys()
        .map(|m| services.ledger().slot(m))
        .collect();
    let mut guards: Vec<_> = slots
        .iter()
        .map(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner))
        .collect();
    let mut write = LedgerWrite::default();
    let mut credited = Vec::new();
    for ((member, plays), guard) in by_member.into_iter().zip(guards.iter_mut()) {
        let state = load(services, guard, &member)?;
        let present_ms = plays.iter().map(|p| p.wall.1 - p.wall.0).sum();
        let entries = plays
            .into_iter()
            .map(|play| (play.clone(), EntryKind::Group { play }))
            .collect();
        let added = add_plays(state, &member, entries, now, actor, rules, &mut write);
        credited.push(Credited {
            member,
            present_ms,
            credited_ms: added,
        });
    }
    write.session = Some(session);
    let handed = services.ledger().hand_over(
        services,
        write,
        vec![],
        slots.clone(),
        guards.iter_mut().filter_map(|g| g.as_mut()),
    );
    let ticket = match handed {
        Ok(ticket) => ticket,
        Err(e) => {
            for guard in &mut guards {
                **guard = None;
            }
            return Err(e.into());
        }
    };
    drop(guards);
    services.ledger().flush.wait_blocking(ticket, services)?;
    Ok(credited)
}

/// Why a member's own report may not name this session, if it may not.
pub(crate) fn check_report(
    services: &impl LedgerHost,
    session: &str,
    member: &str,
) -> Result<Option<String>, StoreError> {
    let Some(found) = services.infra().store.group_session(session)? else {
        return Ok(Some(format!("no group session {session:?}")));
    };
    let checked_in = found
        .attendance
        .iter()
        .any(|a| a.member == member && a.present);
    Ok((!checked_in)
        .then(|| format!("member {member:?} was not checked in to group session {session:?}")))
}
