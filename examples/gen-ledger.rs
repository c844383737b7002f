//! Test data for scripts/bench-ledger: organisations, a year of watch reports for every member,
//! and the marginal cost of one report as a member's year fills up. Writes straight into the data
//! dir (YJ__STORAGE__DATA_DIR) through the library's own use cases, with no server running:
//!
//!   gen-ledger orgs FILE
//!       FILE: one organisation a line, `id,name,kind,parent` (parent empty for the top).
//!       Created with `people::create_org`, as `yuanjiao org add` would, in one process.
//!
//!   gen-ledger stations ORGS-FILE TOKENS-FILE
//!       Registers one station (terminal) for every `branch` organisation of ORGS-FILE, with
//!       `people::create_terminal` as `yuanjiao terminal add` would, and writes `org<TAB>token`
//!       lines to TOKENS-FILE: each station may credit only the members of its own branch.
//!
//!   gen-ledger year --members CSV --lessons TSV --year Y [--threads 2] [--batch 1000]
//!                   [--seed 1] [--min-hours 8] [--max-hours 48] [--diligent 0] [--split 1]
//!       CSV: the members file given to `yuanjiao member import` (column 1 id, column 4 posts).
//!       TSV: `lesson id <TAB> duration_ms <TAB> lang,lang` of published lessons.
//!       Every member studies towards a target drawn uniformly from [min, max] study hours of
//!       45 minutes (or, for `--diligent` percent of them, from [32, 48]): whole lessons (20-45 min) in sittings on random days of year Y, 08:00-22:00
//!       in ledger.timezone, mostly lessons not seen yet, one in ten a lesson seen before (which
//!       adds nothing), one in ten stopped part-way. Each sitting is sent as `--split` reports
//!       (1: one report per sitting, as a station uploads a finished play). Reports arrive week by
//!       week (a station uploading its week's plays): for each week the clock (a FixedClock) is
//!       set to an hour after the week ends and that week's reports go through
//!       `ledger::submit(&services, &Principal::Admin, "bench", batch)` in batches of `--batch`,
//!       one thread per share of the members, so every check (age, skew, ids, overlaps) applies
//!       as it would to real uploads. Prints KEY=value lines (counts, time, rate) on stdout.
//!
//!   gen-ledger probe --lessons TSV --member ID --reports K [--year Y]
//!       One member's year at heartbeat granularity: K reports of 30-60 s of a lesson each, one
//!       after another, each in its own `submit` (so each waits for its flush, like one POST).
//!       Prints the time per report at a few points as the year fills (the server recomputes the
//!       member's whole year on every report), then reopens the store and times one more report
//!       (the first report after a restart reads the member's entries back).
//!
//! Run with `cargo run --release --example gen-ledger -- ...`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use yuanjiao::clock::{Clock, FixedClock};
use yuanjiao::config::Settings;
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::org::{Org, Principal};
use yuanjiao::domain::watch::WatchReport;
use yuanjiao::ledger::{self, Outcome};
use yuanjiao::services::Services;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
const WEEK: i64 = 7 * DAY;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("orgs") if args.len() == 2 => orgs(&args[1]),
        Some("stations") if args.len() == 3 => stations(&args[1], &args[2]),
        Some("year") => year(&Flags::parse(&args[1..])),
        Some("probe") => probe(&Flags::parse(&args[1..])),
        _ => Err(
            "usage: gen-ledger orgs FILE | stations ORGS-FILE TOKENS-FILE | year --members CSV --lessons TSV --year Y \
                  [--threads N] [--batch N] [--seed N] [--min-hours H] [--max-hours H] [--diligent P] \
                  [--split K] \
                  | probe --lessons TSV --member ID --reports K [--year Y]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-ledger: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Flags {
        let mut map = HashMap::new();
        for pair in args.chunks(2) {
            if let [k, v] = pair {
                map.insert(k.trim_start_matches("--").to_string(), v.clone());
            }
        }
        Flags(map)
    }

    fn str(&self, key: &str) -> Res<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("--{key} is required").into())
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: Option<T>) -> Res<T> {
        match (self.0.get(key), default) {
            (Some(v), _) => v
                .parse()
                .map_err(|_| format!("--{key} {v:?}: not a number").into()),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(format!("--{key} is required").into()),
        }
    }
}

