//! Content-addressed files on disk: `<data>/blobs/ab/cd/<sha256>`. Bytes are hashed while they
//! stream into a temp file, which is fsynced and renamed into place, so a blob path either
//! holds the complete, verified content or does not exist. Every folder on the way is made
//! durably (its parent fsynced, up to the data folder), so a blob is not lost with the entry
//! of a folder made just for it.

use crate::disk::{FreeSpaceFloor, SpaceError};
use crate::domain::digest::Sha256;
use sha2::Digest as _;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// How often a long write re-checks the free-space floor.
const FLOOR_CHECK_EVERY: u64 = 8 << 20;

pub struct BlobStore {
    data_dir: PathBuf,
    root: PathBuf,
    tmp: PathBuf,
    floor: FreeSpaceFloor,
    /// fsyncs a folder (`disk::sync_dir`; tests watch it).
    sync_dir: fn(&Path) -> io::Result<()>,
    /// Held while a blob's folders are checked and made: a put that finds a folder another
    /// put has just made must not acknowledge before that folder's entry is synced.
    making: Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Space(#[from] SpaceError),
}

/// The outcome of storing bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub sha256: Sha256,
    pub size: u64,
    /// False when identical content was already there.
    pub new: bool,
}

/// Reads `reader` to the end in chunks of `chunk` bytes, hashing each and handing it to `each`;
/// returns the hash and the length.
fn hash_chunks(
    reader: &mut impl Read,
    chunk: usize,
    mut each: impl FnMut(&[u8]) -> Result<(), BlobError>,
) -> Result<(Sha256, u64), BlobError> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; chunk];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        hasher.update(&buf[..n]);
        each(&buf[..n])?;
        size += n as u64;
    }
    Ok((Sha256::from_bytes(hasher.finalize().into()), size))
}

impl BlobStore {
    /// Opens (creating) the blob folders and removes temp files a crash left behind.
    pub fn open(data_dir: &Path, floor: FreeSpaceFloor) -> io::Result<Self> {
        Self::open_syncing(data_dir, floor, crate::disk::sync_dir)
    }

