//! What one transcode writes: the files, named as they will be served, and the muxer each is
//! written through, with which of its streams carries which encoder's packets.

use ffmpeg_next::format;
use std::path::PathBuf;

/// A file written into the output folder, named as it will be served under `/media/{source}/`.
#[derive(Debug, Clone)]
pub struct Written {
    pub name: String,
    pub path: PathBuf,
    /// (width, height) for video renditions.
    pub resolution: Option<(u32, u32)>,
    pub has_audio: bool,
}

/// One output file and which of its streams carries which encoder's packets.
pub(super) struct Output {
    pub(super) written: Written,
    pub(super) ctx: format::context::Output,
    /// Output stream index of the video, if any.
    pub(super) video: Option<usize>,
    /// Output stream index per audio track (same order as the tracks).
    pub(super) audio: Vec<usize>,
}
