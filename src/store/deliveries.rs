//! Tree `delivered`: who `/media` delivered a source blob (or a file made from it) to, by the
//! first 8 bytes of the source's sha256. Keys:
//! - play session head (issue time ‖ nonce, 16 bytes) ‖ source → nothing: 24 bytes a play and
//!   lesson; they sort by issue time, so those past the offline age are cut off from the front;
//! - 0xFF ‖ station id ‖ 0 ‖ source → nothing: what a station downloaded.

use super::{Store, StoreError};
use crate::domain::digest::Sha256;

const TREE: &str = "delivered";

/// Who media was delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeliveredTo {
    Session([u8; 16]),
    Station(String),
}

impl DeliveredTo {
    pub fn key(&self, source: &Sha256) -> Vec<u8> {
        let mut key = match self {
            DeliveredTo::Session(head) => head.to_vec(),
            DeliveredTo::Station(station) => [&[0xFF][..], station.as_bytes(), &[0]].concat(),
        };
        key.extend_from_slice(&source.as_bytes()[..8]);
        key
    }
}

impl Store {
    pub fn record_delivery(&self, to: &DeliveredTo, source: &Sha256) -> Result<(), StoreError> {
        self.writable()?;
        self.tree(TREE)?.insert(to.key(source), &[])?;
        Ok(())
    }

    pub fn was_delivered(&self, to: &DeliveredTo, source: &Sha256) -> Result<bool, StoreError> {
        Ok(self.tree(TREE)?.contains_key(to.key(source))?)
    }

    /// Forgets deliveries under play sessions issued before `issued_ms`; returns how many.
    pub fn prune_deliveries(&self, issued_ms: i64) -> Result<usize, StoreError> {
        let tree = self.tree(TREE)?;
        let end = issued_ms.max(0).to_be_bytes();
        let mut removed = 0;
        for item in tree.range(..&end[..]) {
            let (key, _) = item?;
            tree.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }
}