    fn open_syncing(
        data_dir: &Path,
        floor: FreeSpaceFloor,
        sync_dir: fn(&Path) -> io::Result<()>,
    ) -> io::Result<Self> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        crate::disk::create_dirs(data_dir, &root, sync_dir)?;
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        Ok(BlobStore {
            data_dir: data_dir.to_path_buf(),
            root,
            tmp,
            floor,
            sync_dir,
            making: Mutex::new(()),
        })
    }

    /// Makes the folders of a blob's path that are missing, each synced into its parent.
    fn make_parent(&self, path: &Path) -> io::Result<PathBuf> {
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        let _making = self.making.lock().unwrap_or_else(PoisonError::into_inner);
        crate::disk::create_dirs(&self.data_dir, &parent, self.sync_dir)?;
        Ok(parent)
    }

    pub fn path(&self, sha256: &Sha256) -> PathBuf {
        let hex = sha256.to_hex();
        self.root.join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    pub fn open_blob(&self, sha256: &Sha256) -> io::Result<File> {
        File::open(self.path(sha256))
    }

    /// Streams `reader` into the store.
    pub fn put(&self, mut reader: impl Read) -> Result<Stored, BlobError> {
        self.floor.check()?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.tmp)?;
        let mut since_check = 0u64;
        let (sha256, size) = hash_chunks(&mut reader, 256 << 10, |chunk| {
            temp.write_all(chunk)?;
            since_check += chunk.len() as u64;
            if since_check >= FLOOR_CHECK_EVERY {
                self.floor.check()?;
                since_check = 0;
            }
            Ok(())
        })?;
        let path = self.path(&sha256);
        if path.is_file() {
            return Ok(Stored {
                sha256,
                size,
                new: false,
            });
        }
        temp.as_file().sync_all()?;
        let parent = self.make_parent(&path)?;
        temp.persist(&path).map_err(|e| e.error)?;
        // The rename is durable only once the directory entry is.
        (self.sync_dir)(&parent)?;
        Ok(Stored {
            sha256,
            size,
            new: true,
        })
    }

    /// The sha-256 and size of a file's bytes.
    pub fn hash_file(&self, file: &Path) -> Result<(Sha256, u64), BlobError> {
        hash_chunks(&mut File::open(file)?, 1 << 20, |_| Ok(()))
    }

    /// Moves a finished file (on the same disk, fsynced by its writer, hashed by `hash_file`)
    /// into the store under its hash, without copying it. The file is gone afterwards either
    /// way; moving it again after a crash finds the blob already there.
    pub fn move_in(&self, file: &Path, sha256: &Sha256) -> Result<bool, BlobError> {
        let path = self.path(sha256);
        if path.is_file() {
            match fs::remove_file(file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
                _ => return Ok(false),
            }
        }
        File::open(file)?.sync_all()?;
        let parent = self.make_parent(&path)?;
        fs::rename(file, &path)?;
        (self.sync_dir)(&parent)?;
        Ok(true)
    }

    /// An empty working folder inside the temp area (swept at start-up, so a crash leaves nothing).
    pub fn scratch_dir(&self, name: &str) -> io::Result<PathBuf> {
        let dir = self.tmp.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// True when a file can be created and removed in the store's temp folder.
    pub fn is_writable(&self) -> bool {
        tempfile::NamedTempFile::new_in(&self.tmp).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> BlobStore {
        BlobStore::open(dir, FreeSpaceFloor::new(dir, 0)).unwrap()
    }

    #[test]
    fn identical_content_is_stored_once_at_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = store(dir.path());
        let first = blobs.put(&b"hello"[..]).unwrap();
        let again = blobs.put(&b"hello"[..]).unwrap();
        assert!(first.new && !again.new);
        assert_eq!(first.sha256, again.sha256);
        assert_eq!(
            first.sha256.to_hex(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(blobs
            .path(&first.sha256)
            .ends_with("2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        assert_eq!(fs::read(blobs.path(&first.sha256)).unwrap(), b"hello");
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn a_failed_read_leaves_no_blob_and_no_temp_file() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("link dropped"));
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let blobs = store(dir.path());
        assert!(blobs.put(Broken(3)).is_err());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);
    }

    #[test]
    fn leftover_temp_files_are_swept_at_open() {
        let dir = tempfile::tempdir().unwrap();
        drop(store(dir.path()));
        fs::write(dir.path().join("tmp/partial"), b"half a file").unwrap();
        drop(store(dir.path()));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    thread_local! {
        static SYNCED: std::cell::RefCell<Vec<PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Records the folder it is asked to sync (on this test's thread), then syncs it.
    fn watched_sync(dir: &Path) -> io::Result<()> {
        SYNCED.with(|s| s.borrow_mut().push(dir.to_path_buf()));
        crate::disk::sync_dir(dir)
    }

    fn synced() -> Vec<PathBuf> {
        SYNCED.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }

    #[test]
    fn new_blob_folders_are_synced_into_their_parents_up_to_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        let blobs =
            BlobStore::open_syncing(&data, FreeSpaceFloor::new(&data, 0), watched_sync).unwrap();
        assert_eq!(
            synced(),
            [data.as_path()],
            "blobs/ is synced into the data folder"
        );
        let first = blobs.put(&b"hello"[..]).unwrap();
        let leaf = blobs.path(&first.sha256).parent().unwrap().to_path_buf();
        let (ab, root) = (leaf.parent().unwrap(), data.join("blobs"));
        assert_eq!(synced(), [root.as_path(), ab, leaf.as_path()]);
        // A file moved in beside it, in the same `ab/` but a new `cd/`: only the new level
        // and the folder the file went into are synced.
        let hex = first.sha256.to_hex();
        let content = (0u32..)
            .map(|n| n.to_string())
            .find(|c| {
                let other = hex::encode(sha2::Sha256::digest(c.as_bytes()));
                other[..2] == hex[..2] && other[2..4] != hex[2..4]
            })
            .unwrap();
        let source = dir.path().join("moved");
        fs::write(&source, &content).unwrap();
        let (hash, _) = blobs.hash_file(&source).unwrap();
        assert!(blobs.move_in(&source, &hash).unwrap());
        let leaf = blobs.path(&hash).parent().unwrap().to_path_buf();
        assert_eq!(synced(), [ab.to_path_buf(), leaf]);
        // Content already stored makes nothing and syncs nothing.
        assert!(!blobs.put(&b"hello"[..]).unwrap().new);
        assert!(synced().is_empty());
    }

    #[test]
    fn writes_stop_below_the_free_space_floor() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path(), FreeSpaceFloor::new(dir.path(), u64::MAX)).unwrap();
        assert!(matches!(
            blobs.put(&b"x"[..]),
            Err(BlobError::Space(SpaceError::BelowFloor { .. }))
        ));
    }
}
