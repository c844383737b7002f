//! What a media file holds, read with FFmpeg: container, duration, streams, and whether each
//! stream decodes. Every packet is read once (no decoding past the first frames), so a file
//! cut short is found here, not when forty members sit before a blank screen; reading stops
//! once the packets pass the duration limit, whatever the container claims.

use super::MediaError;
use crate::domain::media::{
    check_read_so_far, check_stream_count, Limits, Probe, StreamInfo, StreamKind, Unplayable,
};
use ffmpeg_next::{codec, frame, media, Rational};
use std::collections::HashMap;
use std::path::Path;

/// Packets tried per stream before it is called undecodable.
const DECODE_ATTEMPTS: usize = 64;

fn to_ms(ts: i64, tb: Rational) -> u64 {
    if tb.denominator() == 0 || ts <= 0 {
        return 0;
    }
    (i128::from(ts) * i128::from(tb.numerator()) * 1000 / i128::from(tb.denominator())) as u64
}

fn kind(medium: media::Type) -> StreamKind {
    match medium {
        media::Type::Video => StreamKind::Video,
        media::Type::Audio => StreamKind::Audio,
        media::Type::Subtitle => StreamKind::Subtitle,
        media::Type::Data => StreamKind::Data,
        _ => StreamKind::Other,
    }
}

/// A stream's decoder while probing, until it yields a first frame.
enum Trial {
    Video(ffmpeg_next::decoder::Video),
    Audio(ffmpeg_next::decoder::Audio),
}

/// Whether a step of a trial decode made a frame; only running out of memory is an error (a
/// stream that does not decode is a finding, not a failure).
fn decoded(step: Result<(), ffmpeg_next::Error>) -> Result<bool, MediaError> {
    match step {
        Ok(()) => Ok(true),
        Err(e) if super::input::is_out_of_memory(&e) => Err(e.into()),
        Err(_) => Ok(false),
    }
}

impl Trial {
    /// Feeds one packet; true once a frame came out.
    fn feed(&mut self, packet: &ffmpeg_next::Packet) -> Result<bool, MediaError> {
        let sent = match self {
            Trial::Video(d) => d.send_packet(packet),
            Trial::Audio(d) => d.send_packet(packet),
        };
        Ok(decoded(sent)? && self.receive()?)
    }

    /// Drains the decoder at the end of the file (a short file may hold fewer packets than it delays).
    fn finish(&mut self) -> Result<bool, MediaError> {
        let sent = match self {
            Trial::Video(d) => d.send_eof(),
            Trial::Audio(d) => d.send_eof(),
        };
        Ok(decoded(sent)? && self.receive()?)
    }

    fn receive(&mut self) -> Result<bool, MediaError> {
        decoded(match self {
            Trial::Video(d) => d.receive_frame(&mut frame::Video::empty()),
            Trial::Audio(d) => d.receive_frame(&mut frame::Audio::empty()),
        })
    }
}

/// Reads `path`; an unreadable or empty file, one of too many streams, or one whose packets
/// run past the duration limit is `MediaError::Unplayable` with its reason; any other error
/// (out of memory) is the worker's, not the file's. The probe of a readable file may still be
/// unplayable: see `domain::media::check_playable`. Runs in the media worker.
pub fn probe(path: &Path, limits: &Limits) -> Result<Probe, MediaError> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(Unplayable::Empty.into());
    }
    let mut input = match super::input::open(path) {
        Ok(input) => input,
        Err(MediaError::Ffmpeg(e)) if !super::input::is_out_of_memory(&e) => {
            return Err(Unplayable::Unreadable(e.to_string()).into())
        }
        Err(e) => return Err(e),
    };
    check_stream_count(input.streams().count(), limits)?;
    let mut streams = Vec::new();
    let mut trials: HashMap<usize, (Trial, usize)> = HashMap::new();
    let mut starts: HashMap<usize, (i64, Rational)> = HashMap::new();
    for stream in input.streams() {
        let params = stream.parameters();
        let medium = params.medium();
        let mut info = StreamInfo {
            index: stream.index(),
            kind: kind(medium),
            codec: params.id().name().to_string(),
            width: None,
            height: None,
            frame_rate: None,
            channels: None,
            sample_rate: None,
            bit_rate: u64::try_from(params.bit_rate()).ok().filter(|b| *b > 0),
            language: stream
                .metadata()
                .get("language")
                .filter(|l| !l.is_empty() && *l != "und")
                .map(str::to_string),
            decodable: false,
        };
        starts.insert(
            stream.index(),
            (stream.start_time().max(0), stream.time_base()),
        );
        let decoder = match codec::context::Context::from_parameters(params) {
            Err(e) if super::input::is_out_of_memory(&e) => return Err(e.into()),
            opened => opened.map(|c| c.decoder()),
        };
        match (medium, decoder) {
            (media::Type::Video, Ok(d)) => {
                if let Ok(v) = d.video() {
                    info.width = Some(v.width());
                    info.height = Some(v.height());
                    let rate = stream.avg_frame_rate();
                    if rate.denominator() > 0 && rate.numerator() > 0 {
                        info.frame_rate = Some((f64::from(rate) * 1000.0).round() / 1000.0);
                    }
                    trials.insert(stream.index(), (Trial::Video(v), 0));
                }
            }
            (media::Type::Audio, Ok(d)) => {
                if let Ok(a) = d.audio() {
                    info.channels = Some(a.channels());
                    info.sample_rate = Some(a.rate());
                    trials.insert(stream.index(), (Trial::Audio(a), 0));
                }
            }
            _ => {}
        }
        streams.push(info);
    }
    let mut readable_ms = 0u64;
    while let Some((index, packet)) = super::input::next_packet(&mut input)? {
        let Some(&(start, tb)) = starts.get(&index) else {
            continue;
        };
        if let Some(pts) = packet.pts().or(packet.dts()) {
            let end = to_ms(pts - start + packet.duration().max(0), tb);
            readable_ms = readable_ms.max(end);
            check_read_so_far(readable_ms, limits)?;
        }
        if let Some((trial, tried)) = trials.get_mut(&index) {
            if *tried < DECODE_ATTEMPTS {
                *tried += 1;
                if trial.feed(&packet)? {
                    mark_decodable(&mut streams, index);
                    trials.remove(&index);
                }
            }
        }
    }
    for (index, (mut trial, _)) in trials {
        if trial.finish()? {
            mark_decodable(&mut streams, index);
        }
    }
    let duration = input.duration();
    let duration_ms = if duration > 0 {
        to_ms(duration, Rational(1, ffmpeg_next::ffi::AV_TIME_BASE))
    } else {
        readable_ms
    };
    Ok(Probe {
        container: input.format().name().to_string(),
        duration_ms,
        bit_rate: u64::try_from(input.bit_rate()).ok().filter(|b| *b > 0),
        streams,
        readable_ms,
    })
}

fn mark_decodable(streams: &mut [StreamInfo], index: usize) {
    if let Some(s) = streams.iter_mut().find(|s| s.index == index) {
        s.decodable = true;
    }
}
