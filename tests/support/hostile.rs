//! Media files made to hurt a server, crafted with the ffmpeg CLI at test time: a container
//! whose header lies about its duration, one of many streams, playlists that name other files
//! and URLs, and a long source to catch a job in the middle.

use std::path::{Path, PathBuf};
use std::process::Command;

fn ffmpeg(args: &[&str], out: &Path) {
    let result = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(out)
        .output()
        .expect("ffmpeg is installed (scripts/install-deps)");
    assert!(
        result.status.success(),
        "ffmpeg could not make {}: {}",
        out.display(),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// A Matroska file that holds `real_secs` of small video and audio, but whose Segment Info
/// `Duration` (EBML id 0x4489, written by FFmpeg as an 8-byte float of milliseconds) is
/// rewritten to say `claimed_ms`. FFmpeg trusts that element for the file's duration.
pub fn lying_mkv(dir: &Path, real_secs: u32, claimed_ms: f64) -> PathBuf {
    let honest = dir.join("honest.mkv");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=sample_rate=8000",
            "-t",
            &real_secs.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "16k",
        ],
        &honest,
    );
    let mut bytes = std::fs::read(&honest).unwrap();
    let at = bytes
        .windows(3)
        .position(|w| w == [0x44, 0x89, 0x88])
        .expect("the muxer wrote an 8-byte Duration");
    bytes[at + 3..at + 11].copy_from_slice(&claimed_ms.to_be_bytes());
    let lying = dir.join("lying.mkv");
    std::fs::write(&lying, bytes).unwrap();
    lying
}

/// One second of video with `audio_streams` audio streams.
pub fn many_audio_streams(dir: &Path, audio_streams: usize) -> PathBuf {
    let out = dir.join("many-streams.mp4");
    let mut args: Vec<&str> = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=sample_rate=8000:duration=1",
        "-map",
        "0:v",
    ];
    for _ in 0..audio_streams {
        args.extend(["-map", "1:a"]);
    }
    args.extend([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "16k",
    ]);
    ffmpeg(&args, &out);
    out
}

/// Two seconds of MPEG-TS: a segment a playlist can name.
pub fn ts_segment(out: &Path) {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=sample_rate=8000:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
        out,
    );
}

/// An HLS media playlist whose first segment is `local` (a file elsewhere on the server's
/// disk) and whose second is `url`. The second is announced as a millisecond, so a reader that
/// follows the first and fails on the second sees nothing missing.
pub fn hls_playlist(local: &Path, url: &str) -> Vec<u8> {
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXTINF:2.0,\n{}\n#EXTINF:0.001,\n{url}\n#EXT-X-ENDLIST\n",
        local.display()
    )
    .into_bytes()
}

/// A concat list naming `file` (relative to the list, as the concat demuxer's safe mode allows).
pub fn concat_list(file: &str) -> Vec<u8> {
    format!("ffconcat version 1.0\nfile {file}\n").into_bytes()
}

/// A 720p source long enough to be caught mid-job (~10 s of work at the default settings).
pub fn long_source(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join("long-lesson.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=1280x720:rate=25:duration={seconds}"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
        &out,
    );
    out
}

/// Two seconds of 1080p, which a worker cannot transcode in 384 MiB of address space.
pub fn full_hd_source(dir: &Path) -> PathBuf {
    let out = dir.join("full-hd.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=30:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
        &out,
    );
    out
}

/// An executable shell script at `path`, for a media worker that misbehaves on purpose.
pub fn script(path: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}
