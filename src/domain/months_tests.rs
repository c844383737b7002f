use super::*;
use crate::domain::ledger::Calendar;
use proptest::prelude::*;

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;
/// 2026-01-01T00:00:00+08:00.
const JAN_1: i64 = 1_767_196_800_000;
/// 2026-04-01T00:00:00+08:00.
const APR_1: i64 = JAN_1 + (31 + 28 + 31) * DAY;
/// 2027-01-01T00:00:00+08:00.
const NEXT_JAN_1: i64 = 1_798_732_800_000;

fn rules(rate_milli: i64) -> Rules {
    Rules {
        rate_milli,
        tolerance_ms: 2000,
        calendar: Calendar::new("Asia/Shanghai").unwrap(),
    }
}

fn bounds() -> [i64; 13] {
    MonthCalendar::new("Asia/Shanghai")
        .unwrap()
        .bounds(2026)
        .unwrap()
}

fn play(id: &str, lesson: &str, wall: (i64, i64), played: &[(i64, i64)]) -> Play {
    Play {
        id: id.into(),
        lesson: lesson.into(),
        duration_ms: 30 * MIN,
        wall,
        played: played.to_vec(),
        position_ms: played.last().map_or(0, |p| p.1),
        session: None,
    }
}

/// The months of 2026 for these plays, given the year's lesson credits as the ledger keeps them.
fn months_of(plays: &[Play], rate_milli: i64) -> [i64; 12] {
    let rules = rules(rate_milli);
    let lessons = MemberLedger::new(plays.to_vec(), &rules).year(2026).lessons;
    watched_by_month(plays, &lessons, &rules, &bounds(), 2026)
}

fn month(n: usize, ms: i64) -> [i64; 12] {
    let mut months = [0; 12];
    months[n - 1] = ms;
    months
}

#[test]
fn months_begin_at_midnight_in_the_ledger_zone() {
    let b = bounds();
    assert_eq!(b[0], JAN_1);
    assert_eq!(b[3], APR_1);
    assert_eq!(b[12], NEXT_JAN_1);
    assert!(b.windows(2).all(|w| w[0] < w[1]));
    assert!(MonthCalendar::new("Mars/Olympus").is_err());
    assert_eq!(month_of_date("2026-07-31"), Some((2026, 7)));
    assert_eq!(month_of_date("2026-02-30"), None);
}

#[test]
fn a_play_inside_a_month_is_all_that_month() {
    let p = play(
        "a",
        "l",
        (APR_1 + DAY, APR_1 + DAY + 20 * MIN),
        &[(0, 20 * MIN)],
    );
    assert_eq!(months_of(&[p], 1000), month(4, 20 * MIN));
}

#[test]
fn a_play_across_midnight_of_the_last_of_march_is_split_by_its_wall_time() {
    // 23:50 to 00:10 in Shanghai, twenty minutes of media.
    let p = play(
        "a",
        "l",
        (APR_1 - 10 * MIN, APR_1 + 10 * MIN),
        &[(0, 20 * MIN)],
    );
    let mut want = [0; 12];
    want[2] = 10 * MIN;
    want[3] = 10 * MIN;
    assert_eq!(months_of(&[p], 1000), want);
}

