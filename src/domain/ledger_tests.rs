use super::*;
use crate::domain::interval::IntervalSet;
use proptest::prelude::*;

const MIN: i64 = 60_000;
/// 2026-03-01T08:00:00+08:00.
const T0: i64 = 1_772_323_200_000;

fn rules() -> Rules {
    Rules {
        rate_milli: 1000,
        tolerance_ms: 2000,
        calendar: Calendar::new("Asia/Shanghai").unwrap(),
    }
}

fn play(id: &str, lesson: &str, wall: (i64, i64), played: &[(i64, i64)]) -> Play {
    Play {
        id: id.into(),
        lesson: lesson.into(),
        duration_ms: 10 * MIN,
        wall,
        played: played.to_vec(),
        position_ms: played.last().map_or(0, |p| p.1),
        session: None,
    }
}

fn total(plays: Vec<Play>) -> i64 {
    MemberLedger::new(plays, &rules()).total_ms()
}

#[test]
fn years_begin_at_midnight_in_the_configured_zone() {
    let c = Calendar::new("Asia/Shanghai").unwrap();
    let new_year = c.year_start(2027);
    // 2026-12-31T16:00:00Z is midnight in Beijing.
    assert_eq!(new_year, 1_798_732_800_000);
    assert_eq!(c.year_of(new_year - 1), 2026);
    assert_eq!(c.year_of(new_year), 2027);
    assert!(Calendar::new("Mars/Olympus").is_err());
    assert_eq!(Calendar::year_of_date("2026-07-01"), Some(2026));
    assert_eq!(Calendar::year_of_date("2026-13-01"), None);
}

#[test]
fn seeking_to_the_end_earns_only_what_was_played() {
    let p = play(
        "a",
        "l",
        (T0, T0 + 30_000),
        &[(0, 10_000), (590_000, 600_000)],
    );
    assert_eq!(total(vec![p]), 20_000);
}

#[test]
fn fast_forward_earns_wall_time_and_the_tolerance_only() {
    let p = play("a", "l", (T0, T0 + MIN), &[(0, 10 * MIN)]);
    assert_eq!(total(vec![p]), MIN + 2000);
}

#[test]
fn rewatching_adds_nothing_within_a_year() {
    let first = play("a", "l", (T0, T0 + 5 * MIN), &[(0, 5 * MIN)]);
    let again = play("b", "l", (T0 + 10 * MIN, T0 + 15 * MIN), &[(0, 5 * MIN)]);
    let third = play("c", "l", (T0 + 20 * MIN, T0 + 25 * MIN), &[(0, 5 * MIN)]);
    assert_eq!(total(vec![first, again, third]), 5 * MIN);
}

#[test]
fn two_devices_at_once_earn_one_timeline() {
    let phone = play("a", "l1", (T0, T0 + 5 * MIN), &[(0, 5 * MIN)]);
    let station = play("b", "l2", (T0, T0 + 5 * MIN), &[(0, 5 * MIN)]);
    let ledger = MemberLedger::new(vec![phone, station], &rules());
    assert_eq!(
        ledger.total_ms(),
        5 * MIN + 2000,
        "one timeline and one tolerance"
    );
}

#[test]
fn a_late_play_that_bridges_two_sittings_is_credited_as_if_all_came_at_once() {
    let first = play("a", "l1", (T0, T0 + 5 * MIN), &[(0, 5 * MIN)]);
    let second = play("b", "l2", (T0 + 10 * MIN, T0 + 15 * MIN), &[(0, 5 * MIN)]);
    // Shares wall time with both sittings and lesson time with the first.
    let bridge = play("c", "l1", (T0 + 4 * MIN, T0 + 11 * MIN), &[(0, 9 * MIN)]);
    let plays = [first, second, bridge];
    let whole = MemberLedger::new(plays.to_vec(), &rules());
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let mut one_by_one = MemberLedger::new(vec![], &rules());
        for i in order {
            one_by_one.add(plays[i].clone(), &rules());
        }
        assert_eq!(one_by_one.year(2026), whole.year(2026), "order {order:?}");
    }
    assert!(whole.total_ms() > total(plays[..2].to_vec()));
}

