//! What the ledger says: a member's hours and resume positions, and an organisation's year
//! rolled up its subtree — as one set of rows that becomes JSON or CSV.

use super::LedgerHost;
use super::{load, year_totals};
use crate::domain::csv_cell::cell;
use crate::domain::hours::{roll_up, MemberYearLine, OrgSummary, Requirement};
use crate::domain::org::Member;
use crate::repo::StoreError;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::PoisonError;

pub fn requirement(services: &impl LedgerHost) -> Requirement {
    let l = &services.infra().settings.ledger;
    Requirement {
        minutes_per_hour: l.minutes_per_hour,
        member_hours: l.member_hours,
        leader_hours: l.leader_hours,
    }
}

/// The year the server's clock is in.
pub fn this_year(services: &impl LedgerHost) -> i32 {
    let rules = services.ledger().rules();
    rules.calendar.year_of(services.infra().now_ms() as i64)
}

#[derive(Debug, Serialize)]
pub struct Hours {
    pub member: String,
    pub year: i32,
    pub credited_ms: i64,
    pub hours: f64,
    pub required_hours: u32,
    pub met: bool,
    pub centralised_trainings: u32,
    pub watched_ms: i64,
    pub registered_ms: i64,
    pub lessons: Vec<LessonHours>,
}

#[derive(Debug, Serialize)]
pub struct LessonHours {
    pub lesson: String,
    pub credited_ms: i64,
    /// The lesson's nominal duration, when it is still in the catalogue.
    pub duration_ms: Option<u64>,
}

pub fn hours(services: &impl LedgerHost, member: &Member, year: i32) -> Result<Hours, StoreError> {
    let totals = services
        .infra()
        .store
        .member_year(&member.id, year)?
        .unwrap_or_default();
    let view = services.catalog().view(services.infra())?;
    let standing = requirement(services).standing(member, totals.credited_ms(), totals.centralised);
    Ok(Hours {
        member: member.id.clone(),
        year,
        credited_ms: totals.credited_ms(),
        hours: standing.hours,
        required_hours: standing.required_hours,
        met: standing.met,
        centralised_trainings: totals.centralised,
        watched_ms: totals.watched_ms,
        registered_ms: totals.registered_ms,
        lessons: totals
            .lessons
            .into_iter()
            .map(|(lesson, credited_ms)| LessonHours {
                duration_ms: view.lesson(&lesson).map(|(_, l)| l.duration_ms),
                lesson,
                credited_ms,
            })
            .collect(),
    })
}

#[derive(Debug, Serialize)]
pub struct Resume {
    pub lesson: String,
    pub position_ms: i64,
    /// When the play it comes from ended (epoch ms).
    pub at_ms: i64,
}

pub fn resume(services: &impl LedgerHost, member: &str) -> Result<Vec<Resume>, StoreError> {
    let slot = services.ledger().slot(member);
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let state = load(services, &mut guard, member)?;
    Ok(state
        .ledger
        .resume()
        .into_iter()
        .map(|(lesson, (position_ms, at_ms))| Resume {
            lesson: lesson.to_string(),
            position_ms,
            at_ms,
        })
        .collect())
}

/// Members of an organisation's subtree with their year, and the rolled-up summary.
pub struct OrgReport {
    pub summary: OrgSummary,
    pub members: Vec<MemberYearLine>,
}

pub fn org_report(
    services: &impl LedgerHost,
    org: &str,
    year: i32,
) -> Result<Option<OrgReport>, StoreError> {
    let orgs = services.infra().store.orgs()?;
    let Some(top) = orgs.iter().find(|o| o.id == org).cloned() else {
        return Ok(None);
    };
    let tree = services.infra().store.org_tree()?;
    let totals = services.infra().store.year_totals(year)?;
    let members: Vec<MemberYearLine> = services
        .infra()
        .store
        .members()?
        .into_iter()
        .filter(|r| tree.within(&r.member.org, org))
        .map(|r| {
            let t = totals.get(&r.member.id);
            MemberYearLine {
                credited_ms: t.map_or(0, |t| t.credited_ms()),
                centralised: t.map_or(0, |t| t.centralised),
                member: r.member,
            }
        })
        .collect();
    let summary = roll_up(&top, &orgs, &members, &requirement(services));
    Ok(Some(OrgReport { summary, members }))
}

