//! One pass over a source: decode once, then scale and encode every rung of the ladder
//! (H.264 yuv420p, fixed keyframe interval), encode each audio track once as AAC and mux it
//! into every output, and take the thumbnail on the way.

use super::MediaError;
use crate::domain::media::{check_read_so_far, Limits, PlannedRendition};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::{codec, encoder, format, frame, media, Dictionary, Packet, Rational};
use std::path::Path;

use super::audio::{drain_audio, AudioTrack, AUDIO_RATE};
use super::output::Output;
pub use super::output::Written;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncodeSettings {
    pub audio_kbps: u32,
    pub keyframe_secs: u32,
    pub x264_preset: String,
    pub threads: usize,
    pub thumbnail_width: u32,
}

struct VideoRung {
    scaler: scaling::Context,
    encoder: encoder::Video,
    output: usize,
    width: u32,
    height: u32,
}

/// x264 settings. Slice threads, not frame threads: with frame threads x264's output varies
/// from run to run, and a job redone after a crash must make the very same blobs. Closed GOPs
/// (`open-gop=0`, said outright): a browser seeking to a keyframe must not need the group before.
fn h264_options(settings: &EncodeSettings, kbps: u32, keyint: u32) -> Dictionary<'static> {
    let mut opts = Dictionary::new();
    opts.set("preset", &settings.x264_preset);
    opts.set("profile", "main");
    opts.set("threads", &settings.threads.to_string());
    opts.set(
        "x264-params",
        &format!(
            "keyint={keyint}:min-keyint={keyint}:scenecut=0:open-gop=0:vbv-maxrate={max}:vbv-bufsize={buf}:sliced-threads=1",
            max = kbps * 3 / 2,
            buf = kbps * 2
        ),
    );
    opts
}

fn open_output(
    dir: &Path,
    name: &str,
    resolution: Option<(u32, u32)>,
    has_audio: bool,
) -> Result<Output, MediaError> {
    let path = dir.join(name);
    let ctx = format::output_as(&path, "mp4")?;
    Ok(Output {
        written: Written {
            name: name.to_string(),
            path,
            resolution,
            has_audio,
        },
        ctx,
        video: None,
        audio: Vec::new(),
    })
}

fn language_tag(language: Option<&str>) -> Dictionary<'static> {
    let mut d = Dictionary::new();
    if let Some(l) = language {
        d.set("language", l);
    }
    d
}

