//! One pass over a source: decode once, then scale and encode every rung of the ladder
//! (H.264 yuv420p, fixed keyframe interval), encode each audio track once as AAC and mux it
//! into every output, and take the thumbnail on the way.

use super::MediaError;
use crate::domain::media::PlannedRendition;
use ffmpeg_next::format::{sample::Type as SampleType, Pixel, Sample};
use ffmpeg_next::software::{resampling, scaling};
use ffmpeg_next::{
    codec, encoder, format, frame, media, ChannelLayout, Dictionary, Packet, Rational,
};
use std::path::{Path, PathBuf};

const AUDIO_RATE: u32 = 48_000;

#[derive(Debug, Clone)]
pub struct EncodeSettings {
    pub audio_kbps: u32,
    pub keyframe_secs: u32,
    pub x264_preset: String,
    pub threads: usize,
    pub thumbnail_width: u32,
}

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
struct Output {
    written: Written,
    ctx: format::context::Output,
    /// Output stream index of the video, if any.
    video: Option<usize>,
    /// Output stream index per audio track (same order as `Pipeline::audio`).
    audio: Vec<usize>,
}

struct VideoRung {
    scaler: scaling::Context,
    encoder: encoder::Video,
    output: usize,
    width: u32,
    height: u32,
}

struct AudioTrack {
    source_index: usize,
    decoder: ffmpeg_next::decoder::Audio,
    resampler: resampling::Context,
    encoder: encoder::Audio,
    /// Resampled samples waiting for a full encoder frame, one Vec per channel.
    fifo: Vec<Vec<f32>>,
    next_pts: i64,
}

