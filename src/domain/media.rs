//! What a media file is (its probe), whether it can play, and the rendition ladder made from
//! it: pure rules over plain values, so they are tested without FFmpeg.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Video,
    Audio,
    Subtitle,
    Data,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    pub index: usize,
    pub kind: StreamKind,
    pub codec: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Frames per second, to three decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<u64>,
    /// ISO 639-2 tag from the container, e.g. "bod", "uig".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether a first frame of it actually decoded.
    pub decodable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub container: String,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<u64>,
    pub streams: Vec<StreamInfo>,
    /// Milliseconds of media the demuxer could actually read, per the last packet of any stream.
    pub readable_ms: u64,
}

impl Probe {
    /// The first decodable video stream.
    pub fn video(&self) -> Option<&StreamInfo> {
        self.streams
            .iter()
            .find(|s| s.kind == StreamKind::Video && s.decodable)
    }

    pub fn audio(&self) -> impl Iterator<Item = &StreamInfo> {
        self.streams
            .iter()
            .filter(|s| s.kind == StreamKind::Audio && s.decodable)
    }
}

impl Probe {
    /// One line for people: "15.0 s · h264 640x360 25 fps · aac 1 ch 48000 Hz [zho]".
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("{:.1} s", self.duration_ms as f64 / 1000.0)];
        for s in &self.streams {
            let mut part = s.codec.clone();
            if let (Some(w), Some(h)) = (s.width, s.height) {
                part.push_str(&format!(" {w}x{h}"));
            }
            if let Some(fps) = s.frame_rate {
                part.push_str(&format!(" {fps} fps"));
            }
            if let (Some(ch), Some(rate)) = (s.channels, s.sample_rate) {
                part.push_str(&format!(" {ch} ch {rate} Hz"));
            }
            if let Some(lang) = &s.language {
                part.push_str(&format!(" [{lang}]"));
            }
            if !s.decodable {
                part.push_str(" (does not decode)");
            }
            parts.push(part);
        }
        parts.join(" · ")
    }
}

/// What the server agrees to process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_duration_ms: u64,
    /// Streams of any kind in one file.
    pub max_streams: usize,
    /// Frames per second of the video.
    pub max_frame_rate: u32,
}

/// The FFmpeg demuxers of real lesson files: MP4/MOV/M4A, Matroska/WebM, MPEG-TS, AVI, FLV, MP3,
/// AAC (ADTS), WAV, Ogg and FLAC. Playlists and indirections (HLS, DASH, concat, image
/// sequences…) are not here: each of them opens further files or URLs named inside the upload.
pub const ACCEPTED_FORMATS: &[&str] = &[
    "mov", "mp4", "m4a", "matroska", "webm", "mpegts", "avi", "flv", "mp3", "aac", "wav", "ogg",
    "flac",
];

