//! Opening a file for FFmpeg to read: a local file only, through the demuxers of real lesson
//! files only. An uploaded HLS or DASH playlist, or a concat list, would otherwise make FFmpeg
//! open the URLs and files named inside it.

use super::MediaError;
use crate::domain::media::{format_accepted, Unplayable, ACCEPTED_FORMATS};
use ffmpeg_next::{format, Dictionary, Packet};
use std::path::Path;

/// Opens `path` for reading with `protocol_whitelist=file` (which nested opens inherit, so no
/// demuxer can reach the network) and `format_whitelist` set to the accepted demuxers; the
/// detected format is checked again by name. A refused format is `Unplayable` with its name;
/// any other failure is FFmpeg's (the caller knows whether that makes the file unplayable).
pub fn open(path: &Path) -> Result<format::context::Input, MediaError> {
    super::init();
    let absolute = std::path::absolute(path)?;
    let Some(absolute) = absolute.to_str() else {
        return Err(
            Unplayable::Unreadable(format!("{} is not a UTF-8 path", path.display())).into(),
        );
    };
    // "file:" said outright: a path with a colon in it must not be taken for another protocol.
    let url = format!("file:{absolute}");
    let mut options = Dictionary::new();
    options.set("protocol_whitelist", "file");
    options.set("format_whitelist", &ACCEPTED_FORMATS.join(","));
    let _ = super::log::take_refused_format();
    match format::input_with_dictionary(&url, options) {
        Ok(input) => {
            let name = input.format().name().to_string();
            if format_accepted(&name) {
                Ok(input)
            } else {
                Err(Unplayable::FormatNotAccepted { format: name }.into())
            }
        }
        Err(e) => match super::log::take_refused_format() {
            Some(format) => Err(Unplayable::FormatNotAccepted { format }.into()),
            None => Err(e.into()),
        },
    }
}

/// Whether FFmpeg failed for want of memory (an allocation refused under the worker's RLIMIT_AS).
pub fn is_out_of_memory(e: &ffmpeg_next::Error) -> bool {
    matches!(e, ffmpeg_next::Error::Other { errno } if *errno == ffmpeg_next::util::error::ENOMEM)
}

/// The next packet of `input` with its stream's index; `None` at the end. A corrupt packet is
/// skipped (the demuxer resyncs past it) and another read error ends the file, as FFmpeg's own
/// packet iterator does; but running out of memory is an error, so a worker at its memory
/// limit never takes it for the end of a short file.
pub fn next_packet(
    input: &mut format::context::Input,
) -> Result<Option<(usize, Packet)>, MediaError> {
    let mut packet = Packet::empty();
    loop {
        match packet.read(input) {
            Ok(()) => return Ok(Some((packet.stream(), packet))),
            Err(ffmpeg_next::Error::InvalidData) => continue,
            Err(e) if is_out_of_memory(&e) => return Err(e.into()),
            Err(_) => return Ok(None),
        }
    }
}
