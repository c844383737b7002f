//! The crediting rules of the study-hour ledger. A member is credited, per year, the most lesson
//! time their plays can justify together:
//! - per (lesson, year), each millisecond of the lesson counts once (a union), and only inside
//!   the lesson's duration: rewatching, seeking back and double delivery add nothing;
//! - a member has one timeline: each wall-clock millisecond earns, through one play only, at
//!   most `rate` media milliseconds — fast-forward and two devices at once earn no more;
//! - a play's wall interval is extended by the tolerance, so a report whose media runs a little
//!   longer than its clock still earns all of it, and back-to-back reports share the slack;
//! - a play spanning New Year is split: media goes to the old year up to what its wall time
//!   there can earn, the rest to the new year, where the lesson counts afresh.
//!
//! "The most they can justify" is a maximum flow from wall time through plays to lesson time.
//! It depends only on the set of plays — not the order they arrived in, nor repeats — and
//! adding a play can never lower it.

pub use super::calendar::Calendar;
use super::flow::FlowGraph;
use super::interval::split_at_length;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The rule parameters (from the `ledger` settings).
#[derive(Debug, Clone)]
pub struct Rules {
    /// Media ms creditable per 1000 wall ms (max_rate × 1000).
    pub rate_milli: i64,
    pub tolerance_ms: i64,
    pub calendar: Calendar,
}

/// A report ready to credit: wall times corrected, media clipped to the lesson.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Play {
    pub id: String,
    pub lesson: String,
    pub duration_ms: i64,
    /// Epoch milliseconds, `[from, to)`.
    pub wall: (i64, i64),
    /// Media milliseconds in the order played.
    pub played: Vec<(i64, i64)>,
    pub position_ms: i64,
    /// The group session this play was part of (centralised training).
    pub session: Option<String>,
}

impl Play {
    fn key(&self) -> (i64, i64, &str) {
        (self.wall.0, self.wall.1, &self.id)
    }

    /// The played media inside the lesson, in the order played.
    fn media(&self) -> Vec<(i64, i64)> {
        self.clipped().collect()
    }

    fn clipped(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.played
            .iter()
            .map(|&(a, b)| (a.max(0), b.min(self.duration_ms)))
            .filter(|(a, b)| a < b)
    }

    /// Whether the play has a part in `year`, given the first and last years it touches.
    fn in_year(&self, (first, last): (i32, i32), year: i32) -> bool {
        first <= year && year <= last && self.wall.0 < self.wall.1
    }

    /// The wall time of a play inside one year: with the tolerance, up to the year's end.
    fn wall_within(&self, year_end: i64, rules: &Rules) -> (i64, i64) {
        (
            self.wall.0,
            (self.wall.1 + rules.tolerance_ms).min(year_end),
        )
    }
}

/// What one year of a member's ledger adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearTotal {
    pub credited_ms: i64,
    pub lessons: BTreeMap<String, i64>,
    /// Group sessions the member took part in (centralised training).
    pub sessions: BTreeSet<String>,
}

/// A member's plays and what they earn.
#[derive(Debug, Clone, Default)]
pub struct MemberLedger {
    /// In canonical order: wall start, wall end, id.
    plays: Vec<Play>,
    /// The first and last year each play touches, beside it (finding them costs time-zone
    /// arithmetic, so it is done once).
    spans: Vec<(i32, i32)>,
    /// Each play's number in `links`, beside it: numbers are given in arrival order and kept
    /// while later plays are inserted before.
    numbers: Vec<usize>,
    /// Per year, which plays are linked: a union-find over play numbers. Links only ever join
    /// (plays are never taken away), so a new play's group is found without a pass over the
    /// whole year.
    links: BTreeMap<i32, Vec<usize>>,
    years: BTreeMap<i32, YearTotal>,
}

/// The part of a play that falls in one year.
struct Part<'a> {
    lesson: &'a str,
    wall: (i64, i64),
    media: Vec<(i64, i64)>,
}