/// Whether a demuxer, by FFmpeg's name for it (a comma list such as "mov,mp4,m4a,3gp,3g2,mj2"),
/// is one of the accepted ones.
pub fn format_accepted(name: &str) -> bool {
    name.split(',')
        .any(|n| ACCEPTED_FORMATS.contains(&n.trim()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Unplayable {
    #[error("the file is empty")]
    Empty,
    #[error("not a media file FFmpeg can read: {0}")]
    Unreadable(String),
    #[error(
        "{format} is not a format this server accepts (MP4/MOV, Matroska/WebM, MPEG-TS, AVI, \
         FLV, MP3, AAC, M4A, WAV, Ogg, FLAC)"
    )]
    FormatNotAccepted { format: String },
    #[error("{streams} streams are more than the {max} this server accepts")]
    TooManyStreams { streams: usize, max: usize },
    #[error("no audio or video stream decodes")]
    NoDecodableStream,
    #[error("the duration is zero or unknown")]
    NoDuration,
    #[error("{width}x{height} is larger than the {max_width}x{max_height} this server accepts")]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("{} fps is faster than the {max} fps this server accepts", *.millifps as f64 / 1000.0)]
    FrameRateTooHigh { millifps: u64, max: u32 },
    #[error("{duration_ms} ms is longer than the {max_ms} ms this server accepts")]
    TooLong { duration_ms: u64, max_ms: u64 },
    #[error("the file is truncated: only {readable_ms} of {duration_ms} ms can be read")]
    Truncated { readable_ms: u64, duration_ms: u64 },
}

/// Media that reads shorter than it claims by more than a frame or two (or 1%) is truncated.
fn truncation_slack_ms(duration_ms: u64) -> u64 {
    (duration_ms / 100).max(200)
}

/// How far past the duration limit media is read before it is called too long: a last frame's
/// duration, so a file of exactly the limit passes.
pub const DURATION_SLACK_MS: u64 = 1_000;

/// Whether a file with `streams` streams may be looked at further (checked before any decoder
/// is opened, so a file of a thousand streams costs nothing).
pub fn check_stream_count(streams: usize, limits: &Limits) -> Result<(), Unplayable> {
    if streams > limits.max_streams {
        return Err(Unplayable::TooManyStreams {
            streams,
            max: limits.max_streams,
        });
    }
    Ok(())
}

/// Whether media read up to `read_ms` (by packet timestamps) is still within the duration
/// limit; readers stop at the first `Err`, whatever the container claims.
pub fn check_read_so_far(read_ms: u64, limits: &Limits) -> Result<(), Unplayable> {
    if read_ms > limits.max_duration_ms.saturating_add(DURATION_SLACK_MS) {
        return Err(Unplayable::TooLong {
            duration_ms: read_ms,
            max_ms: limits.max_duration_ms,
        });
    }
    Ok(())
}

/// Whether a probed file can play, with the first reason it cannot. The duration limit holds
/// for what could be read as well as for what the container claims: a header saying 1 s does
/// not let six hours through.
pub fn check_playable(probe: &Probe, limits: &Limits) -> Result<(), Unplayable> {
    if !format_accepted(&probe.container) {
        return Err(Unplayable::FormatNotAccepted {
            format: probe.container.clone(),
        });
    }
    check_stream_count(probe.streams.len(), limits)?;
    if probe.video().is_none() && probe.audio().next().is_none() {
        return Err(Unplayable::NoDecodableStream);
    }
    if probe.duration_ms == 0 {
        return Err(Unplayable::NoDuration);
    }
    let longest = probe.duration_ms.max(probe.readable_ms);
    if longest > limits.max_duration_ms {
        return Err(Unplayable::TooLong {
            duration_ms: longest,
            max_ms: limits.max_duration_ms,
        });
    }
    if let Some(v) = probe.video() {
        let (w, h) = (v.width.unwrap_or(0), v.height.unwrap_or(0));
        if w == 0 || h == 0 || w > limits.max_width || h > limits.max_height {
            return Err(Unplayable::TooLarge {
                width: w,
                height: h,
                max_width: limits.max_width,
                max_height: limits.max_height,
            });
        }
    }
    for v in probe.streams.iter().filter(|s| s.kind == StreamKind::Video) {
        let fps = v.frame_rate.unwrap_or(0.0);
        if fps > f64::from(limits.max_frame_rate) {
            return Err(Unplayable::FrameRateTooHigh {
                millifps: (fps * 1000.0).round() as u64,
                max: limits.max_frame_rate,
            });
        }
    }
    if probe.readable_ms + truncation_slack_ms(probe.duration_ms) < probe.duration_ms {
        return Err(Unplayable::Truncated {
            readable_ms: probe.readable_ms,
            duration_ms: probe.duration_ms,
        });
    }
    Ok(())
}

/// Whether work found interrupted at start-up (a media job, an upload's probe) is tried again.
/// Each try is counted when it starts, so work that takes the server or its worker down with it
/// is given up after `max_attempts`, not retried in a loop for ever.
pub fn retry_after_interruption(attempts: u32, max_attempts: u32) -> bool {
    attempts < max_attempts
}

/// The reason recorded for work given up by `retry_after_interruption`.
pub fn interrupted_reason(attempts: u32) -> String {
    format!(
        "stopped before it finished on each of {attempts} tries (the server or its media worker \
         died); not tried again"
    )
}

/// One rung of the configured ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    pub name: String,
    pub height: u32,
    pub video_kbps: u32,
}

