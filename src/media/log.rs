//! FFmpeg's own log, routed into `tracing` (target `ffmpeg`) instead of stderr.
//!
//! The one place with `unsafe` in the crate: FFmpeg reports through a C callback with a
//! `va_list`, which only FFmpeg itself (`av_log_format_line2`) can turn into text.
#![allow(unsafe_code)]

use ffmpeg_next::ffi;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};

thread_local! {
    /// The demuxer FFmpeg last refused on this thread for not being on the format whitelist.
    static REFUSED_FORMAT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The demuxer FFmpeg refused on this thread since the last call, by its name.
///
/// FFmpeg frees the format context when the whitelist refuses it, so its name survives only
/// in the log line, prefixed as "[hls @ 0x…] Format not on whitelist 'mov,…'" (FFmpeg 5.1).
pub fn take_refused_format() -> Option<String> {
    REFUSED_FORMAT.with(|r| r.borrow_mut().take())
}

fn note_refused_format(line: &str) {
    if !line.contains("Format not on whitelist") {
        return;
    }
    let name = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(" @ "))
        .map(|(name, _)| name.to_string());
    if let Some(name) = name {
        REFUSED_FORMAT.with(|r| *r.borrow_mut() = Some(name));
    }
}

/// Installs the callback; FFmpeg keeps calling it from any thread.
pub fn route_into_tracing() {
    // SAFETY: `forward` matches FFmpeg's callback signature and only reads its arguments.
    unsafe {
        ffi::av_log_set_level(ffi::AV_LOG_INFO);
        ffi::av_log_set_callback(Some(forward));
    }
}

unsafe extern "C" fn forward(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    args: *mut ffi::__va_list_tag,
) {
    if level > ffi::AV_LOG_INFO {
        return;
    }
    let mut line = [0 as c_char; 1024];
    let mut print_prefix: c_int = 1;
    // SAFETY: FFmpeg formats into our buffer, bounded by its length and NUL-terminated;
    // `avcl`, `fmt` and `args` come straight from FFmpeg for exactly this call.
    let text = unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            args,
            line.as_mut_ptr(),
            line.len() as c_int,
            &mut print_prefix,
        );
        CStr::from_ptr(line.as_ptr())
    };
    let text = text.to_string_lossy();
    let text = text.trim_end();
    if text.is_empty() {
        return;
    }
    note_refused_format(text);
    // FFmpeg's errors are mostly about input we then reject with a reason of our own.
    if level <= ffi::AV_LOG_FATAL {
        tracing::error!(target: "ffmpeg", "{text}");
    } else if level <= ffi::AV_LOG_ERROR {
        tracing::warn!(target: "ffmpeg", "{text}");
    } else {
        tracing::debug!(target: "ffmpeg", "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refused_demuxer_is_read_from_its_log_line() {
        note_refused_format("[hls @ 0x55d0c0de] Format not on whitelist 'mov,mp4'");
        assert_eq!(take_refused_format().as_deref(), Some("hls"));
        assert_eq!(take_refused_format(), None);
        note_refused_format("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] moov atom not found");
        assert_eq!(take_refused_format(), None);
    }
}
