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
