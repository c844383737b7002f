//! The catalogue and uploads on PostgreSQL: tables `courses`, `course_versions`, `lessons`
//! (lesson id → course id, never reused), the `catalog` counter, and `uploads`.

use super::super::decode;
use super::{bytes, exec, next, params, record, PgStore};
use crate::domain::catalog::Course;
use crate::domain::upload::Upload;
use crate::repo::*;

/// A course version in the `integer` column: the u32's bits, so every version sled can key
/// has its own row (none is above i32::MAX in practice).
fn version_column(version: u32) -> i32 {
    i32::from_ne_bytes(version.to_ne_bytes())
}

impl CatalogRepo for PgStore {
    fn course_entry(&self, id: &str) -> Result<Option<CourseEntry>, StoreError> {
        let value = self.value(
            "SELECT value FROM courses WHERE id = $1",
            params![id.to_string()],
        )?;
        record("courses", value)
    }

    fn course_entries(&self) -> Result<Vec<CourseEntry>, StoreError> {
        self.rows(
            r#"SELECT value FROM courses ORDER BY id COLLATE "C""#,
            params![],
        )?
        .iter()
        .map(|row| decode("courses", row.get::<_, &[u8]>(0)))
        .collect()
    }

    fn course_version(&self, id: &str, version: u32) -> Result<Option<Course>, StoreError> {
        let value = self.value(
            "SELECT value FROM course_versions WHERE id = $1 AND version = $2",
            params![id.to_string(), version_column(version)],
        )?;
        record("course_versions", value)
    }

    fn lesson_course(&self, lesson: &str) -> Result<Option<String>, StoreError> {
        let rows = self.rows(
            "SELECT course FROM lessons WHERE id = $1",
            params![lesson.to_string()],
        )?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    fn catalog_seq(&self) -> Result<u64, StoreError> {
        let rows = self.rows(
            "SELECT value FROM counters WHERE name = 'catalog'",
            params![],
        )?;
        let value: i64 = rows.first().map_or(0, |r| r.get(0));
        u64::try_from(value).map_err(|_| StoreError::Corrupt {
            tree: "counters",
            reason: format!("the catalog counter is negative: {value}"),
        })
    }

    fn save_draft(&self, entry: &CourseEntry, new_lessons: &[String]) -> Result<(), StoreError> {
        self.writable()?;
        let id = entry.id().to_string();
        let value = bytes(entry);
        // As on sled, a lesson id already claimed is claimed again by this course. Sorted and
        // deduplicated: one upsert may not touch a row twice, and concurrent drafts lock lessons
        // in one order.
        let mut lessons = new_lessons.to_vec();
        lessons.sort();
        lessons.dedup();
        self.transaction(move |tx| {
            Box::pin(async move {
                exec(
                    tx,
                    "INSERT INTO courses (id, value) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
                    &params![id.clone(), value],
                )
                .await?;
                if !lessons.is_empty() {
                    exec(
                        tx,
                        "INSERT INTO lessons (id, course) SELECT l, $1 FROM unnest($2::text[]) AS l
                         ON CONFLICT (id) DO UPDATE SET course = EXCLUDED.course",
                        &params![id, lessons],
                    )
                    .await?;
                }
                Ok(())
            })
        })
    }

    fn save_change(&self, entry: &CourseEntry, frozen: Option<&Course>) -> Result<u64, StoreError> {
        self.writable()?;
        let mut entry = entry.clone();
        let frozen = frozen.map(|c| (c.id.clone(), version_column(c.version), bytes(c)));
        self.transaction(move |tx| {
            Box::pin(async move {
                // The counter's row lock serialises changes, so numbers commit in order.
                let seq = next(tx, "catalog").await?;
                entry.changed_seq = u64::try_from(seq).map_err(|_| StoreError::Corrupt {
                    tree: "counters",
                    reason: format!("the catalog counter is negative: {seq}"),
                })?;
                exec(
                    tx,
                    "INSERT INTO courses (id, value) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
                    &params![entry.id().to_string(), bytes(&entry)],
                )
                .await?;
                if let Some((id, version, value)) = frozen {
                    exec(
                        tx,
                        "INSERT INTO course_versions (id, version, value) VALUES ($1, $2, $3)
                         ON CONFLICT (id, version) DO UPDATE SET value = EXCLUDED.value",
                        &params![id, version, value],
                    )
                    .await?;
                }
                Ok(entry.changed_seq)
            })
        })
    }
}

impl UploadRepo for PgStore {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        let value = self.value(
            "SELECT value FROM uploads WHERE id = $1",
            params![id.to_string()],
        )?;
        record("uploads", value)
    }

    fn put_upload(&self, upload: &Upload) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO uploads (id, value) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
            params![upload.id.clone(), bytes(upload)],
        )?;
        Ok(())
    }

    fn remove_upload(&self, id: &str) -> Result<(), StoreError> {
        // Not refused on a nearly full disk, as on sled: removing frees space.
        self.rows("DELETE FROM uploads WHERE id = $1", params![id.to_string()])?;
        Ok(())
    }

    fn uploads(&self) -> Result<Vec<Upload>, StoreError> {
        self.rows(
            r#"SELECT value FROM uploads ORDER BY id COLLATE "C""#,
            params![],
        )?
        .iter()
        .map(|row| decode("uploads", row.get::<_, &[u8]>(0)))
        .collect()
    }
}