fn open(clock: Arc<dyn Clock>) -> Res<Services> {
    let settings = Settings::load(None)?;
    Ok(Services::open(settings, clock)?)
}

fn orgs(file: &str) -> Res<()> {
    let services = open(Arc::new(yuanjiao::clock::SystemClock))?;
    let started = Instant::now();
    let mut n = 0;
    for line in BufReader::new(std::fs::File::open(file)?).lines() {
        let line = line?;
        let f: Vec<&str> = line.split(',').collect();
        let [id, name, kind, parent] = f[..] else {
            return Err(format!("{file}: bad line {line:?}").into());
        };
        let org = Org {
            id: id.into(),
            name: name.into(),
            kind: serde_json::from_value(serde_json::Value::String(kind.into()))?,
            region: None,
            parent: (!parent.is_empty()).then(|| parent.to_string()),
        };
        yuanjiao::people::create_org(&services, &org, "bench")?;
        n += 1;
    }
    println!(
        "{n} organisations created in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn stations(orgs_file: &str, tokens_file: &str) -> Res<()> {
    let services = open(Arc::new(yuanjiao::clock::SystemClock))?;
    let mut tokens = String::new();
    for line in BufReader::new(std::fs::File::open(orgs_file)?).lines() {
        let line = line?;
        let f: Vec<&str> = line.split(',').collect();
        let [org, name, "branch", _] = f[..] else {
            continue;
        };
        let terminal = yuanjiao::repo::Terminal {
            id: format!("st-{org}"),
            name: format!("{name} station"),
            org: org.into(),
            languages: vec!["zh-Hans".parse()?],
            audiences: vec![],
            disabled: false,
        };
        let token = yuanjiao::people::create_terminal(&services, &terminal, "bench")?;
        tokens.push_str(&format!("{org}\t{token}\n"));
    }
    std::fs::write(tokens_file, tokens)?;
    Ok(())
}

struct Lesson {
    id: String,
    duration_ms: i64,
    langs: Vec<Lang>,
}

fn lessons(file: &str) -> Res<Vec<Lesson>> {
    let mut out = Vec::new();
    for line in BufReader::new(std::fs::File::open(file)?).lines() {
        let line = line?;
        let f: Vec<&str> = line.split('\t').collect();
        let [id, ms, langs] = f[..] else {
            return Err(format!("{file}: bad line {line:?}").into());
        };
        out.push(Lesson {
            id: id.into(),
            duration_ms: ms.parse()?,
            langs: langs.split(',').map(str::parse).collect::<Result<_, _>>()?,
        });
    }
    if out.is_empty() {
        return Err(format!("{file}: no lessons").into());
    }
    Ok(out)
}

/// splitmix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
}

/// One report, compactly, until it is sent.
#[derive(Clone, Copy)]
struct Planned {
    member: u32,
    lesson: u16,
    lang: u8,
    /// Which report of the member this is (for its id).
    n: u16,
    wall_from: i64,
    wall_to: i64,
    played_from: i64,
    played_to: i64,
}

fn ts(ms: i64) -> Res<jiff::Timestamp> {
    Ok(jiff::Timestamp::from_millisecond(ms)?)
}

fn to_report(p: &Planned, ids: &[String], lessons: &[Lesson], prefix: &str) -> Res<WatchReport> {
    let lesson = &lessons[p.lesson as usize];
    Ok(WatchReport {
        id: format!("{prefix}-{}-{}", ids[p.member as usize], p.n),
        member: ids[p.member as usize].clone(),
        lesson: lesson.id.clone(),
        lang: lesson.langs[p.lang as usize].clone(),
        played: vec![(p.played_from as u64, p.played_to as u64)],
        wall: (ts(p.wall_from)?, ts(p.wall_to)?),
        position_ms: p.played_to as u64,
        device_clock: None,
        group_session: None,
        play_session: None,
        grant: None,
        attention: Vec::new(),
    })
}

