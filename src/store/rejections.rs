//! Tree `rejections`: year (i32 + 2^31, big-endian) ‖ member ‖ 0 ‖ kind → how many of their
//! reports were rejected that year (by arrival) for want of evidence: kind 0 any, kind 1 an
//! unanswered attention check. Rejected reports are not kept, so these counts are what the
//! anomalies report shows of them.

use super::{Store, StoreError};
use crate::repo::RejectionRepo;
use std::collections::BTreeMap;

const TREE: &str = "rejections";

fn prefix(year: i32) -> [u8; 4] {
    ((year as u32) ^ 0x8000_0000).to_be_bytes()
}

impl RejectionRepo for Store {
    fn count_rejections(
        &self,
        year: i32,
        member: &str,
        (no_evidence, unattended): (u32, u32),
    ) -> Result<(), StoreError> {
        self.writable()?;
        let tree = self.tree(TREE)?;
        for (kind, add) in [(0u8, no_evidence), (1, unattended)] {
            if add == 0 {
                continue;
            }
            let key = [&prefix(year)[..], member.as_bytes(), &[0, kind]].concat();
            tree.update_and_fetch(key, |old| {
                let was = old
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes);
                Some(was.saturating_add(add).to_be_bytes().to_vec())
            })?;
        }
        Ok(())
    }

    fn rejections(&self, year: i32) -> Result<BTreeMap<String, (u32, u32)>, StoreError> {
        let mut out: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for item in self.tree(TREE)?.scan_prefix(prefix(year)) {
            let (key, value) = item?;
            let rest = &key[4..];
            let (Some(&kind), Some(member)) = (rest.last(), rest.len().checked_sub(2)) else {
                continue;
            };
            let member = String::from_utf8_lossy(&rest[..member]).into_owned();
            let n = <[u8; 4]>::try_from(value.as_ref()).map_or(0, u32::from_be_bytes);
            let counts = out.entry(member).or_default();
            if kind == 0 {
                counts.0 = n;
            } else {
                counts.1 = n;
            }
        }
        Ok(out)
    }
}