#[test]
fn time_not_credited_can_be_earned_later() {
    // Played 10 minutes of media in 5 minutes: only the first 5 (and the tolerance) count, so
    // watching minutes 5-10 properly later earns them.
    let fast = play("a", "l", (T0, T0 + 5 * MIN), &[(0, 10 * MIN)]);
    let proper = play(
        "b",
        "l",
        (T0 + 60 * MIN, T0 + 65 * MIN),
        &[(5 * MIN, 10 * MIN)],
    );
    assert_eq!(total(vec![fast, proper]), 10 * MIN);
}

#[test]
fn a_play_across_new_year_is_split() {
    let c = rules().calendar;
    let midnight = c.year_start(2027);
    let p = play(
        "a",
        "l",
        (midnight - 2 * MIN, midnight + 3 * MIN),
        &[(0, 5 * MIN)],
    );
    let ledger = MemberLedger::new(vec![p], &rules());
    assert_eq!(ledger.year(2026).credited_ms, 2 * MIN);
    assert_eq!(ledger.year(2027).credited_ms, 3 * MIN);
    // The same lesson studied again next year counts again.
    let again = play(
        "b",
        "l",
        (midnight + MIN * 60, midnight + MIN * 65),
        &[(0, 5 * MIN)],
    );
    let ledger = MemberLedger::new(vec![ledger.plays()[0].clone(), again], &rules());
    assert_eq!(ledger.year(2027).credited_ms, 5 * MIN);
}

#[test]
fn resume_follows_the_latest_wall_time_whatever_the_arrival_order() {
    let late = play("late", "l", (T0 + 10 * MIN, T0 + 11 * MIN), &[(0, MIN)]);
    let early = play("early", "l", (T0, T0 + 5 * MIN), &[(0, 5 * MIN)]);
    let mut ledger = MemberLedger::new(vec![late], &rules());
    ledger.add(early, &rules());
    assert_eq!(ledger.resume().get("l"), Some(&(MIN, T0 + 11 * MIN)));
}

#[test]
fn a_late_play_from_the_past_is_credited_in_order() {
    let mut ledger = MemberLedger::new(vec![], &rules());
    let later = play("b", "l2", (T0 + MIN, T0 + 3 * MIN), &[(0, 2 * MIN)]);
    let earlier = play("a", "l1", (T0, T0 + 2 * MIN), &[(0, 2 * MIN)]);
    assert_eq!(ledger.add(later, &rules()), 2 * MIN);
    // The earlier play takes its own minutes; the later keeps only what is still free.
    let added = ledger.add(earlier, &rules());
    assert_eq!(ledger.total_ms(), MIN * 3 + 2000);
    assert_eq!(added, ledger.total_ms() - 2 * MIN);
}

// ---------------------------------------------------------------- properties

fn arb_play(n: usize) -> impl Strategy<Value = Play> {
    (
        0i64..3,
        0i64..(40 * MIN),
        1i64..(8 * MIN),
        prop::collection::vec((0i64..(12 * MIN), 1i64..(6 * MIN)), 1..4),
    )
        .prop_map(move |(lesson, start, len, played)| Play {
            id: format!("p{n}"),
            lesson: format!("l{lesson}"),
            duration_ms: 10 * MIN,
            wall: (T0 + start, T0 + start + len),
            played: played.into_iter().map(|(a, l)| (a, a + l)).collect(),
            position_ms: 0,
            session: None,
        })
}

fn arb_plays() -> impl Strategy<Value = Vec<Play>> {
    (1usize..9).prop_flat_map(|n| (0..n).map(arb_play).collect::<Vec<_>>())
}

