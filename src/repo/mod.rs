//! The repositories the use cases stand on, one trait per noun, with the records they speak
//! in. An implementation keeps them durably: `store` on sled is the embedded one. Every trait
//! has one contract suite (tests/contract/) that each implementation must pass.

mod assets;
mod catalog;
mod ledger;
mod people;
mod uploads;

pub use assets::{AssetRepo, BlobMeta, BlobMetaRepo, Job, JobQueue, JobStatus};
pub use catalog::{CatalogRepo, CourseEntry};
pub use ledger::{
    DeliveredTo, DeliveryRepo, EntryKind, IdKind, LedgerEntry, LedgerRepo, LedgerWrite, MemberYear,
    RejectionRepo, SeenId,
};
pub use people::{
    owner_key, AuditEntry, AuditRepo, MemberRecord, OrgDirectory, PeopleRepo, PeopleWrite,
    Terminal, TokenRecord, TokenRepo,
};
pub use uploads::UploadRepo;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed: an I/O error, a lost connection, a refused query.
    #[error("database: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// A stored record that cannot be decoded: damage, or bytes of a later version.
    #[error("stored {tree} value cannot be read: {reason}")]
    Corrupt { tree: &'static str, reason: String },
    /// Writes reached the database but could not be made durable; none is acknowledged.
    #[error("writes could not be made durable: {0}")]
    NotDurable(String),
    /// A write made from state read before a failed write: refused, so it is retried afresh.
    #[error("{0}; try again")]
    Stale(&'static str),
    /// The server is shutting down.
    #[error("{0}")]
    Closed(&'static str),
    #[error(transparent)]
    Space(#[from] crate::disk::SpaceError),
}

/// Server secrets, made once and kept.
pub trait SecretRepo {
    /// The secret under `name`, made now if there is none yet.
    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError>;
}

/// Every repository, and what an implementation as a whole does: make writes durable, report
/// whether it answers, and refuse writes while its disk is nearly full.
pub trait Repositories:
    PeopleRepo
    + AuditRepo
    + TokenRepo
    + AssetRepo
    + JobQueue
    + BlobMetaRepo
    + CatalogRepo
    + UploadRepo
    + LedgerRepo
    + DeliveryRepo
    + RejectionRepo
    + SecretRepo
    + Send
    + Sync
{
    /// Makes every write so far durable; call before acknowledging.
    fn flush(&self) -> Result<(), StoreError>;

    /// Whether the database answers a read.
    fn is_open(&self) -> bool;

    /// Refuses writes while the disk is nearly full.
    fn writable(&self) -> Result<(), StoreError>;
}
