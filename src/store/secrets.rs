//! Tree `secrets`: name → 32 random bytes, made the first time they are asked for and the same
//! for every process that opens this store afterwards.

use super::{Store, StoreError};
use crate::repo::SecretRepo;

const TREE: &str = "secrets";

impl SecretRepo for Store {
    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let tree = self.tree(TREE)?;
        let corrupt = || StoreError::Corrupt {
            tree: TREE,
            reason: format!("secret {name:?} is not 32 bytes"),
        };
        if let Some(found) = tree.get(name)? {
            return found.as_ref().try_into().map_err(|_| corrupt());
        }
        let made: [u8; 32] = rand::random();
        // Another process may have made one meanwhile: then theirs stands.
        match tree.compare_and_swap(name, None as Option<&[u8]>, Some(&made[..]))? {
            Ok(()) => {
                tree.flush()?;
                Ok(made)
            }
            Err(taken) => taken
                .current
                .as_deref()
                .and_then(|c| c.try_into().ok())
                .ok_or_else(corrupt),
        }
    }
}