/// A rendition to make from a given source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub video_kbps: u32,
}

/// The rungs no taller than the source (renditions never upscale), sized to keep its shape,
/// with even dimensions as 4:2:0 video needs. A source smaller than every rung still gets one
/// rendition, at its own size and the lowest rung's rate, so every lesson has an HLS video.
pub fn plan_ladder(source_width: u32, source_height: u32, rungs: &[Rung]) -> Vec<PlannedRendition> {
    let even = |x: u64| (x.max(2).div_ceil(2) * 2) as u32;
    let lowest = rungs.iter().min_by_key(|r| r.height);
    if let Some(lowest) = lowest.filter(|r| r.height > source_height && source_height >= 2) {
        let height = source_height - source_height % 2;
        return vec![PlannedRendition {
            name: format!("{height}p"),
            width: source_width - source_width % 2,
            height,
            video_kbps: lowest.video_kbps,
        }];
    }
    rungs
        .iter()
        .filter(|r| r.height <= source_height && source_height > 0)
        .map(|r| {
            let width = u64::from(source_width) * u64::from(r.height) / u64::from(source_height);
            PlannedRendition {
                name: r.name.clone(),
                width: even(width).min(source_width - source_width % 2),
                height: even(u64::from(r.height)),
                video_kbps: r.video_kbps,
            }
        })
        .collect()
}

/// A variant stream of the HLS master playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The variant playlist's path relative to the master playlist.
    pub uri: String,
    pub peak_bps: u64,
    pub average_bps: u64,
    pub resolution: Option<(u32, u32)>,
    pub codecs: String,
}

/// Peak and average bits per second of a variant, from its segments' (duration, size).
pub fn bandwidth(segments: &[(u64, u64)]) -> (u64, u64) {
    let bps = |ms: u64, bytes: u64| bytes * 8 * 1000 / ms.max(1);
    let peak = segments
        .iter()
        .map(|&(ms, b)| bps(ms, b))
        .max()
        .unwrap_or(0);
    let total_ms: u64 = segments.iter().map(|s| s.0).sum();
    let total_bytes: u64 = segments.iter().map(|s| s.1).sum();
    (peak, bps(total_ms, total_bytes))
}

/// The master playlist listing every variant, best first (RFC 8216 §4.3.4.2).
pub fn master_playlist(variants: &[Variant]) -> String {
    let mut sorted: Vec<&Variant> = variants.iter().collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.peak_bps));
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in sorted {
        out.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={}",
            v.peak_bps.max(1),
            v.average_bps.max(1)
        ));
        if let Some((w, h)) = v.resolution {
            out.push_str(&format!(",RESOLUTION={w}x{h}"));
        }
        out.push_str(&format!(",CODECS=\"{}\"\n{}\n", v.codecs, v.uri));
    }
    out
}

/// The segments of a media playlist: (duration in ms, URI), from its `#EXTINF` lines.
pub fn playlist_segments(playlist: &str) -> Vec<(u64, String)> {
    let mut segments = Vec::new();
    let mut pending: Option<u64> = None;
    for line in playlist.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            let secs = rest.split(',').next().unwrap_or("0");
            pending = secs
                .parse::<f64>()
                .ok()
                .map(|s| (s * 1000.0).round() as u64);
        } else if !line.is_empty() && !line.starts_with('#') {
            if let Some(ms) = pending.take() {
                segments.push((ms, line.to_string()));
            }
        }
    }
    segments
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;
