use super::*;

const MIN: i64 = 60_000;
const T0: i64 = 1_780_000_000_000;

fn session(issued_ms: i64, received_ms: i64) -> Witnessed {
    Witnessed {
        issued_ms,
        received_ms,
        skew_ms: 5 * MIN,
        expires_ms: None,
    }
}

fn grant(issued_ms: i64, expires_ms: i64, received_ms: i64) -> Witnessed {
    Witnessed {
        expires_ms: Some(expires_ms),
        ..session(issued_ms, received_ms)
    }
}

const DAY: i64 = 1440 * MIN;

#[test]
fn a_grant_witnesses_play_up_to_its_expiry_even_when_the_report_comes_later() {
    let g = grant(T0, T0 + 14 * DAY, T0 + 20 * DAY);
    let at_home = (T0 + 3 * DAY, T0 + 3 * DAY + 30 * MIN);
    assert_eq!(g.clip(at_home), Ok(at_home));
    let straddling = (T0 + 14 * DAY - 10 * MIN, T0 + 14 * DAY + 10 * MIN);
    assert_eq!(g.clip(straddling), Ok((straddling.0, T0 + 14 * DAY)));
}

#[test]
fn play_after_a_grant_expired_is_refused_with_when_it_expired() {
    let g = grant(T0, T0 + 14 * DAY, T0 + 20 * DAY);
    let late = (T0 + 15 * DAY, T0 + 15 * DAY + 30 * MIN);
    match g.clip(late) {
        Err(NoEvidence::GrantExpired { expired }) => {
            assert!(expired.starts_with("2026-06-"), "{expired}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_report_inside_the_session_is_witnessed_whole() {
    let s = session(T0, T0 + 20 * MIN);
    assert_eq!(
        s.clip((T0 + MIN, T0 + 11 * MIN)),
        Ok((T0 + MIN, T0 + 11 * MIN))
    );
}

#[test]
fn wall_time_before_the_issue_counts_only_within_the_clock_skew() {
    let s = session(T0, T0 + 20 * MIN);
    assert_eq!(
        s.clip((T0 - 30 * MIN, T0 + MIN)),
        Ok((T0 - 5 * MIN, T0 + MIN))
    );
}

#[test]
fn wall_time_after_the_report_arrived_was_not_witnessed() {
    let s = session(T0, T0 + 2 * MIN);
    assert_eq!(s.clip((T0, T0 + 10 * MIN)), Ok((T0, T0 + 2 * MIN)));
}

#[test]
fn a_fabricated_past_report_lies_outside_any_session_issued_now() {
    let s = session(T0, T0 + 1000);
    let ten_days_ago = (T0 - 14_400 * MIN, T0 - 14_390 * MIN);
    assert_eq!(
        s.clip(ten_days_ago),
        Err(NoEvidence::Outside { issued_s: 1 })
    );
}

#[test]
fn a_session_credits_no_more_than_the_time_the_server_saw_pass() {
    // Issued at T0, the report arrives 3 minutes later claiming 8 (within the skew before).
    let s = session(T0, T0 + 3 * MIN);
    let wall = s.clip((T0 - 5 * MIN, T0 + 3 * MIN)).unwrap();
    assert_eq!(s.within_budget(wall, 0), Ok((T0 - 5 * MIN, T0 - 2 * MIN)));
    // Two earlier reports used 2 of the 3 minutes: one is left.
    assert_eq!(
        s.within_budget((T0, T0 + 3 * MIN), 2 * MIN),
        Ok((T0, T0 + MIN))
    );
    assert_eq!(
        s.within_budget((T0, T0 + MIN), 3 * MIN),
        Err(NoEvidence::Spent)
    );
}

#[test]
fn reports_held_offline_and_sent_days_later_are_witnessed() {
    let issued = T0;
    let s = session(issued, T0 + 3 * 1440 * MIN);
    let played = (T0 + MIN, T0 + 31 * MIN);
    assert_eq!(s.clip(played), Ok(played));
    assert_eq!(s.within_budget(played, 0), Ok(played));
}

fn check(n: u32, after_ms: i64) -> AttentionCheck {
    AttentionCheck {
        n,
        after_ms,
        code: format!("c{n}"),
    }
}

const GRACE_TOLERANCE: (i64, i64) = (60_000, 2_000);

#[test]
fn an_answered_check_leaves_the_play_attended() {
    let checks = [check(1, 10 * MIN)];
    let answers = [(1, "c1", T0 + 10 * MIN + 5_000)];
    let window = (T0, T0 + 30 * MIN);
    assert!(unattended(T0, &checks, &answers, GRACE_TOLERANCE, window).is_empty());
}

#[test]
fn a_missed_check_stops_earning_from_its_grace_until_the_answer() {
    let checks = [check(1, 10 * MIN), check(2, 20 * MIN)];
    // Check 1 answered five minutes late; check 2 never.
    let answers = [(1, "c1", T0 + 15 * MIN)];
    let window = (T0, T0 + 30 * MIN);
    assert_eq!(
        unattended(T0, &checks, &answers, GRACE_TOLERANCE, window),
        vec![
            (T0 + 11 * MIN, T0 + 15 * MIN),
            (T0 + 21 * MIN, T0 + 30 * MIN)
        ]
    );
}

#[test]
fn an_answer_to_a_later_check_ends_the_silence_of_earlier_ones() {
    // A grant's check 1 fell due while nothing played; play starts at 30 min, check 2 (due at
    // 29 min) is asked at once and answered.
    let checks = [check(1, 10 * MIN), check(2, 29 * MIN)];
    let answers = [(2, "c2", T0 + 30 * MIN)];
    let window = (T0 + 30 * MIN, T0 + 60 * MIN);
    assert!(unattended(T0, &checks, &answers, GRACE_TOLERANCE, window).is_empty());
    // Without it, both silences run on through the play.
    assert_eq!(
        unattended(T0, &checks, &[], GRACE_TOLERANCE, window),
        vec![window]
    );
}

#[test]
fn seeded_checks_are_the_same_for_the_same_seed_and_keep_their_intervals() {
    let (min, max) = (8 * MIN, 15 * MIN);
    let a = seeded_checks(b"seed one", (min, max), DAY);
    assert_eq!(a, seeded_checks(b"seed one", (min, max), DAY));
    assert_ne!(a, seeded_checks(b"seed two", (min, max), DAY));
    assert!(a.len() >= (DAY / max) as usize && a.len() <= (DAY / min) as usize);
    let mut last = 0;
    for (i, c) in a.iter().enumerate() {
        assert_eq!(c.n as usize, i + 1);
        assert!((min..=max).contains(&(c.after_ms - last)), "{c:?}");
        assert_eq!(c.code.len(), 6);
        last = c.after_ms;
    }
    assert!(last <= DAY);
}

#[test]
fn a_wrong_code_or_an_answer_before_the_question_is_no_answer() {
    let checks = [check(1, 10 * MIN)];
    let window = (T0, T0 + 20 * MIN);
    for answers in [
        [(1, "c2", T0 + 10 * MIN)],
        [(1, "c1", T0 + 5 * MIN)],
        [(2, "c1", T0 + 10 * MIN)],
    ] {
        assert_eq!(
            unattended(T0, &checks, &answers, GRACE_TOLERANCE, window),
            vec![(T0 + 11 * MIN, T0 + 20 * MIN)],
            "{answers:?}"
        );
    }
}

#[test]
fn a_report_earns_its_first_attended_piece() {
    let stretches = [(T0 + 11 * MIN, T0 + 15 * MIN)];
    assert_eq!(
        attended_part((T0 + 10 * MIN, T0 + 12 * MIN), &stretches),
        Some((T0 + 10 * MIN, T0 + 11 * MIN))
    );
    assert_eq!(
        attended_part((T0 + 12 * MIN, T0 + 14 * MIN), &stretches),
        None
    );
    assert_eq!(
        attended_part((T0 + 14 * MIN, T0 + 16 * MIN), &stretches),
        Some((T0 + 15 * MIN, T0 + 16 * MIN))
    );
    assert_eq!(
        attended_part((T0, T0 + MIN), &stretches),
        Some((T0, T0 + MIN))
    );
}
