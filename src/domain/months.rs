//! Which month of a year a member's credit belongs to, for the dashboard's chart of hours.
//!
//! Watched time belongs to the month in which it was earned: a month's share is how much the
//! year's credit grew during it, i.e. the credit of the member's plays cut off at the month's
//! end (a play crossing the boundary keeps the wall time before it and the media that wall
//! time can earn, exactly as the ledger splits a play at New Year) minus the credit at the
//! month's start. Boundaries are midnights in the ledger's time zone. The last cut is the
//! year's end, so the twelve shares add up to the year's credit exactly, whatever the union,
//! one-timeline and rate rules did inside it; the year's credit is taken from the totals the
//! ledger keeps, so the months add up to what the reports show. Only plays linked across a
//! month's end (by a lesson or overlapping wall time) need the cut computed. Registered hours
//! belong to the month of their date (a correction to the month of the entry it corrects, as
//! it does for the year).

use super::interval::split_at_length;
use super::ledger::{MemberLedger, Play, Rules};
use super::watch::Registration;
use std::collections::{BTreeMap, BTreeSet};

/// Months in the ledger's time zone.
#[derive(Debug, Clone)]
pub struct MonthCalendar(jiff::tz::TimeZone);

impl MonthCalendar {
    pub fn new(zone: &str) -> Result<MonthCalendar, String> {
        jiff::tz::TimeZone::get(zone)
            .map(MonthCalendar)
            .map_err(|e| format!("unknown time zone {zone:?}: {e}"))
    }

    /// The first millisecond of each month of `year`, then that of the next year: 13 bounds.
    pub fn bounds(&self, year: i32) -> Option<[i64; 13]> {
        let mut bounds = [0; 13];
        for (n, bound) in bounds.iter_mut().enumerate() {
            let (y, m) = if n == 12 {
                (year + 1, 1)
            } else {
                (year, n + 1)
            };
            let date = jiff::civil::Date::new(i16::try_from(y).ok()?, m as i8, 1).ok()?;
            *bound = date
                .to_zoned(self.0.clone())
                .ok()?
                .timestamp()
                .as_millisecond();
        }
        Some(bounds)
    }
}

/// The year and month (1-12) of a calendar date `YYYY-MM-DD`.
pub fn month_of_date(date: &str) -> Option<(i32, usize)> {
    let d = date.parse::<jiff::civil::Date>().ok()?;
    Some((i32::from(d.year()), d.month() as usize))
}

/// A play as far as `cut`: its wall time up to the cut, and the media that wall time can earn,
/// in the order played. None when it starts at or after the cut.
pub fn cut_play(play: &Play, cut: i64, rules: &Rules) -> Option<Play> {
    if play.wall.0 >= cut {
        return None;
    }
    if play.wall.1 <= cut {
        return Some(play.clone());
    }
    let media: Vec<(i64, i64)> = play
        .played
        .iter()
        .map(|&(a, b)| (a.max(0), b.min(play.duration_ms)))
        .filter(|(a, b)| a < b)
        .collect();
    let (head, _) = split_at_length(&media, (cut - play.wall.0) * rules.rate_milli / 1000);
    Some(Play {
        wall: (play.wall.0, cut),
        played: head,
        ..play.clone()
    })
}

/// Watched credit of `year` per month (January first). `lessons` is the year's credit per
/// lesson as the ledger keeps it; the months add up to its sum exactly.
pub fn watched_by_month(
    plays: &[Play],
    lessons: &BTreeMap<String, i64>,
    rules: &Rules,
    bounds: &[i64; 13],
    year: i32,
) -> [i64; 12] {
    // The plays with a part in the year (integer comparisons, not time-zone arithmetic).
    let in_year: Vec<&Play> = plays
        .iter()
        .filter(|p| p.wall.0 < bounds[12] && p.wall.1.max(p.wall.0 + 1) > bounds[0])
        .collect();
    let mut months = [0; 12];
    for group in linked(&in_year, rules.tolerance_ms) {
        let group_lessons: BTreeSet<&str> = group.iter().map(|p| p.lesson.as_str()).collect();
        let credit = group_lessons.iter().filter_map(|l| lessons.get(*l)).sum();
        let shares = group_by_month(&group, credit, rules, bounds, year);
        for (total, share) in months.iter_mut().zip(shares) {
            *total += share;
        }
    }
    months
}

