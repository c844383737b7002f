//! HLS VOD packaging: each rendition remuxed (no re-encoding) into fMP4 segments of about
//! `segment_secs` with its own playlist, and a master playlist that lists them all.

use super::output::Written;
use super::MediaError;
use crate::domain::media::{bandwidth, master_playlist, playlist_segments, Variant};
use ffmpeg_next::{codec, encoder, format, Dictionary};
use std::path::Path;

/// Every rendition's codecs: H.264 Main (level chosen by x264, announced as 3.0, which covers
/// the 360p ladder) with AAC-LC, or AAC-LC alone.
const VIDEO_CODECS: &str = "avc1.4D401E,mp4a.40.2";
const VIDEO_ONLY_CODECS: &str = "avc1.4D401E";
const AUDIO_CODECS: &str = "mp4a.40.2";

/// Packages `renditions` under `dir/hls/` and returns every file made, named by its path
/// under `/media/{source}/` (e.g. `hls/240p/seg-00001.m4s`).
pub fn package(
    renditions: &[Written],
    dir: &Path,
    segment_secs: u32,
) -> Result<Vec<Written>, MediaError> {
    let hls = dir.join("hls");
    let mut files = Vec::new();
    let mut variants = Vec::new();
    for rendition in renditions
        .iter()
        .filter(|r| r.name.ends_with(".mp4") || r.name.ends_with(".m4a"))
    {
        let stem = rendition
            .name
            .rsplit_once('.')
            .map_or(rendition.name.as_str(), |(s, _)| s);
        let out_dir = hls.join(stem);
        std::fs::create_dir_all(&out_dir)?;
        remux(&rendition.path, &out_dir, segment_secs)?;
        let playlist = std::fs::read_to_string(out_dir.join("index.m3u8"))?;
        let segments = playlist_segments(&playlist);
        if segments.is_empty() {
            return Err(MediaError::Hls(format!(
                "{} produced no segments",
                rendition.name
            )));
        }
        let mut sized = Vec::new();
        for (ms, uri) in &segments {
            sized.push((*ms, std::fs::metadata(out_dir.join(uri))?.len()));
        }
        let (peak_bps, average_bps) = bandwidth(&sized);
        let codecs = match (rendition.resolution, rendition.has_audio) {
            (Some(_), true) => VIDEO_CODECS,
            (Some(_), false) => VIDEO_ONLY_CODECS,
            (None, _) => AUDIO_CODECS,
        };
        variants.push(Variant {
            uri: format!("{stem}/index.m3u8"),
            peak_bps,
            average_bps,
            resolution: rendition.resolution,
            codecs: codecs.to_string(),
        });
        let names = std::iter::once("index.m3u8".to_string())
            .chain(std::iter::once("init.mp4".to_string()))
            .chain(segments.into_iter().map(|(_, uri)| uri));
        for name in names {
            files.push(Written {
                name: format!("hls/{stem}/{name}"),
                path: out_dir.join(&name),
                resolution: None,
                has_audio: false,
            });
        }
    }
    let master = hls.join("master.m3u8");
    std::fs::write(&master, master_playlist(&variants))?;
    files.push(Written {
        name: "hls/master.m3u8".to_string(),
        path: master,
        resolution: None,
        has_audio: false,
    });
    Ok(files)
}

/// Copies every stream of `source` into an HLS fMP4 packaging in `out_dir`.
fn remux(source: &Path, out_dir: &Path, segment_secs: u32) -> Result<(), MediaError> {
    let mut input = super::input::open(source)?;
    let mut output = format::output_as(&out_dir.join("index.m3u8"), "hls")?;
    let mut time_bases = Vec::new();
    for stream in input.streams() {
        let mut out = output.add_stream(encoder::find(codec::Id::None))?;
        out.set_parameters(stream.parameters());
        out.set_metadata(stream.metadata().to_owned());
        time_bases.push(stream.time_base());
    }
    let mut opts = Dictionary::new();
    opts.set("hls_time", &segment_secs.to_string());
    opts.set("hls_playlist_type", "vod");
    opts.set("hls_segment_type", "fmp4");
    opts.set("hls_fmp4_init_filename", "init.mp4");
    let segment_pattern = out_dir.join("seg-%05d.m4s");
    opts.set("hls_segment_filename", &segment_pattern.to_string_lossy());
    let unused: Vec<String> = output
        .write_header_with(opts)?
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    if !unused.is_empty() {
        // A misspelt muxer option is ignored silently by FFmpeg: refuse instead.
        return Err(MediaError::Hls(format!(
            "the HLS muxer ignored {}",
            unused.join(", ")
        )));
    }
    let out_time_bases: Vec<_> = output.streams().map(|s| s.time_base()).collect();
    while let Some((i, mut packet)) = super::input::next_packet(&mut input)? {
        packet.rescale_ts(time_bases[i], out_time_bases[i]);
        packet.set_position(-1);
        packet.set_stream(i);
        packet.write_interleaved(&mut output)?;
    }
    output.write_trailer()?;
    Ok(())
}
