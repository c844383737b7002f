//! The audio half of a transcode: each source track decoded, resampled to 48 kHz planar float
//! (mono or stereo), buffered into whole AAC frames, encoded once, and muxed into every output
//! that carries audio, with its language tag.

use super::output::Output;
use super::MediaError;
use ffmpeg_next::format::{sample::Type as SampleType, Sample};
use ffmpeg_next::software::resampling;
use ffmpeg_next::{codec, encoder, frame, ChannelLayout, Packet, Rational};

pub const AUDIO_RATE: u32 = 48_000;

pub struct AudioTrack {
    pub source_index: usize,
    pub decoder: ffmpeg_next::decoder::Audio,
    resampler: resampling::Context,
    encoder: encoder::Audio,
    /// Resampled samples waiting for a full encoder frame, one Vec per channel.
    fifo: Vec<Vec<f32>>,
    next_pts: i64,
}

impl AudioTrack {
    /// The decoder, resampler and AAC encoder for source stream `index`.
    pub fn open(
        index: usize,
        params: codec::Parameters,
        kbps: u32,
    ) -> Result<AudioTrack, MediaError> {
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
        enc.set_bit_rate(kbps as usize * 1000);
        enc.set_time_base(Rational(1, AUDIO_RATE as i32));
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
        let encoder = enc.open_as(aac)?;
        Ok(AudioTrack {
            source_index: index,
            decoder,
            resampler,
            encoder,
            fifo: vec![Vec::new(); usize::from(channels)],
            next_pts: 0,
        })
    }

    /// The opened AAC encoder, whose parameters each output's audio stream copies.
    pub fn encoder(&self) -> &encoder::Audio {
        &self.encoder
    }
}

/// Resamples what track `t` decoded into its FIFO, encodes whole AAC frames (and, at the end,
/// the rest) and writes every packet into every output that carries audio.
pub fn drain_audio(
    audio: &mut [AudioTrack],
    t: usize,
    outputs: &mut [Output],
    out_time_bases: &[Vec<Rational>],
    at_end: bool,
) -> Result<(), MediaError> {
    let track = &mut audio[t];
    let mut decoded = frame::Audio::empty();
    while track.decoder.receive_frame(&mut decoded).is_ok() {
        // Room for every sample this input makes at the new rate: given a frame sized like the
        // input, the resampler would keep the surplus (9% from 44.1 kHz) and lose it at the end.
        let rate = u64::from(decoded.rate().max(1));
        let room = decoded.samples() as u64 * u64::from(AUDIO_RATE) / rate + 256;
        let layout = if track.fifo.len() == 1 {
            ChannelLayout::MONO
        } else {
            ChannelLayout::STEREO
        };
        let mut resampled =
            frame::Audio::new(Sample::F32(SampleType::Planar), room as usize, layout);
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