impl MemberLedger {
    pub fn new(mut plays: Vec<Play>, rules: &Rules) -> MemberLedger {
        // The first of a repeated id counts, as `add` would have it.
        let mut seen = BTreeSet::new();
        plays.retain(|p| seen.insert(p.id.clone()));
        plays.sort_by(|a, b| a.key().cmp(&b.key()));
        let spans = plays.iter().map(|p| span_of(p, rules)).collect();
        let numbers = (0..plays.len()).collect();
        let mut ledger = MemberLedger {
            plays,
            spans,
            numbers,
            links: BTreeMap::new(),
            years: BTreeMap::new(),
        };
        let years: BTreeSet<i32> = ledger
            .plays
            .iter()
            .flat_map(|p| years_of(p, rules))
            .collect();
        for year in years {
            ledger.recompute(year, rules);
        }
        ledger
    }

    /// Adds a play (a repeated id changes nothing); returns how much the member's total grew.
    pub fn add(&mut self, play: Play, rules: &Rules) -> i64 {
        if self.plays.iter().any(|p| p.id == play.id) {
            return 0;
        }
        let before = self.total_ms();
        let years = years_of(&play, rules);
        let at = self.plays.partition_point(|p| p.key() < play.key());
        self.spans.insert(at, span_of(&play, rules));
        self.numbers.insert(at, self.plays.len());
        self.plays.insert(at, play);
        for year in years {
            self.recompute_around(year, at, rules);
        }
        self.total_ms() - before
    }

    pub fn plays(&self) -> &[Play] {
        &self.plays
    }

    pub fn total_ms(&self) -> i64 {
        self.years.values().map(|y| y.credited_ms).sum()
    }

    pub fn years(&self) -> impl Iterator<Item = (&i32, &YearTotal)> {
        self.years.iter()
    }

    pub fn year(&self, year: i32) -> YearTotal {
        self.years.get(&year).cloned().unwrap_or_default()
    }

    /// Lesson → (position, wall end) of the play that ended last.
    pub fn resume(&self) -> BTreeMap<&str, (i64, i64)> {
        let mut latest: BTreeMap<&str, (i64, &str, i64)> = BTreeMap::new();
        for p in &self.plays {
            let candidate = (
                p.wall.1,
                p.id.as_str(),
                p.position_ms.clamp(0, p.duration_ms),
            );
            let slot = latest.entry(p.lesson.as_str()).or_insert(candidate);
            if (candidate.0, candidate.1) > (slot.0, slot.1) {
                *slot = candidate;
            }
        }
        latest
            .into_iter()
            .map(|(lesson, (at, _, position))| (lesson, (position, at)))
            .collect()
    }

