//! An organisation's year month by month: the credit of every member of its subtree, placed
//! in months by `domain::months` from the member's entries on disk and the year's totals the
//! ledger keeps (the ones the organisation report adds up), so the months add up to the total
//! that report shows.

use super::report::requirement;
use super::LedgerHost;
use crate::domain::months::{registered_by_month, watched_by_month, MonthCalendar};
use crate::repo::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum MonthsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the months of {0} cannot be placed in the ledger's time zone: {1}")]
    Calendar(i32, String),
}

#[derive(Debug, Serialize)]
pub struct OrgMonths {
    pub org: String,
    pub year: i32,
    /// Everything credited to the subtree's members in the year: the sum of the months.
    pub credited_ms: i64,
    pub total_hours: f64,
    /// Credited ms per month, January first.
    pub months_ms: [i64; 12],
    /// The same in study hours, two decimals (for display; the ms are exact).
    pub months_hours: [f64; 12],
}

/// The subtree's credit per month of `year`; None if there is no such organisation.
pub fn org_months(
    services: &impl LedgerHost,
    org: &str,
    year: i32,
) -> Result<Option<OrgMonths>, MonthsError> {
    let tree = services.infra().store.org_tree()?;
    if !tree.contains(org) {
        return Ok(None);
    }
    let zone = &services.infra().settings.ledger.timezone;
    let bounds = MonthCalendar::new(zone)
        .map_err(|e| MonthsError::Calendar(year, e))?
        .bounds(year)
        .ok_or_else(|| MonthsError::Calendar(year, format!("year out of range in {zone}")))?;
    let rules = services.ledger().rules();
    // Only members with totals kept for the year have anything to place.
    let totals = services.infra().store.year_totals(year)?;
    let mut months_ms = [0i64; 12];
    for record in services.infra().store.members()? {
        let member = &record.member;
        let Some(kept) = totals.get(&member.id) else {
            continue;
        };
        if kept.credited_ms() == 0 || !tree.within(&member.org, org) {
            continue;
        }
        let (plays, registrations) = super::history(services, &member.id)?;
        let watched = watched_by_month(&plays, &kept.lessons, rules, &bounds, year);
        let registered = registered_by_month(&registrations, year);
        for (n, total) in months_ms.iter_mut().enumerate() {
            *total += watched[n] + registered[n];
        }
    }
    let requirement = requirement(services);
    let credited_ms = months_ms.iter().sum();
    Ok(Some(OrgMonths {
        org: org.to_string(),
        year,
        credited_ms,
        total_hours: requirement.hours(credited_ms),
        months_hours: months_ms.map(|ms| requirement.hours(ms)),
        months_ms,
    }))
}

/// The months as CSV (UTF-8 with a byte-order mark), one row per month.
pub fn months_csv(months: &OrgMonths) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(super::report::BOM.to_vec());
    out.write_record(["org", "year", "month", "credited_ms", "hours"])?;
    for (n, ms) in months.months_ms.iter().enumerate() {
        out.write_record([
            crate::domain::csv_cell::cell(&months.org).into_owned(),
            months.year.to_string(),
            (n + 1).to_string(),
            ms.to_string(),
            format!("{:.2}", months.months_hours[n]),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