#[test]
fn rewatching_in_april_what_march_credited_adds_nothing_to_april() {
    let march = play(
        "a",
        "l",
        (APR_1 - 2 * DAY, APR_1 - 2 * DAY + 10 * MIN),
        &[(0, 10 * MIN)],
    );
    let again = play(
        "b",
        "l",
        (APR_1 + DAY, APR_1 + DAY + 15 * MIN),
        &[(0, 15 * MIN)],
    );
    assert_eq!(
        months_of(&[again, march], 1000),
        [0, 0, 10 * MIN, 5 * MIN, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn only_the_part_of_a_new_year_play_inside_the_year_counts_in_december_and_in_january() {
    let p = play(
        "ny",
        "l",
        (NEXT_JAN_1 - 5 * MIN, NEXT_JAN_1 + 5 * MIN),
        &[(0, 10 * MIN)],
    );
    let eve = play(
        "eve",
        "k",
        (JAN_1 - 5 * MIN, JAN_1 + 5 * MIN),
        &[(0, 10 * MIN)],
    );
    let plays = [p, eve];
    let months = months_of(&plays, 1000);
    assert_eq!(months[11], 5 * MIN);
    assert_eq!(months[0], 5 * MIN);
    let year = MemberLedger::new(plays.to_vec(), &rules(1000)).year(2026);
    assert_eq!(months.iter().sum::<i64>(), year.credited_ms);
}

#[test]
fn registered_hours_count_in_the_month_of_their_date_and_corrections_in_the_corrected_ones() {
    let entry = |id: &str, date: &str, ms: i64, corrects: Option<&str>| Registration {
        id: id.into(),
        date: date.into(),
        duration_ms: ms,
        reason: "党课".into(),
        centralised: false,
        corrects: corrects.map(str::to_string),
    };
    let entries = [
        entry("a", "2026-02-20", 90 * MIN, None),
        entry("b", "2026-06-01", 45 * MIN, None),
        // Entered in July, it takes from February.
        entry("c", "2026-07-03", -45 * MIN, Some("a")),
        entry("d", "2025-12-31", 45 * MIN, None),
        entry("e", "2027-01-01", 45 * MIN, None),
        entry("f", "2026-05-05", -45 * MIN, Some("nothing")),
    ];
    let months = registered_by_month(&entries, 2026);
    assert_eq!(months, [0, 45 * MIN, 0, 0, 0, 45 * MIN, 0, 0, 0, 0, 0, 0]);
    let (year, _) = crate::domain::watch::registered(&entries, 2026);
    assert_eq!(months.iter().sum::<i64>(), year);
}

#[test]
fn settling_keeps_the_total_and_never_goes_below_zero() {
    let mut c = [0; 13];
    c[1..].copy_from_slice(&[5, 4, 4, 9, 9, 12, 11, 11, 11, 11, 11, 10]);
    let months = settle(c);
    assert!(months.iter().all(|m| *m >= 0), "{months:?}");
    assert_eq!(months.iter().sum::<i64>(), 10);
    assert_eq!(
        settle([0, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3]),
        [0; 12]
    );
}

/// Up to nine plays within two hours of the year's edges and of a few month boundaries, up to
/// an hour and a half long, of six lessons (so that some are linked only by overlapping in
/// time, and compete for it), with media that may run past the lesson's end.
fn arb_plays() -> impl Strategy<Value = Vec<Play>> {
    let anchors = prop::sample::select(vec![JAN_1, APR_1, APR_1 + 30 * DAY, NEXT_JAN_1]);
    let one = (
        anchors,
        -120 * MIN..120 * MIN,
        1000..90 * MIN,
        0usize..6,
        prop::collection::vec((0..40 * MIN, 0..20 * MIN), 1..4),
    );
    prop::collection::vec(one, 0..10).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(n, (anchor, offset, length, lesson, played))| {
                let from = anchor + offset;
                let played: Vec<(i64, i64)> =
                    played.into_iter().map(|(a, len)| (a, a + len)).collect();
                play(
                    &format!("p{n}"),
                    &format!("l{lesson}"),
                    (from, from + length),
                    &played,
                )
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_months_add_up_to_the_year_exactly(plays in arb_plays(), rate in prop::sample::select(vec![1000i64, 700, 1500])) {
        let year = MemberLedger::new(plays.clone(), &rules(rate)).year(2026).credited_ms;
        let months = months_of(&plays, rate);
        prop_assert!(months.iter().all(|m| *m >= 0), "{:?}", months);
        prop_assert_eq!(months.iter().sum::<i64>(), year);
    }

    #[test]
    fn the_months_are_the_growth_of_the_whole_years_credit_from_one_months_end_to_the_next(plays in arb_plays()) {
        // The definition, computed the slow way: every play cut at every month's end, no
        // groups, no kept credits.
        let rules = rules(1000);
        let bounds = bounds();
        let credit = |cut: i64| {
            let cut_plays = plays.iter().filter_map(|p| cut_play(p, cut, &rules)).collect();
            MemberLedger::new(cut_plays, &rules).year(2026).credited_ms
        };
        let mut want = [0; 12];
        for m in 1..=12 {
            want[m - 1] = credit(bounds[m]) - credit(bounds[m - 1]);
        }
        prop_assert_eq!(months_of(&plays, 1000), want);
    }

    #[test]
    fn at_rate_one_the_credit_earned_by_a_cut_only_grows_with_later_cuts(plays in arb_plays(), a in 0usize..13, b in 0usize..13) {
        let rules = rules(1000);
        let bounds = bounds();
        let (early, late) = (bounds[a.min(b)], bounds[a.max(b)]);
        let credit = |cut: i64| {
            let cut_plays = plays.iter().filter_map(|p| cut_play(p, cut, &rules)).collect();
            MemberLedger::new(cut_plays, &rules).year(2026).credited_ms
        };
        prop_assert!(credit(early) <= credit(late));
    }
}