    /// The plays with a part in `year`, by index, with that part.
    fn parts_in<'a>(
        plays: &'a [Play],
        spans: &[(i32, i32)],
        year: i32,
        rules: &Rules,
        mut keep: impl FnMut(usize) -> bool,
    ) -> Vec<(usize, Part<'a>)> {
        let year_end = rules.calendar.year_start(year + 1);
        (0..plays.len())
            .filter(|&i| keep(i))
            .filter_map(|i| part_in(&plays[i], spans[i], year, year_end, rules).map(|p| (i, p)))
            .collect()
    }

    /// Credits a year again from all its plays, and links them afresh.
    fn recompute(&mut self, year: i32, rules: &Rules) {
        let MemberLedger {
            plays,
            spans,
            numbers,
            links,
            years,
        } = self;
        let parts = Self::parts_in(plays, spans, year, rules, |_| true);
        let all: Vec<&Part> = parts.iter().map(|(_, p)| p).collect();
        let group = components(&all);
        let parent = links.entry(year).or_default();
        *parent = (0..numbers.len()).collect();
        for ((i, _), g) in parts.iter().zip(&group) {
            parent[numbers[*i]] = numbers[parts[*g].0];
        }
        let total = years.entry(year).or_default();
        total.lessons = credit_by_group(&all, &group, rules.rate_milli);
        finish_year(years, year, sessions_in(plays, spans, year));
    }

    /// Credits a year again after the play at `at` was added: only the plays linked to it can
    /// change, by what their flow with the new play is minus their flow without it. Plays are
    /// linked when they share wall time or the same stretch of a lesson, directly or through
    /// others; the flow of credit never crosses from one linked group to another. A busy
    /// member's report thus costs a scan of their year (comparing numbers) and a flow over
    /// one sitting or so, not a flow over the whole year.
    fn recompute_around(&mut self, year: i32, at: usize, rules: &Rules) {
        let MemberLedger {
            plays,
            spans,
            numbers,
            links,
            years,
        } = self;
        let year_end = rules.calendar.year_start(year + 1);
        let Some(new_part) = part_in(&plays[at], spans[at], year, year_end, rules) else {
            return;
        };
        let parent = links.entry(year).or_default();
        parent.extend(parent.len()..numbers.len());
        let new_number = numbers[at];
        for (i, play) in plays.iter().enumerate() {
            if i != at && linked(play, spans[i], &new_part, year, year_end, rules) {
                union(parent, numbers[i], new_number);
            }
        }
        let new_root = root(parent, new_number);
        let group = Self::parts_in(plays, spans, year, rules, |i| {
            root(parent, numbers[i]) == new_root
        });
        let linked_parts: Vec<&Part> = group.iter().map(|(_, p)| p).collect();
        let without: Vec<&Part> = group
            .iter()
            .filter(|(i, _)| *i != at)
            .map(|(_, p)| p)
            .collect();
        let total = years.entry(year).or_default();
        // A lesson may lose credit to another in the new flow, even down to none.
        for (lesson, was) in credit(&without, rules.rate_milli) {
            *total.lessons.entry(lesson).or_default() -= was;
        }
        // One linked group: its flow is its credit.
        for (lesson, now) in most_justified(&linked_parts, rules.rate_milli) {
            *total.lessons.entry(lesson).or_default() += now;
        }
        total.lessons.retain(|_, credit| *credit != 0);
        finish_year(years, year, sessions_in(plays, spans, year));
    }
}

/// Sets a year's sum and sessions, and forgets a year that holds nothing.
fn finish_year(years: &mut BTreeMap<i32, YearTotal>, year: i32, sessions: BTreeSet<String>) {
    let Some(total) = years.get_mut(&year) else {
        return;
    };
    total.credited_ms = total.lessons.values().sum();
    total.sessions = sessions;
    if *total == YearTotal::default() {
        years.remove(&year);
    }
}

/// The group sessions of the plays with a part in `year`.
fn sessions_in(plays: &[Play], spans: &[(i32, i32)], year: i32) -> BTreeSet<String> {
    plays
        .iter()
        .zip(spans)
        .filter(|(p, span)| p.in_year(**span, year))
        .filter_map(|(p, _)| p.session.clone())
        .collect()
}

/// A play's part in `year`; a play inside the year is cut as `split_by_year` would cut it.
fn part_in<'a>(
    play: &'a Play,
    span: (i32, i32),
    year: i32,
    year_end: i64,
    rules: &Rules,
) -> Option<Part<'a>> {
    if !play.in_year(span, year) {
        return None;
    }
    if span.0 < span.1 {
        return year_part(play, year, rules);
    }
    Some(Part {
        lesson: &play.lesson,
        wall: play.wall_within(year_end, rules),
        media: play.media(),
    })
}

