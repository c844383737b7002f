//! ffmpeg-next: probing, renditions, thumbnails, HLS packaging and the persistent job queue
//! that runs them. FFmpeg itself runs only in `yuanjiao media worker` processes (`worker`),
//! which the server starts and watches through `isolation`; the server never opens an
//! uploaded file with FFmpeg. Everything here blocks; callers run it on worker threads.

mod input;
pub mod isolation;
mod log;
pub mod probe;
pub mod protocol;
pub mod worker;

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
mod output;
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
