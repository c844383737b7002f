//! What makes a member's year look wrong to a secretary (让党员作评价，从基层看效果): rules over
//! the wall time of their plays, each giving its reason with the evidence behind it.

use super::calendar::Calendar;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a rule begins to report.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// More play than this on one local day.
    pub day_ms: i64,
    /// At least this much play in the year before the night share is judged.
    pub night_min_ms: i64,
    /// Reports rejected for want of evidence, and unanswered attention checks among them.
    pub rejected: u32,
    pub unattended: u32,
}

/// One reason, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Anomaly {
    /// Played more than the threshold on one day (the longest such day).
    LongDay {
        date: String,
        played_ms: i64,
        days: usize,
    },
    /// Most of the year's play between 01:00 and 05:00 local time.
    Night { night_ms: i64, played_ms: i64 },
    /// Reports rejected with reason `no-evidence`.
    NoEvidence { rejected: u32 },
    /// Reports rejected because attention checks went unanswered.
    MissedChecks { rejected: u32 },
    /// The same device played for another member at the same time, outside group study.
    SharedDevice {
        device: String,
        with: Vec<String>,
        at_ms: i64,
    },
}

/// The long-day and night rules over a member's plays, each its wall interval and the lesson
/// time it played: a play counts its wall time, scaled down where it played less than that (a
/// station left on a paused lesson all day plays little).
pub fn of_plays(plays: &[((i64, i64), i64)], calendar: &Calendar, t: &Thresholds) -> Vec<Anomaly> {
    let mut found = Vec::new();
    let mut by_day: BTreeMap<i32, i64> = BTreeMap::new();
    let (mut night, mut total) = (0i64, 0i64);
    for &((from, to), media) in plays.iter().filter(|((a, b), _)| a < b) {
        let wall = to - from;
        let share = |ms: i64| (ms as i128 * i128::from(media.min(wall)) / i128::from(wall)) as i64;
        total += share(wall);
        let (first, last) = (calendar.day_of(from), calendar.day_of(to - 1));
        for day in first..=last {
            let (start, end) = (
                calendar.hour_of_day(day, 0),
                calendar.hour_of_day(day + 1, 0),
            );
            let part = to.min(end) - from.max(start);
            if part > 0 {
                *by_day.entry(day).or_default() += share(part);
            }
            let (n0, n1) = (calendar.hour_of_day(day, 1), calendar.hour_of_day(day, 5));
            night += share((to.min(n1) - from.max(n0)).max(0));
        }
    }
    let long: Vec<(&i32, &i64)> = by_day.iter().filter(|(_, ms)| **ms > t.day_ms).collect();
    if let Some((day, played)) = long.iter().max_by_key(|(_, ms)| **ms) {
        found.push(Anomaly::LongDay {
            date: calendar.date_of_day(**day),
            played_ms: **played,
            days: long.len(),
        });
    }
    if total >= t.night_min_ms && night * 2 > total {
        found.push(Anomaly::Night {
            night_ms: night,
            played_ms: total,
        });
    }
    found
}

/// A member's play on a device: who, and its wall interval.
type MemberWall<'a> = (&'a str, (i64, i64));

/// Devices that played for several members at once: for each member, the first overlap found
/// with another member on the same device, as (member, device, others, at).
pub fn shared_devices(plays: &[(String, [u8; 8], (i64, i64))]) -> Vec<(String, Anomaly)> {
    let mut by_device: BTreeMap<[u8; 8], Vec<MemberWall>> = BTreeMap::new();
    for (member, device, wall) in plays {
        by_device.entry(*device).or_default().push((member, *wall));
    }
    let mut found: BTreeMap<String, Anomaly> = BTreeMap::new();
    for (device, mut walls) in by_device {
        walls.sort_by_key(|(_, w)| *w);
        for (i, (member, wall)) in walls.iter().enumerate() {
            let others: Vec<String> = walls
                .iter()
                .enumerate()
                .filter(|(j, (m, w))| *j != i && m != member && w.0 < wall.1 && wall.0 < w.1)
                .map(|(_, (m, _))| m.to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !others.is_empty() && !found.contains_key(*member) {
                found.insert(
                    member.to_string(),
                    Anomaly::SharedDevice {
                        device: device.iter().map(|b| format!("{b:02x}")).collect(),
                        with: others,
                        at_ms: wall.0,
                    },
                );
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
#[path = "anomaly_tests.rs"]
mod tests;
