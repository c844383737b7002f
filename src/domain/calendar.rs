//! Where years and days begin: the ledger's calendar, in one time zone (`ledger.timezone`).

/// Where years begin, in one time zone.
#[derive(Debug, Clone)]
pub struct Calendar(jiff::tz::TimeZone);

impl Calendar {
    pub fn new(zone: &str) -> Result<Calendar, String> {
        jiff::tz::TimeZone::get(zone)
            .map(Calendar)
            .map_err(|e| format!("unknown time zone {zone:?}: {e}"))
    }

    pub fn utc() -> Calendar {
        Calendar(jiff::tz::TimeZone::UTC)
    }

    pub fn year_of(&self, ms: i64) -> i32 {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| i32::from(t.to_zoned(self.0.clone()).year()))
            .unwrap_or(0)
    }

    /// The first millisecond of `year`.
    pub fn year_start(&self, year: i32) -> i64 {
        i16::try_from(year)
            .ok()
            .and_then(|y| jiff::civil::date(y, 1, 1).to_zoned(self.0.clone()).ok())
            .map_or(i64::MAX, |z| z.timestamp().as_millisecond())
    }

    /// The year of a calendar date `YYYY-MM-DD`.
    pub fn year_of_date(date: &str) -> Option<i32> {
        date.parse::<jiff::civil::Date>()
            .ok()
            .map(|d| i32::from(d.year()))
    }
}

impl Calendar {
    /// The local day of an instant, as days since 1970-01-01 in this zone (0 when out of range).
    pub fn day_of(&self, ms: i64) -> i32 {
        let epoch = jiff::civil::date(1970, 1, 1);
        jiff::Timestamp::from_millisecond(ms)
            .ok()
            .and_then(|t| t.to_zoned(self.0.clone()).date().since(epoch).ok())
            .map_or(0, |span| span.get_days())
    }

    /// The instant `hour`:00 local time begins on local day `day` (days since 1970-01-01).
    pub fn hour_of_day(&self, day: i32, hour: i8) -> i64 {
        let date = jiff::civil::date(1970, 1, 1).checked_add(jiff::Span::new().days(day));
        date.ok()
            .and_then(|d| d.at(hour, 0, 0, 0).to_zoned(self.0.clone()).ok())
            .map_or(0, |z| z.timestamp().as_millisecond())
    }

    /// The local date of day `day`, as `YYYY-MM-DD`.
    pub fn date_of_day(&self, day: i32) -> String {
        jiff::civil::date(1970, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .map_or_else(|_| String::new(), |d| d.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_begins_at_local_midnight() {
        let c = Calendar::new("Asia/Shanghai").unwrap();
        // 2026-03-09T16:00:00Z is midnight of 10 March in Beijing: day 20,522.
        let midnight = 1_773_072_000_000;
        assert_eq!(c.day_of(midnight), 20_522);
        assert_eq!(c.day_of(midnight - 1), 20_521);
        assert_eq!(Calendar::utc().day_of(0), 0);
        assert_eq!(Calendar::utc().day_of(-1), -1);
    }
}
