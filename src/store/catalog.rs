//! The catalogue: tree `catalog_courses` (course id → its draft and its published version),
//! `catalog_versions` (course id, 0, version as u32 big-endian → that published version, never
//! changed again), `catalog_lessons` (lesson id → course id; ids are never reused) and
//! `catalog_meta` (`seq` → the last change sequence number given out).

use super::{decode, encode, Store, StoreError};
use crate::domain::catalog::Course;
use crate::repo::{CatalogRepo, CourseEntry};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

const COURSES: &str = "catalog_courses";
const VERSIONS: &str = "catalog_versions";
const LESSONS: &str = "catalog_lessons";
const META: &str = "catalog_meta";
const SEQ: &[u8] = b"seq";

fn version_key(course: &str, version: u32) -> Vec<u8> {
    let mut key = course.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

fn seq_value(bytes: Option<&[u8]>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

fn untransact(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    }
}

impl CatalogRepo for Store {
    fn course_entry(&self, id: &str) -> Result<Option<CourseEntry>, StoreError> {
        self.get_json(COURSES, id.as_bytes())
    }

    fn course_entries(&self) -> Result<Vec<CourseEntry>, StoreError> {
        self.tree(COURSES)?
            .iter()
            .values()
            .map(|v| decode(COURSES, &v?))
            .collect()
    }

    fn course_version(&self, id: &str, version: u32) -> Result<Option<Course>, StoreError> {
        self.get_json(VERSIONS, &version_key(id, version))
    }

    fn lesson_course(&self, lesson: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .tree(LESSONS)?
            .get(lesson.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    fn catalog_seq(&self) -> Result<u64, StoreError> {
        Ok(seq_value(self.tree(META)?.get(SEQ)?.as_deref()))
    }

    fn save_draft(&self, entry: &CourseEntry, new_lessons: &[String]) -> Result<(), StoreError> {
        self.writable()?;
        let (courses, lessons) = (self.tree(COURSES)?, self.tree(LESSONS)?);
        let value = encode(entry);
        let id = entry.id().to_string();
        (&courses, &lessons)
            .transaction(|(courses, lessons)| {
                courses.insert(id.as_bytes(), value.as_slice())?;
                for lesson in new_lessons {
                    lessons.insert(lesson.as_bytes(), id.as_bytes())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(untransact)
    }

    fn save_change(&self, entry: &CourseEntry, frozen: Option<&Course>) -> Result<u64, StoreError> {
        self.writable()?;
        let trees = (self.tree(COURSES)?, self.tree(VERSIONS)?, self.tree(META)?);
        let id = entry.id().to_string();
        let frozen = frozen.map(|c| (version_key(&c.id, c.version), encode(c)));
        (&trees.0, &trees.1, &trees.2)
            .transaction(|(courses, versions, meta)| {
                let seq = seq_value(meta.get(SEQ)?.as_deref()) + 1;
                meta.insert(SEQ, &seq.to_be_bytes())?;
                let mut entry = entry.clone();
                entry.changed_seq = seq;
                courses.insert(id.as_bytes(), encode(&entry))?;
                if let Some((key, value)) = &frozen {
                    versions.insert(key.as_slice(), value.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(seq)
            })
            .map_err(untransact)
    }
}
