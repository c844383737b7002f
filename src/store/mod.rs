//! The repositories on sled, the embedded default: tree names, key and value codecs, one file
//! per noun. sled types stay here.

mod assets;
mod blob_meta;
mod catalog;
pub mod decode_check;
mod deliveries;
mod ledger;
mod ledger_codec;
mod people;
pub mod pg;
mod rejections;
mod secrets;
mod tokens;
mod uploads;

use crate::disk::FreeSpaceFloor;
use crate::repo::{Repositories, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// The version byte in front of every stored value, so the format can change later: 1 is JSON,
/// 2 is postcard (compact binary, for the ledger's many small values).
const VALUE_VERSION: u8 = 1;
pub(crate) const COMPACT_VERSION: u8 = 2;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

pub struct Store {
    db: sled::Db,
    floor: FreeSpaceFloor,
    /// The organisations, decoded once and kept until one is written.
    org_cache: people::OrgCache,
}

impl Store {
    pub fn open(data_dir: &Path, floor: FreeSpaceFloor) -> Result<Self, StoreError> {
        let db = sled::Config::new().path(data_dir.join("db")).open()?;
        Ok(Store {
            db,
            floor,
            org_cache: Default::default(),
        })
    }

    /// Refuses writes while the disk is nearly full.
    fn writable(&self) -> Result<(), StoreError> {
        Ok(self.floor.check()?)
    }

    fn tree(&self, name: &'static str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        tree: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        self.get_with(tree, key, decode)
    }

    /// A value read by `read` (`decode_any` for the ledger's compact records).
    fn get_with<T>(
        &self,
        tree: &'static str,
        key: &[u8],
        read: fn(&'static str, &[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.tree(tree)?
            .get(key)?
            .map(|v| read(tree, &v))
            .transpose()
    }

    fn put_json<T: Serialize>(
        &self,
        tree: &'static str,
        key: &[u8],
        value: &T,
    ) -> Result<(), StoreError> {
        self.writable()?;
        self.tree(tree)?.insert(key, encode(value))?;
        Ok(())
    }
}

impl Repositories for Store {
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn is_open(&self) -> bool {
        self.db.get(b"probe").is_ok()
    }

    fn writable(&self) -> Result<(), StoreError> {
        Store::writable(self)
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![VALUE_VERSION];
    // Serialising plain structs of strings and numbers to JSON cannot fail.
    serde_json::to_writer(&mut out, value).unwrap_or_default();
    out
}

/// A value in the compact format: only for types without skipped fields or internal tags,
/// which postcard cannot read back.
fn encode_compact<T: Serialize>(value: &T) -> Vec<u8> {
    // Like JSON above, plain structs of strings and numbers cannot fail to serialise.
    postcard::to_extend(value, vec![COMPACT_VERSION]).unwrap_or_default()
}

/// A JSON record. Compact bytes where one belongs are refused, not read: a type written as JSON
/// may hold what postcard carries and JSON cannot (a NaN frame rate), so it could not be written
/// back.
fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.first() {
        Some(&COMPACT_VERSION) => Err(StoreError::Corrupt {
            tree,
            reason: "a compact value where a JSON record belongs".into(),
        }),
        _ => decode_any(tree, bytes),
    }
}

/// A compact record, or the JSON one a ledger written before the compact format holds.
fn decode_any<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { tree, reason };
    match bytes.split_first() {
        Some((&VALUE_VERSION, json)) => {
            serde_json::from_slice(json).map_err(|e| corrupt(e.to_string()))
        }
        Some((&COMPACT_VERSION, compact)) => {
            postcard::from_bytes(compact).map_err(|e| corrupt(e.to_string()))
        }
        Some((v, _)) => Err(corrupt(format!("unknown value version {v}"))),
        None => Err(corrupt("empty value".into())),
    }
}
