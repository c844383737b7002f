//! The anomalies report: members of an organisation's subtree whose year looks wrong, each
//! with the reasons and their evidence (`domain::anomaly`), from their stored plays, the
//! devices their play sessions went to, and the counts of their rejected reports.

use super::LedgerHost;
use crate::domain::anomaly::{of_plays, shared_devices, Anomaly, Thresholds};
use crate::repo::{EntryKind, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct MemberAnomalies {
    pub member: String,
    pub name: String,
    pub org: String,
    pub reasons: Vec<Anomaly>,
}

#[derive(Debug, Serialize)]
pub struct OrgAnomalies {
    pub org: String,
    pub year: i32,
    pub members: Vec<MemberAnomalies>,
}

fn thresholds(services: &impl LedgerHost) -> Thresholds {
    let l = &services.infra().settings.ledger;
    Thresholds {
        day_ms: i64::from(l.anomaly_hours_per_day) * 3_600_000,
        night_min_ms: 3_600_000,
        rejected: l.anomaly_rejections,
        unattended: l.anomaly_missed_checks,
    }
}

/// The subtree's anomalies in `year`, members in id order; None if there is no such
/// organisation.
pub fn org_anomalies(
    services: &impl LedgerHost,
    org: &str,
    year: i32,
) -> Result<Option<OrgAnomalies>, StoreError> {
    let tree = services.infra().store.org_tree()?;
    if !tree.contains(org) {
        return Ok(None);
    }
    let calendar = &services.ledger().rules().calendar;
    let t = thresholds(services);
    let totals = services.infra().store.year_totals(year)?;
    let rejected = services.infra().store.rejections(year)?;
    let mut found: BTreeMap<String, MemberAnomalies> = BTreeMap::new();
    let mut on_devices = Vec::new();
    for record in services.infra().store.members()? {
        let member = record.member;
        let counted = rejected.get(&member.id).copied().unwrap_or_default();
        if !tree.within(&member.org, org) || (!totals.contains_key(&member.id) && counted == (0, 0))
        {
            continue;
        }
        let mut walls = Vec::new();
        for entry in services.infra().store.member_entries(&member.id)? {
            let session = match &entry.kind {
                EntryKind::Watch { report, .. } => report.play_session.clone(),
                _ => None,
            };
            let Some(play) = entry.kind.play() else {
                continue;
            };
            if calendar.year_of(play.wall.0) != year {
                continue;
            }
            let media = play.played.iter().map(|(a, b)| (b - a).max(0)).sum::<i64>();
            walls.push((play.wall, media.min(play.duration_ms)));
            if let Some(device) = session.and_then(|s| services.play_sessions().device_of(&s)) {
                on_devices.push((member.id.clone(), device, play.wall));
            }
        }
        let mut reasons = of_plays(&walls, calendar, &t);
        if counted.0 >= t.rejected {
            reasons.push(Anomaly::NoEvidence {
                rejected: counted.0,
            });
        }
        if counted.1 >= t.unattended {
            reasons.push(Anomaly::MissedChecks {
                rejected: counted.1,
            });
        }
        found.insert(
            member.id.clone(),
            MemberAnomalies {
                member: member.id,
                name: member.name,
                org: member.org,
                reasons,
            },
        );
    }
    for (member, shared) in shared_devices(&on_devices) {
        if let Some(m) = found.get_mut(&member) {
            m.reasons.push(shared);
        }
    }
    Ok(Some(OrgAnomalies {
        org: org.to_string(),
        year,
        members: found
            .into_values()
            .filter(|m| !m.reasons.is_empty())
            .collect(),
    }))
}

/// The anomalies as CSV (UTF-8 with a byte-order mark): one row per reason.
pub fn anomalies_csv(report: &OrgAnomalies) -> Result<Vec<u8>, csv::Error> {
    use crate::domain::csv_cell::cell;
    let mut out = csv::Writer::from_writer(super::report::BOM.to_vec());
    out.write_record([
        "org",
        "year",
        "member",
        "name",
        "member_org",
        "kind",
        "evidence",
    ])?;
    for m in &report.members {
        for reason in &m.reasons {
            let json = serde_json::to_value(reason).unwrap_or_default();
            let kind = json["kind"].as_str().unwrap_or_default().to_string();
            let mut evidence = json;
            if let Some(fields) = evidence.as_object_mut() {
                fields.remove("kind");
            }
            out.write_record([
                cell(&report.org).into_owned(),
                report.year.to_string(),
                cell(&m.member).into_owned(),
                cell(&m.name).into_owned(),
                cell(&m.org).into_owned(),
                kind,
                cell(&evidence.to_string()).into_owned(),
            ])?;
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
