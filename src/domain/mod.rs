//! Pure rules: no actix, sled, ffmpeg or tokio here, so every rule can be tested without a
//! runtime (a test in `tests/` enforces it).

pub mod anomaly;
pub mod calendar;
pub mod catalog;
pub mod catalog_edit;
pub mod csv_cell;
pub mod digest;
pub mod evidence;
pub mod flow;
pub mod group;
pub mod hours;
pub mod interval;
pub mod lang;
pub mod ledger;
pub mod manifest;
pub mod media;
pub mod media_type;
pub mod months;
pub mod org;
pub mod range;
pub mod representation;
pub mod search;
pub mod standing;
pub mod throttle;
pub mod upload;
pub mod watch;
pub mod watch_body;
