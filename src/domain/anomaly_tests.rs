use super::*;

const HOUR: i64 = 3_600_000;
/// 2026-03-10T00:00:00+08:00.
const MIDNIGHT: i64 = 1_773_072_000_000;

fn thresholds() -> Thresholds {
    Thresholds {
        day_ms: 8 * HOUR,
        night_min_ms: HOUR,
        rejected: 3,
        unattended: 3,
    }
}

fn shanghai() -> Calendar {
    Calendar::new("Asia/Shanghai").unwrap()
}

#[test]
fn an_ordinary_evening_of_study_is_not_an_anomaly() {
    let walls = [((MIDNIGHT + 19 * HOUR, MIDNIGHT + 21 * HOUR), 2 * HOUR)];
    assert!(of_plays(&walls, &shanghai(), &thresholds()).is_empty());
}

#[test]
fn more_than_the_threshold_in_one_local_day_is_a_long_day() {
    let walls = [
        ((MIDNIGHT + 8 * HOUR, MIDNIGHT + 14 * HOUR), 6 * HOUR),
        ((MIDNIGHT + 15 * HOUR, MIDNIGHT + 19 * HOUR), 4 * HOUR),
    ];
    let found = of_plays(&walls, &shanghai(), &thresholds());
    assert_eq!(
        found,
        vec![Anomaly::LongDay {
            date: "2026-03-10".into(),
            played_ms: 10 * HOUR,
            days: 1
        }]
    );
}

#[test]
fn study_mostly_between_one_and_five_in_the_morning_is_reported() {
    let walls = [
        ((MIDNIGHT + HOUR, MIDNIGHT + 4 * HOUR), 3 * HOUR),
        ((MIDNIGHT + 20 * HOUR, MIDNIGHT + 21 * HOUR), HOUR),
    ];
    let found = of_plays(&walls, &shanghai(), &thresholds());
    assert_eq!(
        found,
        vec![Anomaly::Night {
            night_ms: 3 * HOUR,
            played_ms: 4 * HOUR
        }]
    );
    // Half or less at night is not.
    let evening = [
        ((MIDNIGHT + HOUR, MIDNIGHT + 3 * HOUR), 2 * HOUR),
        ((MIDNIGHT + 19 * HOUR, MIDNIGHT + 21 * HOUR), 2 * HOUR),
    ];
    assert!(of_plays(&evening, &shanghai(), &thresholds()).is_empty());
}

#[test]
fn one_device_playing_for_two_members_at_once_is_shared() {
    let d = [7u8; 8];
    let other = [8u8; 8];
    let plays = vec![
        ("M1".to_string(), d, (MIDNIGHT, MIDNIGHT + HOUR)),
        (
            "M2".to_string(),
            d,
            (MIDNIGHT + HOUR / 2, MIDNIGHT + 2 * HOUR),
        ),
        // The same device one after the other, or another device at once, is not.
        (
            "M3".to_string(),
            d,
            (MIDNIGHT + 3 * HOUR, MIDNIGHT + 4 * HOUR),
        ),
        ("M4".to_string(), other, (MIDNIGHT, MIDNIGHT + HOUR)),
    ];
    let found = shared_devices(&plays);
    let members: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(members, ["M1", "M2"]);
    assert_eq!(
        found[0].1,
        Anomaly::SharedDevice {
            device: "0707070707070707".into(),
            with: vec!["M2".into()],
            at_ms: MIDNIGHT
        }
    );
}

#[test]
fn a_day_left_playing_a_paused_lesson_counts_what_it_played() {
    let idle = [((MIDNIGHT + 8 * HOUR, MIDNIGHT + 20 * HOUR), HOUR)];
    assert!(of_plays(&idle, &shanghai(), &thresholds()).is_empty());
}
