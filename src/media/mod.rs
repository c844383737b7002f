//! ffmpeg-next: probing, renditions, thumbnails, HLS packaging and the persistent job queue
//! that runs them. Everything here blocks; callers run it on worker threads.

mod log;
pub mod probe;

use std::sync::Once;

/// Initialises FFmpeg once per process and routes its log into `tracing`.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Err(e) = ffmpeg_next::init() {
            tracing::error!(error = %e, "FFmpeg failed to initialise");
        }
        log::route_into_tracing();
    });
}

mod audio;
pub mod hls;
pub mod jobs;
pub mod thumbnail;
pub mod transcode;

use crate::domain::media::Unplayable;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("FFmpeg: {0}")]
    Ffmpeg(#[from] ffmpeg_next::Error),
    #[error("this FFmpeg build has no {0} encoder")]
    MissingEncoder(&'static str),
    #[error("media files: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Unplayable(#[from] Unplayable),
    #[error("HLS packaging: {0}")]
    Hls(String),
}
