//! Tree `courses`: course slug → the course as ingested, with each variant's blob.

use super::{encode, Store, StoreError};
use crate::domain::catalog::CourseManifest;
use crate::domain::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const TREE: &str = "courses";

/// A course and the sha256 (hex) of every variant file: lesson id → language → blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseRecord {
    pub manifest: CourseManifest,
    pub blobs: BTreeMap<String, BTreeMap<Lang, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Created,
    Updated,
    Unchanged,
}

impl Store {
    pub fn course(&self, slug: &str) -> Result<Option<CourseRecord>, StoreError> {
        self.get_json(TREE, slug.as_bytes())
    }

    /// Writes the course unless the stored one is identical, so repeating an ingest writes nothing.
    pub fn upsert_course(&self, record: &CourseRecord) -> Result<Upsert, StoreError> {
        let tree = self.tree(TREE)?;
        let key = record.manifest.slug.as_bytes();
        let value = encode(record);
        let previous = tree.get(key)?;
        if previous.as_deref() == Some(value.as_slice()) {
            return Ok(Upsert::Unchanged);
        }
        self.writable()?;
        tree.insert(key, value)?;
        Ok(if previous.is_some() {
            Upsert::Updated
        } else {
            Upsert::Created
        })
    }

    pub fn course_slugs(&self) -> Result<Vec<String>, StoreError> {
        self.tree(TREE)?
            .iter()
            .keys()
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }
}
