//! The `[ledger]` section of the configuration: how study hours are counted and what a
//! credited minute must rest on.

use crate::config_values::{humantime_serde_duration, invalid, ConfigError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    pub minutes_per_hour: u32,
    pub member_hours: u32,
    pub leader_hours: u32,
    pub timezone: String,
    pub max_rate: f64,
    #[serde(with = "humantime_serde_duration")]
    pub offline_max_age: std::time::Duration,
    pub tolerance_ms: u64,
    #[serde(with = "humantime_serde_duration")]
    pub max_clock_skew: std::time::Duration,
    /// Largest `POST /api/v1/watch` body from anyone but a station, in bytes.
    pub max_member_body: usize,
    /// Largest `POST /api/v1/watch` body from a station (a week of offline viewing), in bytes.
    pub max_station_body: usize,
    /// Watch reports a member may have stored per local day of wall time.
    pub max_reports_per_member_day: u32,
    /// Attention checks (防挂机) in members' play sessions: on or off, the range of the random
    /// interval between two, and how long a check may wait for its answer.
    pub attention_checks: bool,
    #[serde(with = "humantime_serde_duration")]
    pub attention_check_min: std::time::Duration,
    #[serde(with = "humantime_serde_duration")]
    pub attention_check_max: std::time::Duration,
    #[serde(with = "humantime_serde_duration")]
    pub attention_grace: std::time::Duration,
    /// Where the anomalies report begins: hours played in one day, reports rejected for want of
    /// evidence in a year, and attention checks left unanswered among them.
    pub anomaly_hours_per_day: u32,
    pub anomaly_rejections: u32,
    pub anomaly_missed_checks: u32,
    /// How long a lesson downloaded for offline study earns: its offline grant's validity.
    pub offline_grant_days: u32,
}

impl LedgerSettings {
    /// The range of the interval between two attention checks, in ms.
    pub fn attention_interval_ms(&self) -> (i64, i64) {
        (
            self.attention_check_min.as_millis() as i64,
            self.attention_check_max.as_millis() as i64,
        )
    }
}

impl LedgerSettings {
    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = self;
        if let Err(reason) = crate::domain::ledger::Calendar::new(&l.timezone) {
            return invalid("ledger.timezone", reason);
        }
        if !(l.max_rate > 0.0 && l.max_rate <= 16.0) {
            return invalid("ledger.max_rate", "must be above 0 and at most 16".into());
        }
        if l.minutes_per_hour == 0 || l.minutes_per_hour > 60 {
            return invalid("ledger.minutes_per_hour", "must be between 1 and 60".into());
        }
        if l.tolerance_ms > 60_000 {
            return invalid("ledger.tolerance_ms", "must be at most 60000".into());
        }
        for (key, bytes) in [
            ("ledger.max_member_body", l.max_member_body),
            ("ledger.max_station_body", l.max_station_body),
        ] {
            if !(1024..=1 << 30).contains(&bytes) {
                return invalid(key, "must be between 1024 and 1073741824 bytes".into());
            }
        }
        let (least, most) = (l.attention_check_min, l.attention_check_max);
        if least < std::time::Duration::from_secs(1) || least > most {
            return invalid(
                "ledger.attention_check_min",
                "must be at least 1s and at most ledger.attention_check_max".into(),
            );
        }
        if most > std::time::Duration::from_secs(86_400) {
            return invalid("ledger.attention_check_max", "must be at most a day".into());
        }
        if !(1..=24).contains(&l.anomaly_hours_per_day) {
            return invalid(
                "ledger.anomaly_hours_per_day",
                "must be between 1 and 24".into(),
            );
        }
        if l.max_reports_per_member_day == 0 {
            return invalid(
                "ledger.max_reports_per_member_day",
                "must be at least 1".into(),
            );
        }
        if !(1..=90).contains(&l.offline_grant_days)
            || u64::from(l.offline_grant_days) * 86_400 > l.offline_max_age.as_secs()
        {
            return invalid(
                "ledger.offline_grant_days",
                "must be between 1 and 90 days and no longer than ledger.offline_max_age".into(),
            );
        }
        Ok(())
    }
}