fn wall_passed(plays: &[Play], tolerance: i64) -> i64 {
    let mut walls = IntervalSet::new();
    for p in plays {
        walls.insert(p.wall.0, p.wall.1 + tolerance);
    }
    walls.measure()
}

proptest! {
    #[test]
    fn totals_do_not_depend_on_order_or_repetition(
        plays in arb_plays(),
        order in any::<prop::sample::Index>(),
        repeat in any::<prop::sample::Index>(),
    ) {
        let whole = MemberLedger::new(plays.clone(), &rules());
        let mut shuffled = plays.clone();
        let k = order.index(shuffled.len());
        shuffled.rotate_left(k);
        shuffled.reverse();
        shuffled.push(plays[repeat.index(plays.len())].clone());
        let mut one_by_one = MemberLedger::new(vec![], &rules());
        for p in shuffled {
            one_by_one.add(p, &rules());
        }
        prop_assert_eq!(one_by_one.total_ms(), whole.total_ms());
        prop_assert_eq!(one_by_one.year(2026), whole.year(2026));
    }

    #[test]
    fn no_lesson_earns_more_than_its_duration_nor_a_member_more_than_the_time_that_passed(
        plays in arb_plays(),
    ) {
        let ledger = MemberLedger::new(plays.clone(), &rules());
        for credited in ledger.year(2026).lessons.values() {
            prop_assert!(*credited <= 10 * MIN);
        }
        prop_assert!(ledger.total_ms() <= wall_passed(&plays, rules().tolerance_ms));
    }

    #[test]
    fn adding_a_report_never_lowers_a_total(plays in arb_plays(), extra in arb_play(99)) {
        let before = MemberLedger::new(plays.clone(), &rules()).total_ms();
        let mut more = plays;
        more.push(extra);
        prop_assert!(MemberLedger::new(more, &rules()).total_ms() >= before);
    }

    #[test]
    fn a_report_across_new_year_splits_into_parts_that_sum_to_the_whole(
        before_midnight in 1i64..(10 * MIN),
        after_midnight in 1i64..(10 * MIN),
        pieces in prop::collection::vec((0i64..(2 * MIN), 1i64..(3 * MIN)), 1..4),
    ) {
        let midnight = rules().calendar.year_start(2027);
        // Distinct parts of the lesson: played twice, a part could rightly count in both years.
        let mut played = Vec::new();
        let mut end = 0;
        for (gap, len) in pieces {
            played.push((end + gap, end + gap + len));
            end += gap + len;
        }
        let len = before_midnight + after_midnight;
        let across = play("x", "l", (midnight - before_midnight, midnight + after_midnight), &played);
        let within = play("x", "l", (T0, T0 + len), &played);
        let split = MemberLedger::new(vec![across], &rules());
        let whole = MemberLedger::new(vec![within], &rules()).total_ms();
        prop_assert_eq!(split.year(2026).credited_ms + split.year(2027).credited_ms, whole);
    }

    #[test]
    fn plays_around_new_year_credit_the_same_one_by_one_as_all_at_once(
        plays in arb_plays(),
        order in any::<prop::sample::Index>(),
    ) {
        // The same plays moved to straddle midnight, so some cross into the next year.
        let shift = rules().calendar.year_start(2027) - T0 - 20 * MIN;
        let plays: Vec<Play> = plays
            .into_iter()
            .map(|p| Play { wall: (p.wall.0 + shift, p.wall.1 + shift), ..p })
            .collect();
        let whole = MemberLedger::new(plays.clone(), &rules());
        let mut shuffled = plays;
        let k = order.index(shuffled.len());
        shuffled.rotate_left(k);
        let mut one_by_one = MemberLedger::new(vec![], &rules());
        for p in shuffled {
            one_by_one.add(p, &rules());
        }
        prop_assert_eq!(one_by_one.year(2026), whole.year(2026));
        prop_assert_eq!(one_by_one.year(2027), whole.year(2027));
    }
}
