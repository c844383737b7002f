//! Ledger use cases: watch reports, group sessions and registrations go in; hours, resume
//! positions and organisation reports come out. Each member's plays are held in memory once
//! read (one lock per member serialises their updates); every change is written as one atomic
//! batch with the member's new totals, and acknowledged only once flushed to disk.

mod flush;
pub mod registration;
pub mod report;
pub mod session;

use crate::domain::ledger::{years_of, MemberLedger, Play, Rules};
use crate::domain::org::{permits, Action, Member, OrgTree, Principal};
use crate::domain::watch::{registered, Limits, Registration, Rejection, WatchReport};
use crate::services::Services;
use crate::store::{EntryKind, IdKind, LedgerEntry, LedgerWrite, MemberYear, SeenId, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use flush::GroupFlush;

/// What became of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; the member's total grew by this much.
    Credited(i64),
    /// Seen before: nothing added.
    Duplicate,
    Rejected(Rejection),
}

/// A member's plays and registrations, as read from the store.
pub struct MemberState {
    pub ledger: MemberLedger,
    pub registrations: Vec<Registration>,
}

type Slot = Arc<Mutex<Option<MemberState>>>;

pub struct Ledger {
    members: Mutex<HashMap<String, Slot>>,
    /// Serialises the use of one report id across members.
    ids: [Mutex<()>; 64],
    /// Serialises changes to group sessions (taken before any member, never inside one).
    sessions: Mutex<()>,
    pub flush: GroupFlush,
    rules: Rules,
}

impl Ledger {
    pub fn new(rules: Rules) -> Ledger {
        Ledger {
            members: Mutex::default(),
            ids: std::array::from_fn(|_| Mutex::default()),
            sessions: Mutex::default(),
            flush: GroupFlush::default(),
            rules,
        }
    }

    /// The crediting rules, from the settings.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    fn slot(&self, member: &str) -> Slot {
        let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        members.entry(member.to_string()).or_default().clone()
    }

    fn sessions(&self) -> MutexGuard<'_, ()> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn id_lock(&self, id: &str) -> MutexGuard<'_, ()> {
        let hash = id
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        self.ids[hash % self.ids.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A member's state, read from the store the first time.
pub(crate) fn load<'a>(
    services: &Services,
    guard: &'a mut Option<MemberState>,
    member: &str,
) -> Result<&'a mut MemberState, StoreError> {
    if guard.is_none() {
        let rules = services.ledger.rules();
        let mut plays = Vec::new();
        let mut registrations = Vec::new();
        for entry in services.store.member_entries(member)? {
            match entry.kind {
                EntryKind::Watch { play, .. } | EntryKind::Group { play } => plays.push(play),
                EntryKind::Registration(r) => registrations.push(r),
            }
        }
        *guard = Some(MemberState {
            ledger: MemberLedger::new(plays, rules),
            registrations,
        });
    }
    guard.as_mut().ok_or(StoreError::Corrupt {
        tree: "ledger",
        reason: "member state vanished".into(),
    })
}

/// A member's totals for one year.
pub fn year_totals(state: &MemberState, year: i32) -> MemberYear {
    let watched = state.ledger.year(year);
    let (registered_ms, registered_centralised) = registered(&state.registrations, year);
    MemberYear {
        watched_ms: watched.credited_ms,
        registered_ms,
        centralised: (watched.sessions.len() + registered_centralised) as u32,
        lessons: watched.lessons,
    }
}

/// Adds plays to a member's state and returns what to write: the entries and the new totals
/// of every year the plays touch, plus how much the member's total grew.
pub(crate) fn add_plays(
    state: &mut MemberState,
    member: &str,
    plays: Vec<(Play, EntryKind)>,
    at_ms: i64,
    actor: &str,
    rules: &Rules,
    write: &mut LedgerWrite,
) -> i64 {
    let mut years = BTreeSet::new();
    let mut added = 0;
    for (play, kind) in plays {
        years.extend(years_of(&play, rules));
        added += state.ledger.add(play, rules);
        write.entries.push(LedgerEntry {
            at_ms,
            actor: actor.to_string(),
            member: member.to_string(),
            kind,
        });
    }
    for year in years {
        write
            .totals
            .push((year, member.to_string(), year_totals(state, year)));
    }
    added
}

pub(crate) fn limits(services: &Services) -> Limits {
    let l = &services.settings.ledger;
    Limits {
        offline_max_age_ms: l.offline_max_age.as_millis() as i64,
        max_clock_skew_ms: l.max_clock_skew.as_millis() as i64,
    }
}

