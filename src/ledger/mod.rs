//! Ledger use cases: watch reports, group sessions and registrations go in; hours, resume
//! positions and organisation reports come out. Each member's plays are held in memory once
//! read (one lock per member serialises their updates); every change, with the member's new
//! totals, is handed to the group flush, which applies what many requests handed over as one
//! atomic batch and flushes it; a change is acknowledged only once flushed to disk.

pub mod anomalies;
mod crediting;
pub mod evidence;
mod flush;
pub mod grants;
pub mod monthly;
pub mod registration;
pub mod report;
pub mod session;
mod witness;

use crate::catalog::CatalogHost;
use crate::domain::evidence::{self as rules, Witnessed};
use crate::domain::ledger::{years_of, MemberLedger, Play, Rules};
use crate::domain::org::Principal;
use crate::domain::watch::{registered, Registration, Rejection, ReportsPerDay, WatchReport};
use crate::repo::{EntryKind, IdKind, LedgerEntry, LedgerWrite, MemberYear, SeenId, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crediting::{limits, Crediting};
use flush::Handover;
pub use flush::{stale_pause, wait as wait_durable, GroupFlush, Ticket, STALE_TRIES};

/// What the ledger's use cases stand on: the catalogue (lessons' durations and languages), the
/// members' ledgers in memory and the play sessions. The group flush runs on the blocking pool,
/// hence `'static`.
pub trait LedgerHost: CatalogHost + Send + Sync + 'static {
    fn ledger(&self) -> &Ledger;
    fn play_sessions(&self) -> &evidence::PlaySessions;
}

impl<T: std::ops::Deref + Send + Sync + 'static> LedgerHost for T
where
    T::Target: LedgerHost,
{
    fn ledger(&self) -> &Ledger {
        (**self).ledger()
    }
    fn play_sessions(&self) -> &evidence::PlaySessions {
        (**self).play_sessions()
    }
}

/// What became of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; the member's total grew by this much.
    Credited(i64),
    /// Accepted, but only this part of the wall time it claims (corrected epoch ms) had
    /// evidence behind it: what its play session witnessed and its attention checks allowed.
    CreditedInPart {
        ms: i64,
        wall: (i64, i64),
    },
    /// Seen before: nothing added.
    Duplicate,
    Rejected(Rejection),
}

/// A member's plays and registrations, as read from the store.
pub struct MemberState {
    pub ledger: MemberLedger,
    pub registrations: Vec<Registration>,
    /// The member's stored watch reports per local day of their wall time, for the daily cap.
    pub reports_per_day: ReportsPerDay,
    /// Play session → the wall time its reports were credited on, for each session's budget.
    pub session_use: HashMap<String, i64>,
    /// The ledger's epoch when this was read; a failed flush starts a new one.
    epoch: u64,
    member: String,
    /// The member's head in the store (see `LedgerRepo::member_head`) this state stands at,
    /// or the one the last write handed over will leave.
    head: u64,
}

pub(crate) type Slot = Arc<Mutex<Option<MemberState>>>;

pub struct Ledger {
    members: Mutex<HashMap<String, Slot>>,
    /// Serialises the use of one report id across members.
    ids: [Mutex<()>; 64],
    /// Serialises changes to group sessions (taken before any member, never inside one).
    sessions: Mutex<()>,
    pub flush: GroupFlush,
    rules: Rules,
    /// Report ids accepted by requests whose writes are not in the store yet, with member and
    /// digest.
    pending: Mutex<HashMap<String, SeenId>>,
    /// Counts failed flushes: member states read before the last one are read again.
    epoch: AtomicU64,
}

/// Members held in memory before idle ones are let go (they are read back when needed).
const CACHED_MEMBERS: usize = 50_000;

impl Ledger {
    pub fn new(rules: Rules) -> Ledger {
        Ledger {
            members: Mutex::default(),
            ids: std::array::from_fn(|_| Mutex::default()),
            sessions: Mutex::default(),
            flush: GroupFlush::default(),
            rules,
            pending: Mutex::default(),
            epoch: AtomicU64::new(0),
        }
    }