/// UTF-8 with a byte-order mark, so spreadsheet programs read Chinese names correctly.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The organisation rows of a report as CSV.
pub fn orgs_csv(report: &OrgReport, year: i32) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(BOM.to_vec());
    out.write_record([
        "year",
        "org",
        "name",
        "kind",
        "parent",
        "depth",
        "members",
        "met",
        "completion_rate",
        "total_hours",
    ])?;
    for (depth, row) in report.summary.flatten() {
        let kind = serde_json::to_value(row.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        out.write_record([
            year.to_string(),
            cell(&row.org).into_owned(),
            cell(&row.name).into_owned(),
            cell(&kind).into_owned(),
            cell(row.parent.as_deref().unwrap_or_default()).into_owned(),
            depth.to_string(),
            row.members.to_string(),
            row.met.to_string(),
            format!("{:.4}", row.completion_rate),
            format!("{:.2}", row.total_hours),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// One member's line of a report: the same for the screen and the file.
#[derive(Debug, Serialize)]
pub struct MemberRow {
    pub member: String,
    pub name: String,
    pub org: String,
    /// Posts separated by ';'.
    pub posts: String,
    pub credited_ms: i64,
    pub hours: f64,
    pub required_hours: u32,
    pub met: bool,
    pub centralised_trainings: u32,
}

pub fn member_rows(services: &impl LedgerHost, report: &OrgReport) -> Vec<MemberRow> {
    let requirement = requirement(services);
    report
        .members
        .iter()
        .map(|line| {
            let standing = requirement.standing(&line.member, line.credited_ms, line.centralised);
            let posts: Vec<String> = line
                .member
                .posts
                .iter()
                .filter_map(|p| serde_json::to_value(p).ok()?.as_str().map(String::from))
                .collect();
            MemberRow {
                member: line.member.id.clone(),
                name: line.member.name.clone(),
                org: line.member.org.clone(),
                posts: posts.join(";"),
                credited_ms: line.credited_ms,
                hours: standing.hours,
                required_hours: standing.required_hours,
                met: standing.met,
                centralised_trainings: line.centralised,
            }
        })
        .collect()
}

/// A member row as written to a file: the same columns, text made spreadsheet-safe.
#[derive(Serialize)]
struct MemberCells<'a> {
    member: Cow<'a, str>,
    name: Cow<'a, str>,
    org: Cow<'a, str>,
    posts: Cow<'a, str>,
    credited_ms: i64,
    hours: f64,
    required_hours: u32,
    met: bool,
    centralised_trainings: u32,
}

impl<'a> From<&'a MemberRow> for MemberCells<'a> {
    fn from(row: &'a MemberRow) -> Self {
        MemberCells {
            member: cell(&row.member),
            name: cell(&row.name),
            org: cell(&row.org),
            posts: cell(&row.posts),
            credited_ms: row.credited_ms,
            hours: row.hours,
            required_hours: row.required_hours,
            met: row.met,
            centralised_trainings: row.centralised_trainings,
        }
    }
}

/// Member rows as CSV, with the byte-order mark.
pub fn members_csv(rows: &[MemberRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(BOM.to_vec());
    for row in rows {
        out.serialize(MemberCells::from(row))?;
    }
    if rows.is_empty() {
        out.write_record([
            "member",
            "name",
            "org",
            "posts",
            "credited_ms",
            "hours",
            "required_hours",
            "met",
            "centralised_trainings",
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Recomputes every member's totals from the ledger's entries and lists where the kept totals
/// differ (none, unless something went wrong).
pub fn verify(services: &impl LedgerHost) -> Result<Vec<String>, StoreError> {
    use crate::domain::ledger::{MemberLedger, Play};
    use crate::domain::watch::Registration;
    let rules = services.ledger().rules();
    // Gather each member's plays first and credit them in one pass, as loading does.
    let mut gathered: std::collections::BTreeMap<String, (Vec<Play>, Vec<Registration>)> =
        Default::default();
    for entry in services.infra().store.ledger_entries()? {
        let (plays, registrations) = gathered.entry(entry.member).or_default();
        super::file_entry(entry.kind, plays, registrations);
    }
    let by_member: std::collections::BTreeMap<String, super::MemberState> = gathered
        .into_iter()
        .map(|(member, (plays, registrations))| {
            let ledger = MemberLedger::new(plays, rules);
            let state = super::MemberState {
                ledger,
                registrations,
                reports_per_day: Default::default(),
                session_use: Default::default(),
                // Only for this check, never cached or written from.
                epoch: 0,
                member: member.clone(),
                head: 0,
            };
            (member, state)
        })
        .collect();
    let kept = services.infra().store.all_totals()?;
    let mut problems = Vec::new();
    let mut recomputed = std::collections::BTreeMap::new();
    for (member, state) in &by_member {
        let years: std::collections::BTreeSet<i32> = state
            .ledger
            .years()
            .map(|(y, _)| *y)
            .chain(
                state
                    .registrations
                    .iter()
                    .filter_map(|r| crate::domain::ledger::Calendar::year_of_date(&r.date)),
            )
            .collect();
        for year in years {
            recomputed.insert((year, member.clone()), year_totals(state, year));
        }
    }
    for (key, totals) in &recomputed {
        let same = kept.get(key).is_some_and(|k| k == totals)
            || (!kept.contains_key(key) && *totals == Default::default());
        if !same {
            problems.push(format!(
                "{} {}: kept {:?}, recomputed {:?}",
                key.1,
                key.0,
                kept.get(key),
                totals
            ));
        }
    }
    for (key, totals) in &kept {
        if !recomputed.contains_key(key) && *totals != Default::default() {
            problems.push(format!(
                "{} {}: kept {:?}, nothing in the ledger",
                key.1, key.0, totals
            ));
        }
    }
    Ok(problems)
}