/// Who may credit whom; the organisation tree is read only for managers, who need it.
pub(crate) struct Crediting<'a> {
    caller: &'a Principal,
    tree: OrgTree,
}

impl<'a> Crediting<'a> {
    pub(crate) fn new(services: &Services, caller: &'a Principal) -> Result<Self, StoreError> {
        let tree = match caller {
            Principal::Manager { .. } => services.store.org_tree()?,
            _ => OrgTree::default(),
        };
        Ok(Crediting { caller, tree })
    }

    /// The member, if this caller may credit them.
    pub(crate) fn member(
        &self,
        services: &Services,
        id: &str,
    ) -> Result<Result<Member, Rejection>, StoreError> {
        let Some(record) = services.store.member(id)? else {
            return Ok(Err(Rejection::UnknownMember(id.to_string())));
        };
        if permits(
            self.caller,
            &Action::CreditMember(&record.member),
            &self.tree,
        ) {
            Ok(Ok(record.member))
        } else {
            Ok(Err(Rejection::Forbidden(id.to_string())))
        }
    }
}

/// Credits watch reports, each on its own; returns once everything accepted is on disk.
pub fn submit(
    services: &Services,
    caller: &Principal,
    actor: &str,
    reports: Vec<WatchReport>,
) -> Result<Vec<Outcome>, StoreError> {
    let crediting = Crediting::new(services, caller)?;
    let view = services.catalog.view(services)?;
    let mut outcomes = Vec::with_capacity(reports.len());
    for report in reports {
        // A report seen before is a duplicate whoever sends it now, even if its member has
        // moved or its lesson left the catalogue since.
        if let Some(seen) = services.store.seen_id(IdKind::Report, &report.id)? {
            outcomes.push(seen_outcome(&seen, &report));
            continue;
        }
        let outcome = match crediting.member(services, &report.member)? {
            Err(rejection) => Outcome::Rejected(rejection),
            Ok(_) => match view.lesson(&report.lesson) {
                None => Outcome::Rejected(Rejection::UnknownLesson(report.lesson.clone())),
                Some((_, lesson)) => {
                    let duration_ms = i64::try_from(lesson.duration_ms).unwrap_or(i64::MAX);
                    credit_one(services, actor, report, duration_ms)?
                }
            },
        };
        outcomes.push(outcome);
    }
    services.ledger.flush.durable(&services.store)?;
    Ok(outcomes)
}

fn seen_outcome(seen: &SeenId, report: &WatchReport) -> Outcome {
    if seen.digest == hex::encode(report.body_digest()) && seen.member == report.member {
        Outcome::Duplicate
    } else {
        Outcome::Rejected(Rejection::Conflict(report.id.clone()))
    }
}

fn credit_one(
    services: &Services,
    actor: &str,
    report: WatchReport,
    duration_ms: i64,
) -> Result<Outcome, StoreError> {
    let ledger = &services.ledger;
    let slot = ledger.slot(&report.member);
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let _id = ledger.id_lock(&report.id);
    let digest = hex::encode(report.body_digest());
    if let Some(seen) = services.store.seen_id(IdKind::Report, &report.id)? {
        return Ok(seen_outcome(&seen, &report));
    }
    let now = crate::people::now_ms(services) as i64;
    let offset = report.clock_offset_ms(now);
    let play = match report.to_play(now, offset, duration_ms, &limits(services)) {
        Ok(play) => play,
        Err(rejection) => return Ok(Outcome::Rejected(rejection)),
    };
    if let Some(session) = &play.session {
        if let Some(reason) = session::check_report(services, session, &report.member)? {
            return Ok(Outcome::Rejected(Rejection::Session(reason)));
        }
    }
    let rules = services.ledger.rules();
    let state = load(services, &mut guard, &report.member)?;
    let mut write = LedgerWrite::default();
    write.ids.push((
        IdKind::Report,
        report.id.clone(),
        SeenId {
            member: report.member.clone(),
            digest,
        },
    ));
    let member = report.member.clone();
    let kind = EntryKind::Watch {
        report: Box::new(report),
        play: play.clone(),
    };
    let added = add_plays(
        state,
        &member,
        vec![(play, kind)],
        now,
        actor,
        rules,
        &mut write,
    );
    if let Err(e) = services.store.write_ledger(&write) {
        // Memory now holds a play the store does not: read the member afresh next time.
        *guard = None;
        return Err(e);
    }
    Ok(Outcome::Credited(added))
}
