//! Lesson videos for browser tests, made with the ffmpeg CLI: a test picture and a tone, H.264
//! yuv420p and AAC in MP4 with the index first, which every browser plays.

use std::path::Path;
use std::process::Command;

/// Writes `seconds` of the lavfi `picture` (e.g. `testsrc2=size=320x240:rate=25`) with a tone
/// to `out`, encoded with `video` (preset, GOP or bitrate arguments for libx264).
pub fn make_lesson_video(out: &Path, picture: &str, seconds: u32, video: &[&str]) {
    let result = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i", picture])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(video)
        .args(["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"])
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
