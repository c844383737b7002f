//! The lesson's thumbnail: one JPEG of the frame a second in (or a tenth of the way, for very
//! short videos), never wider than configured and never upscaled.

use super::output::Written;
use super::MediaError;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::{codec, encoder, frame, Packet, Rational};
use std::path::{Path, PathBuf};

pub const NAME: &str = "thumbnail.jpg";

pub struct Thumbnailer {
    path: PathBuf,
    max_width: u32,
    target_us: i64,
    /// The first frame seen, scaled, in case none reaches the target time.
    first: Option<frame::Video>,
    done: bool,
}

impl Thumbnailer {
    pub fn new(dir: &Path, max_width: u32, duration_us: i64) -> Self {
        Thumbnailer {
            path: dir.join(NAME),
            max_width: max_width.max(16),
            target_us: (duration_us / 10).min(1_000_000),
            first: None,
            done: false,
        }
    }

    /// Looks at a decoded frame; encodes the thumbnail from the first one at the target time.
    pub fn offer(&mut self, decoded: &frame::Video, time_base: Rational) -> Result<(), MediaError> {
        if self.done {
            return Ok(());
        }
        let at_us = decoded.pts().unwrap_or(0) * 1_000_000 * i64::from(time_base.numerator())
            / i64::from(time_base.denominator()).max(1);
        if at_us >= self.target_us {
            let small = self.scale(decoded)?;
            self.write(&small)?;
            self.done = true;
        } else if self.first.is_none() {
            self.first = Some(self.scale(decoded)?);
        }
        Ok(())
    }

    /// The thumbnail file, if the source had any frame.
    pub fn finish(mut self) -> Result<Option<Written>, MediaError> {
        if !self.done {
            match self.first.take() {
                Some(first) => self.write(&first)?,
                None => return Ok(None),
            }
        }
        Ok(Some(Written {
            name: NAME.to_string(),
            path: self.path,
            resolution: None,
            has_audio: false,
        }))
    }

    fn scale(&self, decoded: &frame::Video) -> Result<frame::Video, MediaError> {
        let (w, h) = (decoded.width().max(2), decoded.height().max(2));
        let width = self.max_width.min(w) / 2 * 2;
        let height = ((u64::from(h) * u64::from(width) / u64::from(w)) as u32 / 2 * 2).max(2);
        let mut scaler = scaling::Context::get(
            decoded.format(),
            w,
            h,
            Pixel::YUVJ420P,
            width,
            height,
            scaling::Flags::BICUBIC,
        )?;
        let mut small = frame::Video::new(Pixel::YUVJ420P, width, height);
        scaler.run(decoded, &mut small)?;
        small.set_pts(Some(0));
        Ok(small)
    }

    fn write(&self, small: &frame::Video) -> Result<(), MediaError> {
        let mjpeg = encoder::find(codec::Id::MJPEG).ok_or(MediaError::MissingEncoder("mjpeg"))?;
        let mut enc = codec::context::Context::new_with_codec(mjpeg)
            .encoder()
            .video()?;
        enc.set_width(small.width());
        enc.set_height(small.height());
        enc.set_format(Pixel::YUVJ420P);
        enc.set_time_base(Rational(1, 25));
        let mut opened = enc.open_as(mjpeg)?;
        opened.send_frame(small)?;
        opened.send_eof()?;
        let mut packet = Packet::empty();
        opened.receive_packet(&mut packet)?;
        std::fs::write(&self.path, packet.data().unwrap_or_default())?;
        Ok(())
    }
}
