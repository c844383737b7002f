//! Study hours: credited time in hours, whether a member met their year's requirement, and
//! totals rolled up an organisation tree.

use super::org::{Member, Org, OrgKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// How hours are counted and how many are owed.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    pub minutes_per_hour: u32,
    pub member_hours: u32,
    pub leader_hours: u32,
}

impl Requirement {
    /// Credited time in study hours, rounded to two decimals.
    pub fn hours(&self, credited_ms: i64) -> f64 {
        let per_hour = f64::from(self.minutes_per_hour.max(1)) * 60_000.0;
        (credited_ms as f64 / per_hour * 100.0).round() / 100.0
    }

    /// A member's year: enough hours, and for secretaries and committee members also one
    /// centralised training.
    pub fn standing(&self, member: &Member, credited_ms: i64, centralised: u32) -> Standing {
        let required_hours = member.required_hours(self.member_hours, self.leader_hours);
        let per_hour = i64::from(self.minutes_per_hour.max(1)) * 60_000;
        let enough = credited_ms >= i64::from(required_hours) * per_hour;
        Standing {
            required_hours,
            hours: self.hours(credited_ms),
            met: enough && (!member.is_leader() || centralised >= 1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Standing {
    pub required_hours: u32,
    pub hours: f64,
    pub met: bool,
}

/// One member's year, for reports.
#[derive(Debug, Clone)]
pub struct MemberYearLine {
    pub member: Member,
    pub credited_ms: i64,
    pub centralised: u32,
}

/// An organisation's year with everything under it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgSummary {
    pub org: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent: Option<String>,
    pub members: u32,
    pub met: u32,
    /// Share of members who met the requirement, 0 to 1, four decimals.
    pub completion_rate: f64,
    /// Everything credited to its members, exactly.
    pub credited_ms: i64,
    pub total_hours: f64,
    /// Members directly in this organisation.
    pub own_members: u32,
    pub children: Vec<OrgSummary>,
}

impl OrgSummary {
    /// This organisation and every one under it, depth first, with their depth.
    pub fn flatten(&self) -> Vec<(usize, &OrgSummary)> {
        let mut rows = Vec::new();
        let mut stack = vec![(0, self)];
        while let Some((depth, row)) = stack.pop() {
            rows.push((depth, row));
            stack.extend(row.children.iter().rev().map(|c| (depth + 1, c)));
        }
        rows
    }
}

/// Rolls members' years up the tree from `top`. Members count where they now live.
pub fn roll_up(
    top: &Org,
    orgs: &[Org],
    lines: &[MemberYearLine],
    requirement: &Requirement,
) -> OrgSummary {
    let mut children: BTreeMap<&str, Vec<&Org>> = BTreeMap::new();
    for org in orgs {
        if let Some(parent) = &org.parent {
            children.entry(parent.as_str()).or_default().push(org);
        }
    }
    let mut by_org: BTreeMap<&str, Vec<&MemberYearLine>> = BTreeMap::new();
    for line in lines {
        by_org
            .entry(line.member.org.as_str())
            .or_default()
            .push(line);
    }
    summarise(top, &children, &by_org, requirement, 0)
}

fn summarise(
    org: &Org,
    children: &BTreeMap<&str, Vec<&Org>>,
    by_org: &BTreeMap<&str, Vec<&MemberYearLine>>,
    requirement: &Requirement,
    depth: usize,
) -> OrgSummary {
    let own: &[&MemberYearLine] = by_org.get(org.id.as_str()).map_or(&[], Vec::as_slice);
    let mut members = own.len() as u32;
    let mut met = own
        .iter()
        .filter(|l| {
            requirement
                .standing(&l.member, l.credited_ms, l.centralised)
                .met
        })
        .count() as u32;
    let mut total_ms: i64 = own.iter().map(|l| l.credited_ms).sum();
    // Depth is bounded so that a cycle in damaged data cannot recurse forever.
    let subs: Vec<OrgSummary> = if depth > 64 {
        Vec::new()
    } else {
        children
            .get(org.id.as_str())
            .into_iter()
            .flatten()
            .map(|child| summarise(child, children, by_org, requirement, depth + 1))
            .collect()
    };
    for sub in &subs {
        members += sub.members;
        met += sub.met;
        total_ms += sub.credited_ms;
    }
    let rate = if members == 0 {
        0.0
    } else {
        (f64::from(met) / f64::from(members) * 10_000.0).round() / 10_000.0
    };
    OrgSummary {
        org: org.id.clone(),
        name: org.name.clone(),
        kind: org.kind,
        parent: org.parent.clone(),
        members,
        met,
        completion_rate: rate,
        credited_ms: total_ms,
        total_hours: requirement.hours(total_ms),
        own_members: own.len() as u32,
        children: subs,
    }
}

#[cfg(test)]
#[path = "hours_tests.rs"]
mod tests;
