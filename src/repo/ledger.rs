//! The ledger's records: entries (append-only), the ids seen, each member's yearly totals and
//! group sessions, written together; and the evidence kept beside it (deliveries under play
//! sessions, counts of rejected reports).

use super::StoreError;
use crate::domain::digest::Sha256;
use crate::domain::group::GroupSession;
use crate::domain::ledger::Play;
use crate::domain::watch::{Registration, WatchReport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub at_ms: i64,
    pub actor: String,
    pub member: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A watch report as sent, with what made it a play: the correction of the sender's
    /// clock and the lesson's duration when it was accepted.
    Watch {
        report: Box<WatchReport>,
        offset_ms: i64,
        duration_ms: i64,
        /// The corrected wall interval the play session witnessed, when it is less than the
        /// report claims: the play credits only this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        witnessed: Option<(i64, i64)>,
    },
    /// A member's share of a group session's playback.
    Group {
        play: Play,
    },
    Registration(Registration),
}

/// The first body seen under an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenId {
    pub member: String,
    pub digest: String,
}

/// A member's totals for one year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberYear {
    pub watched_ms: i64,
    pub registered_ms: i64,
    pub centralised: u32,
    /// Lesson → credited ms.
    pub lessons: BTreeMap<String, i64>,
}

impl EntryKind {
    /// The play a watch or group entry credits.
    pub fn play(&self) -> Option<Play> {
        match self {
            EntryKind::Watch {
                report,
                offset_ms,
                duration_ms,
                witnessed,
            } => {
                let mut play = report.play(*offset_ms, *duration_ms);
                if let Some(wall) = witnessed {
                    play.wall = *wall;
                }
                Some(play)
            }
            EntryKind::Group { play } => Some(play.clone()),
            EntryKind::Registration(_) => None,
        }
    }
}

impl MemberYear {
    pub fn credited_ms(&self) -> i64 {
        self.watched_ms + self.registered_ms
    }
}

#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Report,
    Registration,
}

/// Everything one request writes, applied at once.
#[derive(Debug, Default)]
pub struct LedgerWrite {
    pub entries: Vec<LedgerEntry>,
    pub ids: Vec<(IdKind, String, SeenId)>,
    pub totals: Vec<(i32, String, MemberYear)>,
    pub session: Option<GroupSession>,
    /// (member, the head their state was read at, a new head): the write is applied only if
    /// each member's head is still the first (see `member_head`), and leaves the second.
    pub heads: Vec<(String, u64, u64)>,
}

/// Who media was delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeliveredTo {
    Session([u8; 16]),
    Station(String),
}

/// The ledger: append-only entries, ids seen, each member's yearly totals and group sessions.
pub trait LedgerRepo {
    fn seen_id(&self, kind: IdKind, id: &str) -> Result<Option<SeenId>, StoreError>;

    /// Every entry of one member, oldest first.
    fn member_entries(&self, member: &str) -> Result<Vec<LedgerEntry>, StoreError>;

    /// Every entry, member by member, each member's oldest first, for recomputing totals.
    fn ledger_entries(&self) -> Result<Vec<LedgerEntry>, StoreError>;

    fn member_year(&self, member: &str, year: i32) -> Result<Option<MemberYear>, StoreError>;

    /// Every member's totals for a year.
    fn year_totals(&self, year: i32) -> Result<BTreeMap<String, MemberYear>, StoreError>;

    /// Every member's totals, every year (for checking them against the entries).
    fn all_totals(&self) -> Result<BTreeMap<(i32, String), MemberYear>, StoreError>;

    fn group_session(&self, id: &str) -> Result<Option<GroupSession>, StoreError>;

    /// Applies several requests' writes as one atomic batch, in order. Entries get
    /// increasing sequence numbers. If any write's head is not the member's head as the
    /// writes before it in the batch left it (another process wrote the member since it was
    /// read), nothing is applied and the error is `Stale`. A report or registration id
    /// already stored is `Stale` as well: the id is unique whichever process saw it first.
    fn apply_ledger_writes(&self, writes: &[&LedgerWrite]) -> Result<(), StoreError>;

    /// The head a member's ledger is at: 0 before any write that named one, then whatever the
    /// last such write left. Each write leaves a new random head, so a state built on a write
    /// that never landed can never match by chance.
    fn member_head(&self, member: &str) -> Result<u64, StoreError>;
}

/// Which source files were delivered under which play session or to which station.
pub trait DeliveryRepo {
    fn record_delivery(&self, to: &DeliveredTo, source: &Sha256) -> Result<(), StoreError>;

    fn was_delivered(&self, to: &DeliveredTo, source: &Sha256) -> Result<bool, StoreError>;

    /// Forgets deliveries under play sessions issued before `issued_ms`; returns how many.
    fn prune_deliveries(&self, issued_ms: i64) -> Result<usize, StoreError>;
}

/// Each member's yearly counts of reports rejected for want of evidence.
pub trait RejectionRepo {
    /// Adds to a member's counts: (for want of evidence, of which unanswered checks).
    fn count_rejections(
        &self,
        year: i32,
        member: &str,
        counts: (u32, u32),
    ) -> Result<(), StoreError>;

    /// Every member's counts for a year: member → (for want of evidence, unanswered checks).
    fn rejections(&self, year: i32) -> Result<BTreeMap<String, (u32, u32)>, StoreError>;
}