/// Makes `ladder` (and `audio.m4a` when the source has audio) from `source` into `dir`,
/// and `thumbnail.jpg`. `progress` hears the share of the source done, 0 to 100. Stops with
/// `Unplayable::TooLong` once packets pass the duration limit. Runs in the media worker.
pub fn transcode(
    source: &Path,
    ladder: &[PlannedRendition],
    settings: &EncodeSettings,
    limits: &Limits,
    dir: &Path,
    progress: &mut dyn FnMut(u8),
) -> Result<Vec<Written>, MediaError> {
    let mut input = super::input::open(source)?;
    let starts: Vec<(i64, Rational)> = input
        .streams()
        .map(|s| (s.start_time().max(0), s.time_base()))
        .collect();
    let duration_us = input.duration().max(1);
    let video_stream = input
        .streams()
        .best(media::Type::Video)
        .map(|s| (s.index(), s.time_base(), s.avg_frame_rate(), s.parameters()));
    let audio_streams: Vec<_> = input
        .streams()
        .filter(|s| s.parameters().medium() == media::Type::Audio)
        .map(|s| {
            (
                s.index(),
                s.parameters(),
                s.metadata().get("language").map(str::to_string),
            )
        })
        .collect();

    let mut audio = Vec::new();
    let mut languages = Vec::new();
    for (index, params, language) in audio_streams {
        audio.push(AudioTrack::open(index, params, settings.audio_kbps)?);
        languages.push(language.filter(|l| l != "und"));
    }

    let mut outputs: Vec<Output> = Vec::new();
    let mut rungs: Vec<VideoRung> = Vec::new();
    let mut video = None;
    if let Some((index, time_base, frame_rate, params)) = video_stream {
        let mut decoder = codec::context::Context::from_parameters(params)?;
        decoder.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Frame,
            count: settings.threads,
            safe: true,
        });
        let decoder = decoder.decoder().video()?;
        let fps = if frame_rate.numerator() > 0 && frame_rate.denominator() > 0 {
            frame_rate
        } else {
            Rational(25, 1)
        };
        let keyint = ((f64::from(fps) * f64::from(settings.keyframe_secs)).round() as u32).max(1);
        let h264 = encoder::find(codec::Id::H264).ok_or(MediaError::MissingEncoder("libx264"))?;
        for rung in ladder {
            let mut out = open_output(
                dir,
                &format!("{}.mp4", rung.name),
                Some((rung.width, rung.height)),
                !audio.is_empty(),
            )?;
            let mut enc = codec::context::Context::new_with_codec(h264)
                .encoder()
                .video()?;
            enc.set_width(rung.width);
            enc.set_height(rung.height);
            enc.set_format(Pixel::YUV420P);
            enc.set_time_base(time_base);
            enc.set_frame_rate(Some(fps));
            enc.set_gop(keyint);
            enc.set_bit_rate(rung.video_kbps as usize * 1000);
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
            let encoder =
                enc.open_as_with(h264, h264_options(settings, rung.video_kbps, keyint))?;
            let mut stream = out.ctx.add_stream(h264)?;
            stream.set_parameters(&encoder);
            stream.set_time_base(time_base);
            stream.set_avg_frame_rate(fps);
            out.video = Some(stream.index());
            let scaler = scaling::Context::get(
                decoder.format(),
                decoder.width(),
                decoder.height(),
                Pixel::YUV420P,
                rung.width,
                rung.height,
                scaling::Flags::BICUBIC,
            )?;
            rungs.push(VideoRung {
                scaler,
                encoder,
                output: outputs.len(),
                width: rung.width,
                height: rung.height,
            });
            outputs.push(out);
        }
        let frame_ticks = i64::from(time_base.denominator()) * i64::from(fps.denominator())
            / (i64::from(time_base.numerator()) * i64::from(fps.numerator())).max(1);
        video = Some(VideoPath {
            index,
            time_base,
            decoder,
            frame_ticks: frame_ticks.max(1),
            rungs: std::mem::take(&mut rungs),
            decoded: frame::Video::empty(),
        });
    }
    if !audio.is_empty() {
        outputs.push(open_output(dir, "audio.m4a", None, true)?);
    }
    for out in outputs.iter_mut().filter(|o| o.written.has_audio) {
        for (track, language) in audio.iter().zip(&languages) {
            let mut stream = out.ctx.add_stream(encoder::find(codec::Id::AAC))?;
            stream.set_parameters(track.encoder());
            stream.set_time_base(Rational(1, AUDIO_RATE as i32));
            stream.set_metadata(language_tag(language.as_deref()));
            out.audio.push(stream.index());
        }
    }
    for out in &mut outputs {
        let mut opts = Dictionary::new();
        opts.set("movflags", "+faststart");
        out.ctx.write_header_with(opts)?;
    }
    let out_time_bases: Vec<Vec<Rational>> = outputs
        .iter()
        .map(|o| o.ctx.streams().map(|s| s.time_base()).collect())
        .collect();

    let mut thumbnail =
        super::thumbnail::Thumbnailer::new(dir, settings.thumbnail_width, duration_us);
    let mut last_percent = 0;
    while let Some((index, packet)) = super::input::next_packet(&mut input)? {
        if let (Some(ts), Some(&(start, tb))) = (packet.pts().or(packet.dts()), starts.get(index)) {
            check_read_so_far(ts_ms(ts - start, tb), limits)?;
        }
        if let Some(video) = video.as_mut().filter(|v| v.index == index) {
            video.decoder.send_packet(&packet)?;
            if let Some(done_us) = video.drain(&mut outputs, &out_time_bases, &mut thumbnail)? {
                let percent = (done_us * 100 / duration_us).clamp(0, 99) as u8;
                if percent > last_percent {
                    last_percent = percent;
                    progress(percent);
                }
            }
        } else if let Some(t) = audio.iter().position(|a| a.source_index == index) {
            audio[t].decoder.send_packet(&packet)?;
            drain_audio(&mut audio, t, &mut outputs, &out_time_bases, false)?;
        }
    }
    if let Some(video) = video.as_mut() {
        video.decoder.send_eof()?;
        video.drain(&mut outputs, &out_time_bases, &mut thumbnail)?;
        encode_video_frame(
            &mut video.rungs,
            &mut outputs,
            &out_time_bases,
            None,
            video.time_base,
            video.frame_ticks,
        )?;
    }
    for t in 0..audio.len() {
        audio[t].decoder.send_eof()?;
        drain_audio(&mut audio, t, &mut outputs, &out_time_bases, true)?;
    }
    for out in &mut outputs {
        out.ctx.write_trailer()?;
    }
    let mut written: Vec<Written> = outputs.into_iter().map(|o| o.written).collect();
    if let Some(thumb) = thumbnail.finish()? {
        written.push(thumb);
    }
    progress(100);
    Ok(written)
}