/// The plays in groups that share no lesson and no wall time (tolerance included): the ledger
/// credits each group on its own, so a group's credit is the kept credit of its lessons. Most
/// groups lie inside one month and need no computation at all.
fn linked<'a>(plays: &[&'a Play], tolerance_ms: i64) -> Vec<Vec<&'a Play>> {
    let mut parent: Vec<usize> = (0..plays.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut join = |a: usize, b: usize| {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra] = rb;
    };
    let mut by_lesson: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, play) in plays.iter().enumerate() {
        if let Some(&first) = by_lesson.get(play.lesson.as_str()) {
            join(i, first);
        } else {
            by_lesson.insert(&play.lesson, i);
        }
    }
    let mut by_start: Vec<usize> = (0..plays.len()).collect();
    by_start.sort_by_key(|&i| plays[i].wall.0);
    let mut run: Option<(usize, i64)> = None;
    for i in by_start {
        let (from, to) = (plays[i].wall.0, plays[i].wall.1 + tolerance_ms);
        run = match run {
            Some((head, end)) if from < end => {
                join(i, head);
                Some((head, end.max(to)))
            }
            _ => Some((i, to)),
        };
    }
    let mut groups: BTreeMap<usize, Vec<&Play>> = BTreeMap::new();
    for (i, play) in plays.iter().enumerate() {
        groups.entry(root(&mut parent, i)).or_default().push(play);
    }
    groups.into_values().collect()
}

/// One group's credit (`credit`, the year's) per month: the credit of its plays cut at the end
/// of each month it reaches into, before the last such month, which brings the year's credit.
/// A month no play of the group reaches adds nothing to it.
fn group_by_month(
    group: &[&Play],
    credit: i64,
    rules: &Rules,
    bounds: &[i64; 13],
    year: i32,
) -> [i64; 12] {
    let reached: Vec<usize> = (1..=12)
        .filter(|&m| {
            let (start, end) = (bounds[m - 1], bounds[m]);
            group
                .iter()
                .any(|p| p.wall.0 < end && p.wall.1 + rules.tolerance_ms > start)
        })
        .collect();
    let last = reached.last().copied().unwrap_or(12);
    let mut cumulative = [0; 13];
    for month in 1..=12 {
        cumulative[month] = if month >= last {
            credit
        } else if reached.contains(&month) {
            let cut = bounds[month];
            let cut_plays = group
                .iter()
                .filter_map(|p| cut_play(p, cut, rules))
                .collect();
            MemberLedger::new(cut_plays, rules).year(year).credited_ms
        } else {
            cumulative[month - 1]
        };
    }
    settle(cumulative)
}

/// Registered time of `year` per month, adding up to what the year counts.
pub fn registered_by_month(entries: &[Registration], year: i32) -> [i64; 12] {
    let mut by_month = [0i64; 12];
    for entry in entries {
        let date = match &entry.corrects {
            Some(target) => match entries.iter().find(|r| &r.id == target) {
                Some(original) => &original.date,
                None => continue,
            },
            None => &entry.date,
        };
        if let Some((y, month)) = month_of_date(date) {
            if y == year {
                by_month[month - 1] += entry.duration_ms;
            }
        }
    }
    let mut cumulative = [0; 13];
    for month in 1..=12 {
        cumulative[month] = cumulative[month - 1] + by_month[month - 1];
    }
    settle(cumulative)
}

/// Monthly shares from running totals (`cumulative[0]` = 0, `[12]` = the year's): never
/// negative, and adding up to the year's total (kept at zero or more, as the year's is).
/// Running totals only fall through rounding (a rate other than 1 truncates per lesson) or a
/// correction counted before what it corrects; the fall is taken from the later months.
fn settle(cumulative: [i64; 13]) -> [i64; 12] {
    let total = cumulative[12].max(0);
    let mut level = 0;
    let mut months = [0; 12];
    for month in 1..=12 {
        let next = cumulative[month].max(level).min(total);
        months[month - 1] = next - level;
        level = next;
    }
    months
}

#[cfg(test)]
#[path = "months_tests.rs"]
mod tests;
