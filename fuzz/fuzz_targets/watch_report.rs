//! The body of `POST /api/v1/watch`: any bytes are refused or become at most `MAX_BATCH`
//! reports, and a report that passes the rules becomes a play the ledger can credit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use yuanjiao::domain::calendar::Calendar;
use yuanjiao::domain::ledger::{MemberLedger, Rules};
use yuanjiao::domain::watch::Limits;
use yuanjiao::domain::watch_body::{parse_watch_body, MAX_BATCH};

/// 2026-06-01T00:00:00Z.
const NOW_MS: i64 = 1_780_272_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(reports) = parse_watch_body(data) else {
        return;
    };
    assert!(reports.len() <= MAX_BATCH);
    let limits = Limits {
        offline_max_age_ms: 90 * 86_400_000,
        max_clock_skew_ms: 300_000,
    };
    let rules = Rules {
        rate_milli: 1000,
        tolerance_ms: 2000,
        calendar: Calendar::utc(),
    };
    let mut ledger = MemberLedger::new(Vec::new(), &rules);
    for report in reports {
        let _ = report.body_digest();
        let offset = report
            .clock_offset_ms(NOW_MS)
            .clamp(-limits.offline_max_age_ms, 0);
        if let Ok(play) = report.to_play(NOW_MS, offset, 600_000, &limits) {
            let credited = ledger.add(play, &rules);
            assert!((0..=86_400_000).contains(&credited), "credited {credited}");
        }
    }
});
