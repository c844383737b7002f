//! Group study at a station: a session plays one lesson to the members checked in; each present
//! member is credited the part of the playback their presence overlaps, on their own timeline.

use super::interval::{split_at_length, IntervalSet};
use super::lang::Lang;
use super::ledger::Play;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSession {
    pub id: String,
    pub station: String,
    pub org: String,
    pub lesson: String,
    pub lang: Lang,
    pub duration_ms: i64,
    pub opened_ms: i64,
    /// Check-ins and check-outs, clocks corrected.
    pub attendance: Vec<Attendance>,
    pub playback: Option<Playback>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub member: String,
    pub present: bool,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playback {
    pub wall: (i64, i64),
    pub played: Vec<(i64, i64)>,
    pub position_ms: i64,
}

impl GroupSession {
    /// Each member's presence: from each check-in to the next check-out, or to `until`.
    pub fn presence(&self, until: i64) -> BTreeMap<String, IntervalSet> {
        let mut events = self.attendance.clone();
        events.sort_by_key(|e| (e.at_ms, e.present));
        let mut since: BTreeMap<&str, i64> = BTreeMap::new();
        let mut presence: BTreeMap<String, IntervalSet> = BTreeMap::new();
        for event in &events {
            match (event.present, since.get(event.member.as_str()).copied()) {
                (true, None) => {
                    since.insert(&event.member, event.at_ms);
                }
                (false, Some(from)) => {
                    presence
                        .entry(event.member.clone())
                        .or_default()
                        .insert(from, event.at_ms);
                    since.remove(event.member.as_str());
                }
                // A second check-in or a check-out without one changes nothing.
                _ => {}
            }
        }
        for (member, from) in since {
            presence
                .entry(member.to_string())
                .or_default()
                .insert(from, until);
        }
        presence
    }

    /// The plays the ended session credits: for each member, each stretch of presence during
    /// the playback, with the part of the lesson shown in it (played at an even pace).
    pub fn plays(&self) -> Vec<(String, Play)> {
        let Some(playback) = &self.playback else {
            return Vec::new();
        };
        let (from, to) = playback.wall;
        let span = i128::from((to - from).max(1));
        let shown: i64 = playback.played.iter().map(|(a, b)| b - a).sum();
        let media_at = |t: i64| (i128::from(t - from) * i128::from(shown) / span) as i64;
        let mut plays = Vec::new();
        for (member, stretches) in self.presence(to) {
            for (n, &(a, b)) in stretches.intervals().iter().enumerate() {
                let (a, b) = (a.max(from), b.min(to));
                if a >= b {
                    continue;
                }
                let upto = split_at_length(&playback.played, media_at(b)).0;
                let media = split_at_length(&upto, media_at(a)).1;
                let play = Play {
                    // A space cannot occur in a report id, so these never collide with one.
                    id: format!("{} {member} {n}", self.id),
                    lesson: self.lesson.clone(),
                    duration_ms: self.duration_ms,
                    wall: (a, b),
                    played: media,
                    position_ms: playback.position_ms,
                    session: Some(self.id.clone()),
                };
                plays.push((member.clone(), play));
            }
        }
        plays
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn session(attendance: &[(&str, bool, i64)]) -> GroupSession {
        GroupSession {
            id: "g1".into(),
            station: "st".into(),
            org: "b".into(),
            lesson: "l".into(),
            lang: Lang::chinese(),
            duration_ms: 30 * MIN,
            opened_ms: 0,
            attendance: attendance
                .iter()
                .map(|(m, p, at)| Attendance {
                    member: (*m).into(),
                    present: *p,
                    at_ms: *at,
                })
                .collect(),
            playback: Some(Playback {
                wall: (10 * MIN, 40 * MIN),
                played: vec![(0, 30 * MIN)],
                position_ms: 30 * MIN,
            }),
        }
    }

    #[test]
    fn a_late_arrival_and_an_early_leaver_get_their_overlap() {
        let s = session(&[
            ("on-time", true, 5 * MIN),
            ("late", true, 20 * MIN),
            ("leaver", true, 0),
            ("leaver", false, 25 * MIN),
            ("never-in", false, 15 * MIN),
        ]);
        let plays: BTreeMap<String, Play> = s.plays().into_iter().collect();
        assert_eq!(plays["on-time"].played, vec![(0, 30 * MIN)]);
        assert_eq!(plays["late"].played, vec![(10 * MIN, 30 * MIN)]);
        assert_eq!(plays["late"].wall, (20 * MIN, 40 * MIN));
        assert_eq!(plays["leaver"].played, vec![(0, 15 * MIN)]);
        assert!(!plays.contains_key("never-in"));
        assert!(plays.values().all(|p| p.session.as_deref() == Some("g1")));
    }

    #[test]
    fn stepping_out_and_back_makes_two_stretches() {
        let s = session(&[
            ("m", true, 10 * MIN),
            ("m", false, 15 * MIN),
            ("m", true, 20 * MIN),
        ]);
        let plays = s.plays();
        assert_eq!(plays.len(), 2);
        assert_eq!(plays[0].1.played, vec![(0, 5 * MIN)]);
        assert_eq!(plays[1].1.played, vec![(10 * MIN, 30 * MIN)]);
        assert_ne!(plays[0].1.id, plays[1].1.id);
    }
}
