//! The free-space floor. sled can corrupt its files when the disk fills up, so below
//! `storage.min_free_bytes` every write is refused before it starts, while reads go on.

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