/// Milliseconds of `ts` ticks of `tb` (0 for negative times).
fn ts_ms(ts: i64, tb: Rational) -> u64 {
    if ts <= 0 || tb.denominator() <= 0 || tb.numerator() <= 0 {
        return 0;
    }
    (i128::from(ts) * i128::from(tb.numerator()) * 1000 / i128::from(tb.denominator()))
        .try_into()
        .unwrap_or(u64::MAX)
}

/// The source's video: its decoder and the rungs its frames feed.
struct VideoPath {
    index: usize,
    time_base: Rational,
    decoder: ffmpeg_next::decoder::Video,
    /// One frame's duration in `time_base` units.
    frame_ticks: i64,
    rungs: Vec<VideoRung>,
    decoded: frame::Video,
}

impl VideoPath {
    /// Encodes every frame the decoder has ready into every rung (and offers it for the
    /// thumbnail); returns how far into the source the last one was, in microseconds.
    fn drain(
        &mut self,
        outputs: &mut [Output],
        out_time_bases: &[Vec<Rational>],
        thumbnail: &mut super::thumbnail::Thumbnailer,
    ) -> Result<Option<i64>, MediaError> {
        let mut reached = None;
        while self.decoder.receive_frame(&mut self.decoded).is_ok() {
            let pts = self.decoded.timestamp();
            self.decoded.set_pts(pts);
            thumbnail.offer(&self.decoded, self.time_base)?;
            encode_video_frame(
                &mut self.rungs,
                outputs,
                out_time_bases,
                Some(&self.decoded),
                self.time_base,
                self.frame_ticks,
            )?;
            let tb = self.time_base;
            reached = Some(
                pts.unwrap_or(0) * 1_000_000 * i64::from(tb.numerator())
                    / i64::from(tb.denominator()).max(1),
            );
        }
        Ok(reached)
    }
}

/// Sends one decoded frame (or, with None, the end) to every rung and writes what comes out.
fn encode_video_frame(
    rungs: &mut [VideoRung],
    outputs: &mut [Output],
    out_time_bases: &[Vec<Rational>],
    decoded: Option<&frame::Video>,
    time_base: Rational,
    frame_ticks: i64,
) -> Result<(), MediaError> {
    for rung in rungs.iter_mut() {
        match decoded {
            Some(frame) => {
                let mut scaled = frame::Video::new(Pixel::YUV420P, rung.width, rung.height);
                rung.scaler.run(frame, &mut scaled)?;
                scaled.set_pts(frame.pts());
                rung.encoder.send_frame(&scaled)?;
            }
            None => rung.encoder.send_eof()?,
        }
        let out = &mut outputs[rung.output];
        let stream = out.video.unwrap_or(0);
        let mut packet = Packet::empty();
        while rung.encoder.receive_packet(&mut packet).is_ok() {
            if packet.duration() <= 0 {
                // libx264 leaves durations unset; mp4 derives frame rates from them.
                packet.set_duration(frame_ticks);
            }
            packet.set_stream(stream);
            packet.rescale_ts(time_base, out_time_bases[rung.output][stream]);
            packet.write_interleaved(&mut out.ctx)?;
        }
    }
    Ok(())
}
