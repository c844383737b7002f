use super::*;

const NOW: i64 = 1_772_400_000_000;

fn limits() -> Limits {
    Limits {
        offline_max_age_ms: 90 * 86_400_000,
        max_clock_skew_ms: 300_000,
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap()
}

fn report(wall: (i64, i64)) -> WatchReport {
    WatchReport {
        id: "r-1".into(),
        member: "M1".into(),
        lesson: "l".into(),
        lang: Lang::chinese(),
        played: vec![(0, 15_000), (15_000, 30_000)],
        wall: (ts(wall.0), ts(wall.1)),
        position_ms: 30_000,
        device_clock: None,
        group_session: None,
        play_session: None,
        grant: None,
        attention: Vec::new(),
    }
}

#[test]
fn the_body_digest_ignores_the_senders_clock_only() {
    let r = report((NOW - 60_000, NOW - 30_000));
    let mut resent = r.clone();
    resent.device_clock = Some(ts(NOW));
    assert_eq!(r.body_digest(), resent.body_digest());
    let mut changed = r.clone();
    changed.position_ms = 1;
    assert_ne!(r.body_digest(), changed.body_digest());
}

#[test]
fn a_station_clock_a_day_wrong_is_corrected() {
    let day = 86_400_000;
    let mut r = report((NOW - day - 60_000, NOW - day - 30_000));
    r.device_clock = Some(ts(NOW - day));
    let offset = r.clock_offset_ms(NOW);
    assert_eq!(offset, day);
    let play = r.to_play(NOW, offset, 600_000, &limits()).unwrap();
    assert_eq!(play.wall, (NOW - 60_000, NOW - 30_000));
    // Uncorrected, a clock a day fast would put the report in the future.
    let fast = report((NOW + day, NOW + day + 30_000));
    assert!(matches!(
        fast.to_play(NOW, 0, 600_000, &limits()),
        Err(Rejection::InFuture { .. })
    ));
}

#[test]
fn each_broken_rule_is_named() {
    let old = report((NOW - 100 * 86_400_000, NOW - 100 * 86_400_000 + 1000));
    assert!(matches!(
        old.to_play(NOW, 0, 1, &limits()),
        Err(Rejection::TooOld { .. })
    ));
    let backwards = report((NOW - 1000, NOW - 2000));
    assert_eq!(
        backwards.to_play(NOW, 0, 1, &limits()),
        Err(Rejection::BadWall)
    );
    let mut empty = report((NOW - 2000, NOW - 1000));
    empty.played = vec![(5, 5)];
    assert_eq!(
        empty.to_play(NOW, 0, 1, &limits()),
        Err(Rejection::BadInterval(5, 5))
    );
    let mut bad_id = report((NOW - 2000, NOW - 1000));
    bad_id.id = "has space".into();
    assert_eq!(bad_id.to_play(NOW, 0, 1, &limits()), Err(Rejection::BadId));
}

fn registration(id: &str, ms: i64, corrects: Option<&str>) -> Registration {
    Registration {
        id: id.into(),
        date: "2026-06-01".into(),
        duration_ms: ms,
        reason: "党日活动".into(),
        centralised: true,
        corrects: corrects.map(String::from),
    }
}

#[test]
fn corrections_are_new_entries_that_cannot_overdraw() {
    let original = registration("a", 3_600_000, None);
    assert_eq!(original.check(), Ok(2026));
    let fix = registration("b", -1_800_000, Some("a"));
    assert_eq!(fix.check_against(std::slice::from_ref(&original)), Ok(()));
    let earlier = vec![original.clone(), fix.clone()];
    assert_eq!(registered(&earlier, 2026), (1_800_000, 1));
    let too_much = registration("c", -1_800_001, Some("a"));
    assert_eq!(
        too_much.check_against(&earlier),
        Err(RegistrationError::OverCorrection("a".into()))
    );
    let cancel = registration("c", -1_800_000, Some("a"));
    let all = vec![original, fix, cancel];
    assert_eq!(
        registered(&all, 2026),
        (0, 0),
        "a cancelled training no longer counts"
    );
    assert_eq!(
        registration("d", -5, None).check(),
        Err(RegistrationError::NegativeWithoutCorrection)
    );
    let mut no_reason = registration("e", 5, None);
    no_reason.reason = "  ".into();
    assert_eq!(no_reason.check(), Err(RegistrationError::NoReason));
}
