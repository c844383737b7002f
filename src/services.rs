//! The application: the infrastructure (`Infra`, below every use case) and the state the use
//! cases keep above it — the catalogue view, the ledger's members in memory, upload writers,
//! sign-in counters, people locks, the media workers' wake-up — opened once from the settings.
//! `Services` dereferences to its `Infra`.

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::digest::Sha256;
use crate::repo::StoreError;
use std::sync::Arc;

pub use crate::infra::{AddBlobError, Infra, OpenError};

pub struct Services {
    pub infra: Infra,
    pub jobs_wakeup: crate::media::jobs::Wakeup,
    pub catalog: crate::catalog::Catalog,
    pub ledger: crate::ledger::Ledger,
    pub upload_writers: crate::uploads::Writing,
    /// What people changes are made under, so none undoes another.
    pub locks: crate::people::Locks,
    /// Sign-in attempts, buckets and Argon2 checks in flight.
    pub sign_in: crate::sign_in::Guard,
    /// Issues and checks the play sessions members' reports are credited on.
    pub play_sessions: crate::ledger::evidence::PlaySessions,
}

impl std::ops::Deref for Services {
    type Target = Infra;
    fn deref(&self) -> &Infra {
        &self.infra
    }
}

impl Services {
    pub fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, OpenError> {
        let infra = Infra::open(settings, clock)?;
        let (store, settings) = (&infra.store, &infra.settings);
        let (requeued, failed) = store.requeue_interrupted_jobs(settings.media.max_attempts)?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "media jobs interrupted by a stop are queued again"
            );
        }
        if failed > 0 {
            tracing::warn!(
                failed,
                "media jobs interrupted on every try are failed, not queued again"
            );
        }
        // Read once now, so a damaged organisation record is logged at start.
        store.org_directory()?;
        let indexed = store.index_token_owners()?;
        if indexed > 0 {
            tracing::info!(indexed, "tokens indexed by their member or station");
        }
        let ledger = crate::ledger::Ledger::new(settings.ledger_rules());
        let sign_in = crate::sign_in::Guard::new(&settings.auth);
        let play_sessions = crate::ledger::evidence::PlaySessions::open(&**store)?;
        // Deliveries under sessions older than any report the ledger still takes back them.
        let kept_ms = settings.ledger.offline_max_age.as_millis() as i64 + 86_400_000;
        let pruned = store.prune_deliveries(infra.now_ms() as i64 - kept_ms)?;
        if pruned > 0 {
            tracing::info!(pruned, "deliveries under expired play sessions forgotten");
        }
        Ok(Services {
            infra,
            jobs_wakeup: Default::default(),
            catalog: Default::default(),
            ledger,
            upload_writers: Default::default(),
            locks: Default::default(),
            sign_in,
            play_sessions,
        })
    }
}

/// The media pipeline tells the application when a job's files are stored; the catalogue and
/// the uploads waiting for them go on from there.
impl crate::media::jobs::JobHost for Services {
    fn wakeup(&self) -> &crate::media::jobs::Wakeup {
        &self.jobs_wakeup
    }

    fn files_ready(&self, source: &Sha256) -> Result<(), StoreError> {
        crate::catalog::files_ready(self, source)?;
        crate::uploads::attach_ready(self, source)
    }
}

impl crate::people::PeopleHost for Services {
    fn locks(&self) -> &crate::people::Locks {
        &self.locks
    }
}

impl crate::sign_in::SignInHost for Services {
    fn guard(&self) -> &crate::sign_in::Guard {
        &self.sign_in
    }
}

impl crate::catalog::CatalogHost for Services {
    fn catalog(&self) -> &crate::catalog::Catalog {
        &self.catalog
    }
}

impl crate::uploads::UploadsHost for Services {
    fn writing(&self) -> &crate::uploads::Writing {
        &self.upload_writers
    }
}

impl crate::ledger::LedgerHost for Services {
    fn ledger(&self) -> &crate::ledger::Ledger {
        &self.ledger
    }
    fn play_sessions(&self) -> &crate::ledger::evidence::PlaySessions {
        &self.play_sessions
    }
}