    /// Hands a write made from these members' states to the group flush, unless the disk is
    /// nearly full (then the ids are let go). The caller still holds the members' locks, and
    /// waits on the ticket after letting go of them. The write belongs to the oldest epoch of
    /// the states it was made from.
    /// The write names the head of each member it adds entries to, and their states move on.
    fn hand_over<'a>(
        &self,
        services: &impl LedgerHost,
        mut write: LedgerWrite,
        release: Vec<String>,
        hold: Vec<Slot>,
        states: impl IntoIterator<Item = &'a mut MemberState>,
    ) -> Result<Ticket, StoreError> {
        if let Err(e) = services.infra().store.writable() {
            self.release(&release);
            return Err(e);
        }
        let now = self.epoch.load(Ordering::SeqCst);
        let mut epoch = now;
        let written: HashSet<&str> = write.entries.iter().map(|e| e.member.as_str()).collect();
        let mut heads = Vec::new();
        for state in states {
            epoch = epoch.min(state.epoch);
            if written.contains(state.member.as_str()) {
                let next = rand::random::<u64>() | 1;
                heads.push((state.member.clone(), state.head, next));
                state.head = next;
            }
        }
        write.heads.extend(heads);
        Ok(self.flush.hand_over(Handover {
            write,
            release,
            hold,
            epoch,
        }))
    }

    /// The first body seen under a report id, counting writes not in the store yet.
    fn seen_report(
        &self,
        services: &impl LedgerHost,
        id: &str,
    ) -> Result<Option<SeenId>, StoreError> {
        let held = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned();
        match held {
            Some(seen) => Ok(Some(seen)),
            None => services.infra().store.seen_id(IdKind::Report, id),
        }
    }

    /// The crediting rules, from the settings.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    fn slot(&self, member: &str) -> Slot {
        let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        if members.len() >= CACHED_MEMBERS && !members.contains_key(member) {
            // Let go of every member nobody is using; the busy ones stay.
            members.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        members.entry(member.to_string()).or_default().clone()
    }

    /// Claims a report id for this request, unless it was seen before (then its record) or
    /// another request holds it (then that one's).
    fn reserve(
        &self,
        services: &impl LedgerHost,
        id: &str,
        member: &str,
        digest: &str,
    ) -> Result<Option<SeenId>, StoreError> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = pending.get(id) {
            return Ok(Some(held.clone()));
        }
        if let Some(seen) = services.infra().store.seen_id(IdKind::Report, id)? {
            return Ok(Some(seen));
        }
        let seen = SeenId {
            member: member.to_string(),
            digest: digest.to_string(),
        };
        pending.insert(id.to_string(), seen);
        Ok(None)
    }

    /// Lets go of ids once their request's writes are in the store (or failed).
    fn release(&self, ids: &[String]) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            pending.remove(id);
        }
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

/// Puts what an entry records with the plays or with the registrations.
pub(crate) fn file_entry(
    kind: EntryKind,
    plays: &mut Vec<Play>,
    registrations: &mut Vec<Registration>,
) {
    match kind {
        EntryKind::Registration(r) => registrations.push(r),
        kind => plays.extend(kind.play()),
    }
}

/// A member's plays and registrations, as stored.
pub(crate) fn history(
    services: &impl LedgerHost,
    member: &str,
) -> Result<(Vec<Play>, Vec<Registration>), StoreError> {
    let (mut plays, mut registrations) = (Vec::new(), Vec::new());
    for entry in services.infra().store.member_entries(member)? {
        file_entry(entry.kind, &mut plays, &mut registrations);
    }
    Ok((plays, registrations))
}

/// A member's state, read from the store the first time.
pub(crate) fn load<'a>(
    services: &impl LedgerHost,
    guard: &'a mut Option<MemberState>,
    member: &str,
) -> Result<&'a mut MemberState, StoreError> {
    let epoch = services.ledger().epoch.load(Ordering::SeqCst);
    if guard.as_ref().is_some_and(|state| state.epoch != epoch) {
        *guard = None;
    }
    if guard.is_none() {
        // Read before the entries: a write landing in between makes this head older than the
        // entries, so the next write is refused as stale and the member read again.
        let head = services.infra().store.member_head(member)?;
        let calendar = &services.ledger().rules().calendar;
        let (mut plays, mut registrations) = (Vec::new(), Vec::new());
        let mut reports_per_day = ReportsPerDay::default();
        let mut session_use: HashMap<String, i64> = HashMap::new();
        for entry in services.infra().store.member_entries(member)? {
            let watched = match &entry.kind {
                EntryKind::Watch { report, .. } => Some(report.evidence_id().map(str::to_string)),
                _ => None,
            };
            file_entry(entry.kind, &mut plays, &mut registrations);
            if let (Some(session), Some(play)) = (watched, plays.last()) {
                reports_per_day.count(calendar.day_of(play.wall.0));
                if let Some(session) = session {
                    *session_use.entry(session).or_default() += play.wall.1 - play.wall.0;
                }
            }
        }
        *guard = Some(MemberState {
            ledger: MemberLedger::new(plays, services.ledger().rules()),
            registrations,
            reports_per_day,
            session_use,
            epoch,
            member: member.to_string(),
            head,
        });
    }
    guard.as_mut().ok_or(StoreError::Stale(
        "the member's state was dropped as it was read",
    ))
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

