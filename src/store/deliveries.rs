//! Tree `delivered`: who `/media` delivered a source blob (or a file made from it) to, by the
//! first 8 bytes of the source's sha256. Keys:
//! - play session head (issue time ‖ nonce, 16 bytes) ‖ source → nothing: 24 bytes a play and
//!   lesson; they sort by issue time, so those past the offline age are cut off from the front;
//! - 0xFF ‖ station id ‖ 0 ‖ source → nothing: what a station downloaded.

use super::{Store, StoreError};
use crate::domain::digest::Sha256;
use crate::repo::{DeliveredTo, DeliveryRepo};

const TREE: &str = "delivered";

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

impl DeliveryRepo for Store {
    fn record_delivery(&self, to: &DeliveredTo, source: &Sha256) -> Result<(), StoreError> {
        self.writable()?;
        self.tree(TREE)?.insert(to.key(source), &[])?;
        Ok(())
    }

    fn was_delivered(&self, to: &DeliveredTo, source: &Sha256) -> Result<bool, StoreError> {
        Ok(self.tree(TREE)?.contains_key(to.key(source))?)
    }

    fn prune_deliveries(&self, issued_ms: i64) -> Result<usize, StoreError> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::disk::FreeSpaceFloor;

    #[test]
    fn sessions_issued_before_the_cut_are_forgotten_and_stations_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), FreeSpaceFloor::new(dir.path(), 0)).unwrap();
        let source = Sha256::parse_hex(&"ab".repeat(32)).unwrap();
        let head = |issued: i64| {
            let mut h = [7u8; 16];
            h[..8].copy_from_slice(&issued.to_be_bytes());
            DeliveredTo::Session(h)
        };
        let station = DeliveredTo::Station("st-1".into());
        for to in [head(1_000), head(2_000), station.clone()] {
            store.record_delivery(&to, &source).unwrap();
        }
        assert_eq!(store.prune_deliveries(1_500).unwrap(), 1);
        assert!(!store.was_delivered(&head(1_000), &source).unwrap());
        assert!(store.was_delivered(&head(2_000), &source).unwrap());
        assert!(store.was_delivered(&station, &source).unwrap());
    }
}
