//! The persistent media job queue. A job per video source lives in sled; job threads claim one
//! at a time (counting the attempt), have a media worker process make every derived file in a
//! scratch folder, store each as a blob, and only then record them. A job interrupted by a
//! crash is found `processing` at start-up and redone from the beginning while it has attempts
//! left, and failed once it has none; its scratch folder went with the temp area, so nothing
//! partial is kept.

use super::isolation::{Isolation, ProbeError, TranscodeError, TranscodeJob, WorkerError};
use super::transcode::EncodeSettings;
use super::MediaError;
use crate::config::Settings;
use crate::domain::digest::Sha256;
use crate::domain::media::{plan_ladder, Probe};
use crate::infra::{AddBlobError, HasInfra};
use crate::repo::{Job, JobStatus, StoreError};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] AddBlobError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error("the source has no probe and no decodable video")]
    NoVideo,
}

impl From<TranscodeError> for JobError {
    fn from(e: TranscodeError) -> Self {
        match e {
            TranscodeError::Unplayable(u) => JobError::Media(MediaError::Unplayable(u)),
            TranscodeError::Worker(w) => JobError::Worker(w),
        }
    }
}

impl From<ProbeError> for JobError {
    fn from(e: ProbeError) -> Self {
        match e {
            ProbeError::Unplayable(u) => JobError::Media(MediaError::Unplayable(u)),
            ProbeError::Worker(w) => JobError::Worker(w),
        }
    }
}

impl JobError {
    /// Retrying cannot help a file that does not play.
    fn is_permanent(&self) -> bool {
        matches!(
            self,
            JobError::Media(MediaError::Unplayable(_)) | JobError::NoVideo
        )
    }
}

/// Probes, in a media worker, a file that is about to become a media asset, and checks it
/// against `media.max_*`; the reason when it cannot play.
pub fn admit(settings: &Settings, path: &Path) -> Result<Probe, ProbeError> {
    Isolation::for_probes(settings).probe(path, &settings.media_limits())
}

/// What the pipeline needs of the application it runs in: the infrastructure, the wake-up its
/// workers wait on, and someone to tell when a job's files are stored. The pipeline calls no use
/// case itself: the catalogue and the uploads waiting for a source's files hear of it here.
pub trait JobHost: HasInfra + Send + Sync {
    fn wakeup(&self) -> &Wakeup;
    /// Everything made from `source` is stored; an error fails the job (it is tried again).
    fn files_ready(&self, source: &Sha256) -> Result<(), StoreError>;
}

impl<T: std::ops::Deref + Send + Sync> JobHost for T
where
    T::Target: JobHost,
{
    fn wakeup(&self) -> &Wakeup {
        (**self).wakeup()
    }
    fn files_ready(&self, source: &Sha256) -> Result<(), StoreError> {
        (**self).files_ready(source)
    }
}

/// Records an admitted blob's probe and, for video, queues its job unless it has one.
/// Returns true when a job was queued.
pub fn register(host: &impl JobHost, sha256: &Sha256, probe: &Probe) -> Result<bool, StoreError> {
    let store = &host.infra().store;
    if store.probe(sha256)?.as_ref() != Some(probe) {
        store.put_probe(sha256, probe)?;
    }
    if probe.video().is_none() || store.job(sha256)?.is_some() {
        return Ok(false);
    }
    store.put_job(sha256, &Job::queued())?;
    host.wakeup().notify();
    Ok(true)
}

/// Wakes idle workers when a job is queued.
#[derive(Default)]
pub struct Wakeup {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl Wakeup {
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.signal.notify_all();
    }

    fn wait(&self, at_most: Duration) {
        let guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (mut pending, _) = self
            .signal
            .wait_timeout_while(guard, at_most, |pending| !*pending)
            .unwrap_or_else(|p| p.into_inner());
        *pending = false;
    }
}