/// Whether a play's part in `year` shares wall time or a stretch of its lesson with `part`
/// (the same test as `components`, pair by pair), without building the part when it can.
fn linked(
    play: &Play,
    span: (i32, i32),
    part: &Part,
    year: i32,
    year_end: i64,
    rules: &Rules,
) -> bool {
    if !play.in_year(span, year) {
        return false;
    }
    if span.0 < span.1 {
        return year_part(play, year, rules)
            .is_some_and(|own| shares(&play.lesson, own.wall, own.media.into_iter(), part));
    }
    shares(
        &play.lesson,
        play.wall_within(year_end, rules),
        play.clipped(),
        part,
    )
}

/// Whether wall time and media of `lesson` overlap a part's.
fn shares(
    lesson: &str,
    wall: (i64, i64),
    mut media: impl Iterator<Item = (i64, i64)>,
    part: &Part,
) -> bool {
    let overlap = |(a, b): (i64, i64), (c, d): (i64, i64)| a < d && c < b;
    overlap(wall, part.wall)
        || (lesson == part.lesson && media.any(|m| part.media.iter().any(|n| overlap(m, *n))))
}

/// Finds the root of `i`, halving the path on the way.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (root(parent, a), root(parent, b));
    parent[ra] = rb;
}

/// The part of a play that falls in `year`, if any.
fn year_part<'a>(play: &'a Play, year: i32, rules: &Rules) -> Option<Part<'a>> {
    split_by_year(play, rules)
        .into_iter()
        .find_map(|(y, part)| (y == year).then_some(part))
}

/// Which parts are linked, by overlapping wall time or by overlapping stretches of the same
/// lesson (the nodes they would share in the flow): a group number each.
fn components(parts: &[&Part]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..parts.len()).collect();
    sweep(
        &mut parent,
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| (0, p.wall.0, p.wall.1, i))
            .collect(),
    );
    let mut lesson_numbers: HashMap<&str, usize> = HashMap::new();
    let mut media = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let next = lesson_numbers.len();
        let lesson = *lesson_numbers.entry(part.lesson).or_insert(next);
        media.extend(part.media.iter().map(|&(a, b)| (lesson, a, b, i)));
    }
    sweep(&mut parent, media);
    (0..parts.len()).map(|i| root(&mut parent, i)).collect()
}

/// Joins the parts of overlapping `(key, from, to, part)` spans with the same key.
fn sweep(parent: &mut [usize], mut spans: Vec<(usize, i64, i64, usize)>) {
    spans.sort_unstable();
    let mut run: Option<(usize, i64, usize)> = None;
    for (key, from, to, i) in spans {
        run = match run {
            Some((k, end, head)) if k == key && from < end => {
                union(parent, i, head);
                Some((k, end.max(to), head))
            }
            _ => Some((key, to, i)),
        };
    }
}

fn span_of(play: &Play, rules: &Rules) -> (i32, i32) {
    let years = years_of(play, rules);
    (
        years.first().copied().unwrap_or(0),
        years.last().copied().unwrap_or(0),
    )
}

/// The years a play's wall interval touches.
pub fn years_of(play: &Play, rules: &Rules) -> Vec<i32> {
    let first = rules.calendar.year_of(play.wall.0);
    let last = rules.calendar.year_of(play.wall.1.max(play.wall.0 + 1) - 1);
    (first..=last).collect()
}

/// A play's parts, one per year its wall interval touches. Media goes to each year up to what
/// its wall time there can earn; the tolerance extends the last part, but not past its year.
fn split_by_year<'a>(play: &'a Play, rules: &Rules) -> Vec<(i32, Part<'a>)> {
    let mut parts = Vec::new();
    let (from, to) = play.wall;
    if from >= to {
        return parts;
    }
    let mut media = play.media();
    let mut start = from;
    loop {
        let year = rules.calendar.year_of(start);
        let year_end = rules.calendar.year_start(year + 1);
        let end = year_end.min(to);
        let last = end >= to;
        let part_media = if last {
            std::mem::take(&mut media)
        } else {
            let (head, tail) = split_at_length(&media, (end - start) * rules.rate_milli / 1000);
            media = tail;
            head
        };
        let wall_end = if last {
            (end + rules.tolerance_ms).min(year_end)
        } else {
            end
        };
        parts.push((
            year,
            Part {
                lesson: &play.lesson,
                wall: (start, wall_end),
                media: part_media,
            },
        ));
        if last {
            return parts;
        }
        start = end;
    }
}

