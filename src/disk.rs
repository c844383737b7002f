//! The data disk: the free-space floor (sled can corrupt its files when the disk fills up, so
//! below `storage.min_free_bytes` every write is refused before it starts, while reads go on),
//! and folders made so that they survive a power cut.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FreeSpaceFloor {
    dir: PathBuf,
    min_free: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    #[error("only {free} bytes free on the data disk, below the floor of {floor} (storage.min_free_bytes); writes are refused until space is freed")]
    BelowFloor { free: u64, floor: u64 },
    #[error("cannot read free space of the data disk: {0}")]
    Unknown(#[from] io::Error),
}

impl FreeSpaceFloor {
    pub fn new(dir: &Path, min_free: u64) -> Self {
        FreeSpaceFloor {
            dir: dir.to_path_buf(),
            min_free,
        }
    }

    pub fn free_bytes(&self) -> io::Result<u64> {
        fs4::available_space(&self.dir)
    }

    pub fn min_free(&self) -> u64 {
        self.min_free
    }

    /// Ok when a write may start.
    pub fn check(&self) -> Result<(), SpaceError> {
        if self.min_free == 0 {
            return Ok(());
        }
        let free = self.free_bytes()?;
        if free < self.min_free {
            return Err(SpaceError::BelowFloor {
                free,
                floor: self.min_free,
            });
        }
        Ok(())
    }
}

/// fsyncs a folder, so the entries made in it (files, folders, renames) are on disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Makes `dir` and every missing folder between it and `root` (which must exist), one level at
/// a time, handing each new folder's parent to `sync` once the folder is in it: a new folder's
/// own fsync does not make its entry in the parent durable, and a file fsynced inside a folder
/// whose entry is lost after a power cut is lost with it. Returns the folders made, outermost
/// first; none when `dir` was already there.
pub fn create_dirs(
    root: &Path,
    dir: &Path,
    mut sync: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<Vec<PathBuf>> {
    if dir.is_dir() {
        return Ok(Vec::new());
    }
    let below = dir.strip_prefix(root).map_err(|_| {
        io::Error::other(format!(
            "{} is not inside {}",
            dir.display(),
            root.display()
        ))
    })?;
    let mut made = Vec::new();
    let mut level = root.to_path_buf();
    for part in below.components() {
        let parent = level.clone();
        level.push(part);
        match std::fs::create_dir(&level) {
            Ok(()) => {
                sync(&parent)?;
                made.push(level.clone());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && level.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_new_folder_is_synced_into_its_parent_once_it_exists() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let synced: std::cell::RefCell<Vec<(PathBuf, Vec<String>)>> = Default::default();
        let record = |dir: &Path| {
            let mut entries: Vec<String> = std::fs::read_dir(dir)?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<io::Result<_>>()?;
            entries.sort();
            synced.borrow_mut().push((dir.to_path_buf(), entries));
            Ok(())
        };
        let made = create_dirs(root, &root.join("blobs/ab/cd"), record).unwrap();
        assert_eq!(
            made,
            [
                root.join("blobs"),
                root.join("blobs/ab"),
                root.join("blobs/ab/cd")
            ]
        );
        assert_eq!(
            *synced.borrow(),
            [
                (root.to_path_buf(), vec!["blobs".to_string()]),
                (root.join("blobs"), vec!["ab".to_string()]),
                (root.join("blobs/ab"), vec!["cd".to_string()]),
            ],
            "each parent is synced after its new entry is in it"
        );
        // Levels that exist are neither made nor synced again.
        synced.borrow_mut().clear();
        let made = create_dirs(root, &root.join("blobs/ab/ef"), record).unwrap();
        assert_eq!(made, [root.join("blobs/ab/ef")]);
        assert_eq!(synced.borrow().len(), 1);
        assert_eq!(synced.borrow()[0].0, root.join("blobs/ab"));
        synced.borrow_mut().clear();
        assert!(create_dirs(root, &root.join("blobs/ab/ef"), record)
            .unwrap()
            .is_empty());
        assert!(synced.borrow().is_empty());
    }

    #[test]
    fn a_folder_outside_the_root_is_refused_and_a_failed_sync_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        assert!(create_dirs(root.path(), &other.path().join("x"), |_| Ok(())).is_err());
        let failed = create_dirs(root.path(), &root.path().join("x"), |_| {
            Err(io::Error::other("disk gone"))
        });
        assert!(failed.is_err());
    }
}
