use super::*;

const MIN: i64 = 60_000;
const T0: i64 = 1_780_000_000_000;

fn session(issued_ms: i64, received_ms: i64) -> Witnessed {
    Witnessed {
        issued_ms,
        received_ms,
        skew_ms: 5 * MIN,
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