/// x264 settings. Slice threads, not frame threads: with frame threads x264's output varies
/// from run to run, and a job redone after a crash must make the very same blobs.
fn h264_options(settings: &EncodeSettings, kbps: u32, keyint: u32) -> Dictionary<'static> {
    let mut opts = Dictionary::new();
    opts.set("preset", &settings.x264_preset);
    opts.set("profile", "main");
    opts.set("threads", &settings.threads.to_string());
    opts.set(
        "x264-params",
        &format!(
            "keyint={keyint}:min-keyint={keyint}:scenecut=0:vbv-maxrate={max}:vbv-bufsize={buf}:sliced-threads=1",
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
/// and `thumbnail.jpg`. `progress` hears the share of the source done, 0 to 100.
pub fn transcode(
    source: &Path,
    ladder: &[PlannedRendition],
    settings: &EncodeSettings,
    dir: &Path,
    progress: &mut dyn FnMut(u8),
) -> Result<Vec<Written>, MediaError> {
    super::init();
    let mut input = format::input(source)?;
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
        let decoder = codec::context::Context::from_parameters(params)?
            .decoder()
            .audio()?;
        let channels = decoder.channels().clamp(1, 2);
        let out_layout = if channels == 1 {
            ChannelLayout::MONO
        } else {
            ChannelLayout::STEREO
        };
        let in_layout = if decoder.channel_layout().is_empty() {
            ChannelLayout::default(i32::from(decoder.channels()))
        } else {
            decoder.channel_layout()
        };
        let resampler = resampling::Context::get(
            decoder.format(),
            in_layout,
            decoder.rate(),
            Sample::F32(SampleType::Planar),
            out_layout,
            AUDIO_RATE,
        )?;
        let aac = encoder::find(codec::Id::AAC).ok_or(MediaError::MissingEncoder("aac"))?;
        let mut enc = codec::context::Context::new_with_codec(aac)
            .encoder()
            .audio()?;
        enc.set_rate(AUDIO_RATE as i32);
        enc.set_channel_layout(out_layout);
        enc.set_channels(i32::from(channels));
        enc.set_format(Sample::F32(SampleType::Planar));
        enc.set_bit_rate(settings.audio_kbps as usize * 1000);
        enc.set_time_base(Rational(1, AUDIO_RATE as i32));
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
        let encoder = enc.open_as(aac)?;
        audio.push(AudioTrack {
            source_index: index,
            decoder,
            resampler,
            encoder,
            fifo: vec![Vec::new(); usize::from(channels)],
            next_pts: 0,
        });
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
        video = Some((index, time_base, decoder, frame_ticks.max(1)));
    }
    if !audio.is_empty() {
        outputs.push(open_output(dir, "audio.m4a", None, true)?);
    }
    for out in outputs.iter_mut().filter(|o| o.written.has_audio) {
        for (track, language) in audio.iter().zip(&languages) {
            let mut stream = out.ctx.add_stream(encoder::find(codec::Id::AAC))?;
            stream.set_parameters(&track.encoder);
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
    let mut decoded = frame::Video::empty();
    let mut last_percent = 0;
    for (stream, packet) in input.packets() {
        let index = stream.index();
        if let Some((video_index, time_base, decoder, frame_ticks)) = video.as_mut() {
            if index == *video_index {
                decoder.send_packet(&packet)?;
                while decoder.receive_frame(&mut decoded).is_ok() {
                    let pts = decoded.timestamp();
                    decoded.set_pts(pts);
                    thumbnail.offer(&decoded, *time_base)?;
                    encode_video_frame(
                        &mut rungs,
                        &mut outputs,
                        &out_time_bases,
                        Some(&decoded),
                        *time_base,
                        *frame_ticks,
                    )?;
                    let done_us = pts.unwrap_or(0) * 1_000_000 * i64::from(time_base.numerator())
                        / i64::from(time_base.denominator()).max(1);
                    let percent = (done_us * 100 / duration_us).clamp(0, 99) as u8;
                    if percent > last_percent {
                        last_percent = percent;
                        progress(percent);
                    }
                }
                continue;
            }
        }
        if let Some(t) = audio.iter().position(|a| a.source_index == index) {
            audio[t].decoder.send_packet(&packet)?;
            drain_audio(&mut audio, t, &mut outputs, &out_time_bases, false)?;
        }
    }
    if let Some((_, time_base, decoder, frame_ticks)) = video.as_mut() {
        decoder.send_eof()?;
        while decoder.receive_frame(&mut decoded).is_ok() {
            let pts = decoded.timestamp();
            decoded.set_pts(pts);
            thumbnail.offer(&decoded, *time_base)?;
            encode_video_frame(
                &mut rungs,
                &mut outputs,
                &out_time_bases,
                Some(&decoded),
                *time_base,
                *frame_ticks,
            )?;
        }
        encode_video_frame(
            &mut rungs,
            &mut outputs,
            &out_time_bases,
            None,
            *time_base,
            *frame_ticks,
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

/// Resamples what track `t` decoded into its FIFO, encodes whole AAC frames (and, at the end,
/// the rest) and writes every packet into every output that carries audio.
fn drain_audio(
    audio: &mut [AudioTrack],
    t: usize,
    outputs: &mut [Output],
    out_time_bases: &[Vec<Rational>],
    at_end: bool,
) -> Result<(), MediaError> {
    let track = &mut audio[t];
    let mut decoded = frame::Audio::empty();
    while track.decoder.receive_frame(&mut decoded).is_ok() {
        let mut resampled = frame::Audio::empty();
        track.resampler.run(&decoded, &mut resampled)?;
        push_samples(&mut track.fifo, &resampled);
    }
    if at_end {
        let mut rest = frame::Audio::empty();
        if track.resampler.flush(&mut rest).is_ok() && rest.samples() > 0 {
            push_samples(&mut track.fifo, &rest);
        }
    }
    let frame_size = (track.encoder.frame_size() as usize).max(1);
    while track.fifo[0].len() >= frame_size || (at_end && !track.fifo[0].is_empty()) {
        let n = track.fifo[0].len().min(frame_size);
        let layout = if track.fifo.len() == 1 {
            ChannelLayout::MONO
        } else {
            ChannelLayout::STEREO
        };
        let mut chunk = frame::Audio::new(Sample::F32(SampleType::Planar), n, layout);
        chunk.set_rate(AUDIO_RATE);
        for (ch, samples) in track.fifo.iter_mut().enumerate() {
            chunk.plane_mut::<f32>(ch)[..n].copy_from_slice(&samples[..n]);
            samples.drain(..n);
        }
        chunk.set_pts(Some(track.next_pts));
        track.next_pts += n as i64;
        track.encoder.send_frame(&chunk)?;
        write_audio_packets(track, t, outputs, out_time_bases)?;
    }
    if at_end {
        track.encoder.send_eof()?;
        write_audio_packets(track, t, outputs, out_time_bases)?;
    }
    Ok(())
}

fn push_samples(fifo: &mut [Vec<f32>], frame: &frame::Audio) {
    let n = frame.samples();
    for (ch, samples) in fifo.iter_mut().enumerate() {
        samples.extend_from_slice(&frame.plane::<f32>(ch)[..n]);
    }
}

fn write_audio_packets(
    track: &mut AudioTrack,
    t: usize,
    outputs: &mut [Output],
    out_time_bases: &[Vec<Rational>],
) -> Result<(), MediaError> {
    let mut packet = Packet::empty();
    while track.encoder.receive_packet(&mut packet).is_ok() {
        for (o, out) in outputs.iter_mut().enumerate() {
            let Some(&stream) = out.audio.get(t) else {
                continue;
            };
            let mut copy = packet.clone();
            copy.set_stream(stream);
            copy.rescale_ts(Rational(1, AUDIO_RATE as i32), out_time_bases[o][stream]);
            copy.write_interleaved(&mut out.ctx)?;
        }
    }
    Ok(())
}