const UNLIMITED: i64 = i64::MAX / 4;

/// Whole milliseconds per lesson that the parts earn, counted group by linked group (so a
/// year's total is the same however its plays arrived: each group's credit is rounded alone).
fn credit(parts: &[&Part], rate_milli: i64) -> BTreeMap<String, i64> {
    credit_by_group(parts, &components(parts), rate_milli)
}

/// As `credit`, with the parts' groups known.
fn credit_by_group(parts: &[&Part], group: &[usize], rate_milli: i64) -> BTreeMap<String, i64> {
    let mut groups: BTreeMap<usize, Vec<&Part>> = BTreeMap::new();
    for (part, g) in parts.iter().zip(group) {
        groups.entry(*g).or_default().push(part);
    }
    let mut credited: BTreeMap<String, i64> = BTreeMap::new();
    for members in groups.values() {
        for (lesson, ms) in most_justified(members, rate_milli) {
            *credited.entry(lesson).or_default() += ms;
        }
    }
    credited
}

/// The most lesson time, per lesson, that the parts can earn together: a flow from wall-time
/// segments (each earns at most its length × rate, once) through the parts covering them, to
/// lesson-time segments (each counts once). Capacities are in thousandths of a millisecond so
/// the rate stays an integer.
fn most_justified(parts: &[&Part], rate_milli: i64) -> BTreeMap<String, i64> {
    let mut graph = FlowGraph::new(2);
    let (source, sink) = (0, 1);
    let mut wall_points: Vec<i64> = parts.iter().flat_map(|p| [p.wall.0, p.wall.1]).collect();
    wall_points.sort_unstable();
    wall_points.dedup();
    let wall_nodes: Vec<usize> = wall_points
        .windows(2)
        .map(|w| {
            let node = graph.add_node();
            graph.add_edge(source, node, (w[1] - w[0]) * rate_milli);
            node
        })
        .collect();
    let mut media_points: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for part in parts {
        let points = media_points.entry(part.lesson).or_default();
        points.extend(part.media.iter().flat_map(|&(a, b)| [a, b]));
    }
    // Lesson → its segments' nodes and the edges that carry their credit to the sink.
    let mut media_nodes: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (lesson, points) in &mut media_points {
        points.sort_unstable();
        points.dedup();
        let nodes = points
            .windows(2)
            .map(|w| {
                let node = graph.add_node();
                (node, graph.add_edge(node, sink, (w[1] - w[0]) * 1000))
            })
            .collect();
        media_nodes.insert(lesson, nodes);
    }
    let index = |points: &[i64], at: i64| points.partition_point(|p| *p < at);
    for part in parts {
        let node = graph.add_node();
        let covered = index(&wall_points, part.wall.0)..index(&wall_points, part.wall.1);
        for &wall in &wall_nodes[covered] {
            graph.add_edge(wall, node, UNLIMITED);
        }
        let (Some(points), Some(nodes)) =
            (media_points.get(part.lesson), media_nodes.get(part.lesson))
        else {
            continue;
        };
        for &(a, b) in &part.media {
            for &(media, _) in &nodes[index(points, a)..index(points, b)] {
                graph.add_edge(node, media, UNLIMITED);
            }
        }
    }
    graph.max_flow(source, sink);
    media_nodes
        .into_iter()
        .map(|(lesson, nodes)| {
            let credit: i64 = nodes.iter().map(|(_, edge)| graph.flow(*edge)).sum();
            (lesson.to_string(), credit / 1000)
        })
        .filter(|(_, credit)| *credit > 0)
        .collect()
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