/// A report that passed the checks needing no lock: its play (wall as witnessed), the wall it
/// claimed (corrected), and its play session when its basis is one.
struct Accepted {
    n: usize,
    report: WatchReport,
    play: Play,
    claimed: (i64, i64),
    witness: Option<(String, Witnessed)>,
}

/// Credits watch reports, each on its own; returns once everything accepted is on disk.
pub fn submit(
    services: &impl LedgerHost,
    caller: &Principal,
    actor: &str,
    reports: Vec<WatchReport>,
) -> Result<Vec<Outcome>, StoreError> {
    // Another process may credit one of these members first: read again and credit afresh.
    for tries in 1..STALE_TRIES {
        let (outcomes, ticket) = submit_unflushed(services, caller, actor, reports.clone())?;
        match services.ledger().flush.wait_blocking(ticket, services) {
            Err(StoreError::Stale(_)) => std::thread::sleep(stale_pause(tries)),
            done => return done.map(|()| outcomes),
        }
    }
    let (outcomes, ticket) = submit_unflushed(services, caller, actor, reports)?;
    services.ledger().flush.wait_blocking(ticket, services)?;
    Ok(outcomes)
}

/// Credits watch reports, each on its own, and writes what was accepted in one batch with
/// each member's new totals once. Nothing may be acknowledged before the ticket is durable.
pub fn submit_unflushed(
    services: &impl LedgerHost,
    caller: &Principal,
    actor: &str,
    reports: Vec<WatchReport>,
) -> Result<(Vec<Outcome>, Ticket), StoreError> {
    let ledger = &services.ledger();
    let crediting = Crediting::new(services.infra(), caller)?;
    let view = services.catalog().view(services.infra())?;
    let now = services.infra().now_ms() as i64;
    let limits = limits(services.infra());
    let mut outcomes: Vec<Option<Outcome>> = vec![None; reports.len()];
    let sent_for: Vec<String> = reports.iter().map(|r| r.member.clone()).collect();
    let mut members: HashMap<String, Result<(), Rejection>> = HashMap::new();
    // First the checks that need no lock: the member, the lesson, the rules, the evidence.
    let basis = rules::basis(caller);
    let skew_ms = limits.max_clock_skew_ms;
    let mut accepted: Vec<Accepted> = Vec::new();
    for (n, report) in reports.into_iter().enumerate() {
        let member_ok = match members.get(&report.member) {
            Some(known) => known.clone(),
            None => {
                let known = crediting
                    .member(services.infra(), &report.member)?
                    .map(|_| ());
                members.insert(report.member.clone(), known.clone());
                known
            }
        };
        let checked = member_ok.and_then(|()| {
            let (_, lesson) = view
                .lesson(&report.lesson)
                .ok_or_else(|| Rejection::UnknownLesson(report.lesson.clone()))?;
            let duration_ms = i64::try_from(lesson.duration_ms).unwrap_or(i64::MAX);
            let offset = report.clock_offset_ms(now);
            report.to_play(now, offset, duration_ms, &limits)
        });
        let checked = match checked {
            Ok(play) => match &play.session {
                Some(session) => match session::check_report(services, session, &report.member)? {
                    Some(reason) => Err(Rejection::Session(reason)),
                    None => Ok(play),
                },
                None => Ok(play),
            },
            Err(rejection) => Err(rejection),
        };
        let checked = match checked {
            Ok(play) => witness::witness(services, &view, basis, &report, play, now, skew_ms)?,
            Err(rejection) => Err(rejection),
        };
        match checked {
            Ok((play, claimed, witness)) => accepted.push(Accepted {
                n,
                report,
                play,
                claimed,
                witness,
            }),
            // A report seen before is a duplicate, even if its member moved since.
            Err(rejection) => {
                outcomes[n] = Some(match ledger.seen_report(services, &report.id)? {
                    Some(seen) => seen_outcome(&seen, &report),
                    None => Outcome::Rejected(rejection),
                })
            }
        }
    }
    // Then each member once, locked in id order (nothing holds two members otherwise).
    let names: BTreeSet<String> = accepted.iter().map(|a| a.report.member.clone()).collect();
    let slots: Vec<(String, Slot)> = names
        .into_iter()
        .map(|m| (m.clone(), ledger.slot(&m)))
        .collect();
    let mut guards: BTreeMap<&str, MutexGuard<'_, Option<MemberState>>> = slots
        .iter()
        .map(|(m, slot)| {
            (
                m.as_str(),
                slot.lock().unwrap_or_else(PoisonError::into_inner),
            )
        })
        .collect();
    let mut write = LedgerWrite::default();
    let mut reserved = Vec::new();
    let mut touched: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    let rules = ledger.rules();
    let daily_cap = services.infra().settings.ledger.max_reports_per_member_day;
    let written = (|| -> Result<(), StoreError> {
        for Accepted {
            n,
            report,
            mut play,
            claimed,
            witness,
        } in accepted
        {
            let Some(guard) = guards.get_mut(report.member.as_str()) else {
                continue;
            };
            let state = load(services, guard, &report.member)?;
            // Counted by the day the report was played (its corrected wall start), not the day
            // it arrived: a station's week of offline viewing arrives in one day.
            let day = rules.calendar.day_of(play.wall.0);
            if let Err(rate) = state.reports_per_day.admits(day, daily_cap) {
                // A repeat of a stored report is still a duplicate; only new ones are refused.
                outcomes[n] = Some(match ledger.seen_report(services, &report.id)? {
                    Some(seen) => seen_outcome(&seen, &report),
                    None => Outcome::Rejected(rate),
                });
                continue;
            }
            // One session never credits more wall time than the server saw pass.
            if let Some((session, witnessed)) = &witness {
                let used = state.session_use.get(session).copied().unwrap_or(0);
                match witnessed.within_budget(play.wall, used) {
                    Ok(wall) => play.wall = wall,
                    Err(spent) => {
                        outcomes[n] = Some(match ledger.seen_report(services, &report.id)? {
                            Some(seen) => seen_outcome(&seen, &report),
                            None => Outcome::Rejected(spent.into()),
                        });
                        continue;
                    }
                }
            }
            let digest = hex::encode(report.body_digest());
            if let Some(seen) = ledger.reserve(services, &report.id, &report.member, &digest)? {
                outcomes[n] = Some(seen_outcome(&seen, &report));
                continue;
            }
            reserved.push(report.id.clone());
            state.reports_per_day.count(day);
            if let Some((session, _)) = &witness {
                *state.session_use.entry(session.clone()).or_default() += play.wall.1 - play.wall.0;
            }
            let play_duration = play.duration_ms;
            touched
                .entry(report.member.clone())
                .or_default()
                .extend(years_of(&play, rules));
            let witnessed = (play.wall != claimed).then_some(play.wall);
            let added = state.ledger.add(play, rules);
            outcomes[n] = Some(match witnessed {
                Some(wall) => Outcome::CreditedInPart { ms: added, wall },
                None => Outcome::Credited(added),
            });
            write.ids.push((
                IdKind::Report,
                report.id.clone(),
                SeenId {
                    member: report.member.clone(),
                    digest,
                },
            ));
            write.entries.push(LedgerEntry {
                at_ms: now,
                actor: actor.to_string(),
                member: report.member.clone(),
                // What made the report this play, kept so the play can be made again.
                kind: EntryKind::Watch {
                    offset_ms: claimed.0 - report.wall.0.as_millisecond(),
                    duration_ms: play_duration,
                    report: Box::new(report),
                    witnessed,
                },
            });
        }
        for (member, years) in &touched {
            if let Some(Some(state)) = guards.get(member.as_str()).map(|g| g.as_ref()) {
                for year in years {
                    write
                        .totals
                        .push((*year, member.clone(), year_totals(state, *year)));
                }
            }
        }
        Ok(())
    })();
    // Even a request that wrote nothing waits: its duplicates may be another request's writes
    // that are not on disk yet.
    let handed = match written {
        Ok(()) if !write.entries.is_empty() => ledger.hand_over(
            services,
            write,
            reserved,
            slots.iter().map(|(_, slot)| slot.clone()).collect(),
            guards.values_mut().filter_map(|g| g.as_mut()),
        ),
        written => {
            ledger.release(&reserved);
            written.map(|()| ledger.flush.ticket())
        }
    };
    let ticket = match handed {
        Ok(ticket) => ticket,
        Err(e) => {
            // Memory may hold plays the store does not: read those members afresh next time.
            for guard in guards.values_mut() {
                **guard = None;
            }
            return Err(e);
        }
    };
    drop(guards);
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Duplicate))
        .collect();
    witness::count_rejections(services, &sent_for, &outcomes, now);
    Ok((outcomes, ticket))
}

fn seen_outcome(seen: &SeenId, report: &WatchReport) -> Outcome {
    if seen.digest == hex::encode(report.body_digest()) && seen.member == report.member {
        Outcome::Duplicate
    } else {
        Outcome::Rejected(Rejection::Conflict(report.id.clone()))
    }
}