/// Claims and runs one queued job; None when the queue is empty.
pub fn run_next(
    host: &impl JobHost,
    progress: &mut dyn FnMut(&Sha256, u8),
) -> Result<Option<(Sha256, Job)>, StoreError> {
    let services = host.infra();
    let Some((sha256, job)) = services.store.claim_job()? else {
        return Ok(None);
    };
    services.store.flush()?;
    let started = Instant::now();
    tracing::info!(%sha256, attempt = job.attempts, "media job started");
    let mut last_saved = Instant::now();
    let mut report = |percent: u8| {
        progress(&sha256, percent);
        if last_saved.elapsed() >= Duration::from_millis(500) {
            last_saved = Instant::now();
            let _ = services.store.put_job(
                &sha256,
                &Job {
                    percent,
                    ..job.clone()
                },
            );
        }
    };
    let outcome = process(host, &sha256, &mut report);
    let finished = match outcome {
        Ok(()) => {
            tracing::info!(%sha256, seconds = started.elapsed().as_secs_f64(), "media job ready");
            Job {
                status: JobStatus::Ready,
                percent: 100,
                error: None,
                ..job
            }
        }
        Err(e) => {
            let retry = !e.is_permanent() && job.attempts < services.settings.media.max_attempts;
            tracing::warn!(%sha256, error = %e, retry, "media job failed");
            Job {
                status: if retry {
                    JobStatus::Queued
                } else {
                    JobStatus::Failed
                },
                percent: 0,
                error: Some(e.to_string()),
                unplayable: e.is_permanent(),
                ..job
            }
        }
    };
    services.store.put_job(&sha256, &finished)?;
    services.store.flush()?;
    Ok(Some((sha256, finished)))
}

/// Makes and records everything derived from one source.
fn process(
    host: &impl JobHost,
    sha256: &Sha256,
    progress: &mut dyn FnMut(u8),
) -> Result<(), JobError> {
    let services = host.infra();
    let settings = &services.settings.media;
    let source = services.blobs.path(sha256);
    let probe = match services.store.probe(sha256)? {
        Some(p) => p,
        None => admit(&services.settings, &source)?,
    };
    let video = probe.video().ok_or(JobError::NoVideo)?;
    let ladder = plan_ladder(
        video.width.unwrap_or(0),
        video.height.unwrap_or(0),
        &settings.ladder,
    );
    let scratch = services
        .blobs
        .scratch_dir(&format!("job-{sha256}"))
        .map_err(MediaError::from)?;
    let encode = EncodeSettings {
        audio_kbps: settings.audio_kbps,
        keyframe_secs: settings.keyframe_secs,
        x264_preset: settings.x264_preset.clone(),
        threads: settings.threads,
        thumbnail_width: settings.thumbnail_width,
    };
    let job = TranscodeJob {
        source: &source,
        dir: &scratch,
        ladder: &ladder,
        encode: &encode,
        segment_secs: settings.segment_secs,
        limits: services.settings.media_limits(),
    };
    let files = Isolation::for_jobs(&services.settings).transcode(job, progress);
    let files = match files {
        Ok(files) => files,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(e.into());
        }
    };
    let mut derived = Vec::with_capacity(files.len());
    for file in &files {
        let reader = std::fs::File::open(&file.path).map_err(MediaError::from)?;
        let name = file.name.rsplit('/').next().unwrap_or(&file.name);
        let (stored, _) = services.add_blob(reader, name)?;
        derived.push((file.name.clone(), stored.sha256));
    }
    services.store.set_derived(sha256, &derived)?;
    services.store.flush()?;
    host.files_ready(sha256)?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Starts `media.workers` threads that run queued jobs as they come.
pub fn spawn_workers<H: JobHost + 'static>(host: Arc<H>) -> std::io::Result<()> {
    for n in 0..host.infra().settings.media.workers {
        let services = Arc::clone(&host);
        std::thread::Builder::new()
            .name(format!("media-worker-{n}"))
            .spawn(move || loop {
                match run_next(&services, &mut |_, _| {}) {
                    Ok(Some(_)) => continue,
                    Ok(None) => services.wakeup().wait(Duration::from_secs(5)),
                    Err(e) => {
                        tracing::error!(error = %e, "media queue unavailable");
                        services.wakeup().wait(Duration::from_secs(5));
                    }
                }
            })?;
    }
    Ok(())
}
