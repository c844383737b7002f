//! Tree `delivered`: play session head (issue time ‖ nonce, 16 bytes) ‖ the first 8 bytes of a
//! source blob's sha256 → nothing: that `/media` delivered the source, or a file made from it,
//! under that session. 24 bytes a play and lesson; keys sort by issue time, so those past the
//! offline age are cut off from the front.

use super::{Store, StoreError};
use crate::domain::digest::Sha256;

const TREE: &str = "delivered";

fn key(head: &[u8; 16], source: &Sha256) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..16].copy_from_slice(head);
    key[16..].copy_from_slice(&source.as_bytes()[..8]);
    key
}

impl Store {
    pub fn record_delivery(&self, head: &[u8; 16], source: &Sha256) -> Result<(), StoreError> {
        self.writable()?;
        self.tree(TREE)?.insert(key(head, source), &[])?;
        Ok(())
    }

    pub fn was_delivered(&self, head: &[u8; 16], source: &Sha256) -> Result<bool, StoreError> {
        Ok(self.tree(TREE)?.contains_key(key(head, source))?)
    }

    /// Forgets deliveries under sessions issued before `issued_ms`; returns how many.
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