#[derive(Default)]
struct Tally {
    credited: u64,
    credited_ms: i64,
    duplicate: u64,
    rejected: u64,
    reasons: Vec<String>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Credited(ms) | Outcome::CreditedInPart { ms, .. } => {
                self.credited += 1;
                self.credited_ms += ms;
            }
            Outcome::Duplicate => self.duplicate += 1,
            Outcome::Rejected(why) => {
                self.rejected += 1;
                if self.reasons.len() < 5 {
                    self.reasons.push(why.to_string());
                }
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.credited += other.credited;
        self.credited_ms += other.credited_ms;
        self.duplicate += other.duplicate;
        self.rejected += other.rejected;
        for r in other.reasons {
            if self.reasons.len() < 5 {
                self.reasons.push(r);
            }
        }
    }
}

fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms as u64)
}

fn year(flags: &Flags) -> Res<()> {
    let members_file = flags.str("members")?;
    let lessons = lessons(flags.str("lessons")?)?;
    let year: i32 = flags.num("year", None)?;
    let threads: usize = flags.num("threads", Some(2))?;
    let batch: usize = flags.num("batch", Some(1000))?;
    let seed: u64 = flags.num("seed", Some(1))?;
    let min_hours: i64 = flags.num("min-hours", Some(8))?;
    let max_hours: i64 = flags.num("max-hours", Some(48))?;
    let split: i64 = flags.num("split", Some(1))?;
    let diligent: u64 = flags.num("diligent", Some(0))?;
    if threads == 0 || batch == 0 || split == 0 || max_hours < min_hours || lessons.len() > 60_000 {
        return Err("bad --threads, --batch, --split or hours".into());
    }

    let mut ids = Vec::new();
    for (n, line) in BufReader::new(std::fs::File::open(members_file)?)
        .lines()
        .enumerate()
    {
        let line = line?;
        if n > 0 && !line.is_empty() {
            ids.push(line.split(',').next().unwrap_or_default().to_string());
        }
    }

    let clock = Arc::new(FixedClock::new(SystemTime::now()));
    let services = Arc::new(open(clock.clone())?);
    let minutes_per_hour = i64::from(services.settings.ledger.minutes_per_hour);
    let calendar = services.settings.ledger_rules().calendar;
    let (start, end) = (calendar.year_start(year), calendar.year_start(year + 1));
    let days = (end - start) / DAY;

    // Plan every member's year, bucketed by the week its sittings end in.
    let planning = Instant::now();
    let weeks = ((end - start + WEEK - 1) / WEEK) as usize;
    let mut by_week: Vec<Vec<Planned>> = vec![Vec::new(); weeks];
    let (mut sittings, mut planned_ms, mut distinct) = (0u64, 0i64, 0usize);
    for (m, _) in ids.iter().enumerate() {
        let mut rng = Rng(seed ^ (m as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let (lo, hi) = if rng.range(0, 100) < diligent as i64 {
            (32, 48)
        } else {
            (min_hours, max_hours)
        };
        let target = rng.range(lo * 60, hi * 60 + 1) * MINUTE * minutes_per_hour / 60;
        // A personal order of the lessons; one sitting in ten goes back to one already seen.
        let mut order: Vec<u16> = (0..lessons.len() as u16).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.range(0, i as i64 + 1) as usize);
        }
        let (mut next, mut watched, mut n) = (0usize, 0i64, 0u16);
        while watched < target {
            let lesson = if next > 0 && rng.range(0, 10) == 0 {
                order[rng.range(0, next as i64) as usize]
            } else if next < order.len() {
                next += 1;
                order[next - 1]
            } else {
                break;
            };
            let l = &lessons[lesson as usize];
            let mut length = l.duration_ms;
            if rng.range(0, 10) == 0 {
                length = length * rng.range(20, 90) / 100;
            }
            let day = rng.range(0, days);
            let mut wall = start + day * DAY + rng.range(8 * 60, 21 * 60) * MINUTE;
            let lang = rng.range(0, l.langs.len() as i64) as u8;
            let pause = rng.range(0, 120) * 1000;
            for k in 0..split {
                let (from, to) = (length * k / split, length * (k + 1) / split);
                let wall_to = wall + (to - from) + pause / split;
                let week = (((wall_to - 1).min(end - 1) - start) / WEEK) as usize;
                by_week[week].push(Planned {
                    member: m as u32,
                    lesson,
                    lang,
                    n,
                    wall_from: wall,
                    wall_to,
                    played_from: from,
                    played_to: to,
                });
                n = n.wrapping_add(1);
                wall = wall_to;
            }
            watched += length;
            planned_ms += length;
            sittings += 1;
        }
        distinct += next;
    }
    let planned: usize = by_week.iter().map(Vec::len).sum();
    eprintln!(
        "gen-ledger: planned {planned} reports ({sittings} sittings) for {} members in {:.1} s",
        ids.len(),
        planning.elapsed().as_secs_f64()
    );

    let ids = Arc::new(ids);
    let lessons = Arc::new(lessons);
    let prefix = format!("y{year}s{seed}");
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut sent = 0usize;
    let mut slowest_batch = Duration::ZERO;
    for (w, week) in by_week.into_iter().enumerate() {
        // The week's uploads arrive an hour after it ends.
        clock.set(at((start + (w as i64 + 1) * WEEK).min(end) + 3_600_000));
        let mut shares: Vec<Vec<Planned>> = vec![Vec::new(); threads];
        for p in week {
            shares[p.member as usize % threads].push(p);
        }
        let results: Vec<Res<(Tally, Duration)>> = std::thread::scope(|s| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    let (services, ids, lessons, prefix) = (&services, &ids, &lessons, &prefix);
                    s.spawn(move || -> Res<(Tally, Duration)> {
                        let mut tally = Tally::default();
                        let mut slowest = Duration::ZERO;
                        for chunk in share.chunks(batch) {
                            let reports = chunk
                                .iter()
                                .map(|p| to_report(p, ids, lessons, prefix))
                                .collect::<Res<Vec<_>>>()?;
                            let t = Instant::now();
                            let outcomes =
                                ledger::submit(services, &Principal::Admin, "bench", reports)?;
                            slowest = slowest.max(t.elapsed());
                            outcomes.into_iter().for_each(|o| tally.add(o));
                        }
                        Ok((tally, slowest))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
                .collect()
        });
        for r in results {
            let (t, slowest) = r?;
            sent += (t.credited + t.duplicate + t.rejected) as usize;
            slowest_batch = slowest_batch.max(slowest);
            tally.merge(t);
        }
        if w % 8 == 7 || w + 1 == weeks {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "gen-ledger: week {}/{weeks}: {sent} reports in {secs:.0} s ({:.0}/s)",
                w + 1,
                sent as f64 / secs
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    for r in &tally.reasons {
        eprintln!("gen-ledger: rejected: {r}");
    }
    println!("GEN_MEMBERS={}", ids.len());
    println!("GEN_LESSONS={}", lessons.len());
    println!("GEN_SITTINGS={sittings}");
    println!(
        "GEN_LESSONS_PER_MEMBER={:.1}",
        distinct as f64 / ids.len().max(1) as f64
    );
    println!("GEN_REPORTS={sent}");
    println!("GEN_CREDITED={}", tally.credited);
    println!("GEN_DUPLICATE={}", tally.duplicate);
    println!("GEN_REJECTED={}", tally.rejected);
    println!(
        "GEN_PLANNED_HOURS={:.0}",
        planned_ms as f64 / (minutes_per_hour * MINUTE) as f64
    );
    println!(
        "GEN_CREDITED_HOURS={:.0}",
        tally.credited_ms as f64 / (minutes_per_hour * MINUTE) as f64
    );
    println!("GEN_SECS={secs:.1}");
    println!("GEN_RATE={:.0}", sent as f64 / secs);
    println!("GEN_SLOWEST_BATCH_MS={}", slowest_batch.as_millis());
    Ok(())
}

fn probe(flags: &Flags) -> Res<()> {
    let lessons = lessons(flags.str("lessons")?)?;
    let member = flags.str("member")?.to_string();
    let k: usize = flags.num("reports", None)?;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let clock = Arc::new(FixedClock::new(at(now_ms)));
    let mut services = open(clock.clone())?;
    // Heartbeats of 30-60 s, back to back through the lessons, two hours a day from 80 days ago
    // (within the 90 days a report is kept for: 2,000 heartbeats take about 13 days).
    let mut rng = Rng(7);
    let mut plan = Vec::with_capacity(k + 1);
    let mut wall = now_ms - 80 * DAY;
    let (mut lesson, mut pos, mut today) = (0usize, 0i64, 0i64);
    for n in 0..=k {
        let len = rng.range(30, 61) * 1000;
        let l = &lessons[lesson % lessons.len()];
        let to = (pos + len).min(l.duration_ms);
        plan.push(Planned {
            member: 0,
            lesson: (lesson % lessons.len()) as u16,
            lang: 0,
            n: n as u16,
            wall_from: wall,
            wall_to: wall + (to - pos),
            played_from: pos,
            played_to: to,
        });
        wall += to - pos;
        today += to - pos;
        pos = to;
        if pos >= l.duration_ms {
            lesson += 1;
            pos = 0;
        }
        if today >= 2 * 60 * MINUTE {
            wall += 22 * 60 * MINUTE;
            today = 0;
        }
    }
    if plan[k].wall_to > now_ms {
        return Err("--reports too large: the heartbeats would reach the future".into());
    }
    let ids = [member];
    let prefix = format!("probe{now_ms}");
    let mut marks: Vec<(usize, f64)> = Vec::new();
    let mut window = Vec::new();
    let started = Instant::now();
    for (n, p) in plan[..k].iter().enumerate() {
        let report = to_report(p, &ids, &lessons, &prefix)?;
        let t = Instant::now();
        let outcome = ledger::submit(&services, &Principal::Admin, "bench", vec![report])?;
        window.push(t.elapsed().as_secs_f64() * 1000.0);
        if !matches!(outcome[..], [Outcome::Credited(_)]) {
            return Err(format!("probe report {n}: {outcome:?}").into());
        }
        if n + 1 == 1 || (n + 1) % 100 == 0 || n + 1 == k {
            let mean = window.iter().sum::<f64>() / window.len() as f64;
            marks.push((n + 1, mean));
            window.clear();
        }
    }
    let total = started.elapsed().as_secs_f64();
    // The same member after a restart: the first report reads every entry back.
    drop(services);
    services = open(clock)?;
    let report = to_report(&plan[k], &ids, &lessons, &prefix)?;
    let t = Instant::now();
    let outcome = ledger::submit(&services, &Principal::Admin, "bench", vec![report])?;
    let after_restart = t.elapsed().as_secs_f64() * 1000.0;
    if !matches!(outcome[..], [Outcome::Credited(_)]) {
        return Err(format!("probe report after restart: {outcome:?}").into());
    }
    let pick = |n: usize| {
        marks
            .iter()
            .find(|(m, _)| *m >= n)
            .map_or(f64::NAN, |(_, ms)| *ms)
    };
    println!("PROBE_REPORTS={k}");
    println!("PROBE_TOTAL_SECS={total:.1}");
    println!("PROBE_FIRST_MS={:.2}", pick(1));
    println!("PROBE_AT100_MS={:.2}", pick(100));
    println!("PROBE_AT_HALF_MS={:.2}", pick(k / 2));
    println!("PROBE_AT_END_MS={:.2}", pick(k));
    println!("PROBE_AFTER_RESTART_MS={after_restart:.2}");
    for (n, ms) in marks {
        eprintln!("gen-ledger probe: reports up to {n}: {ms:.2} ms each");
    }
    Ok(())
}
