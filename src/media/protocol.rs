//! What `serve` and `yuanjiao media worker` say to each other over the worker's stdin and
//! stdout: one JSON object per line. The server writes one `Request`; the worker answers with
//! any number of `Answer::Progress` lines and then one final answer, and exits. Lines are
//! bounded, so a worker gone wrong cannot make the server buffer without end.

use super::transcode::EncodeSettings;
use crate::domain::media::{Limits, PlannedRendition, Probe, Unplayable};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

/// The longest line either side reads. The largest real answer is the file list of a six-hour
/// source: ~5,400 segments per rendition, ~30,000 names of ~60 bytes, under 2 MiB.
pub const MAX_LINE: usize = 16 << 20;

/// The limits the worker sets on itself (setrlimit) before it opens the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// RLIMIT_AS: bytes of address space.
    pub address_space_bytes: u64,
    /// RLIMIT_CPU: seconds of CPU time, all threads together.
    pub cpu_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub resources: Resources,
    pub work: Work,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Work {
    /// Probe a file and check it against the limits: answered `Probed` or `Unplayable`.
    Probe { path: PathBuf, limits: Limits },
    /// Make the renditions, thumbnail and HLS packaging of `source` in `dir`: answered `Made`
    /// (after `Progress`), `Unplayable` or `Failed`.
    Transcode {
        source: PathBuf,
        dir: PathBuf,
        ladder: Vec<PlannedRendition>,
        encode: EncodeSettings,
        segment_secs: u32,
        limits: Limits,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum Answer {
    Progress {
        percent: u8,
    },
    Probed {
        probe: Probe,
    },
    Unplayable {
        reason: Unplayable,
    },
    /// Every file made, by its name under the job's folder (e.g. `hls/240p/seg-00001.m4s`).
    Made {
        files: Vec<MadeFile>,
    },
    /// FFmpeg or the disk failed; `out_of_memory` when an allocation was refused.
    Failed {
        message: String,
        out_of_memory: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeFile {
    pub name: String,
    /// (width, height) for video renditions.
    pub resolution: Option<(u32, u32)>,
    pub has_audio: bool,
}

impl MadeFile {
    /// Where the file is under `dir`, if its name is a plain relative path (letters, digits,
    /// `.`, `-`, `_`, separated by `/`, no `.` or `..` part): the server reads only what is
    /// inside the job's folder, whatever a misbehaving worker says.
    pub fn path_in(&self, dir: &Path) -> Option<PathBuf> {
        let plain = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        };
        (self.name.len() <= 255 && self.name.split('/').all(plain)).then(|| dir.join(&self.name))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("pipe: {0}")]
    Io(#[from] io::Error),
    #[error("a line longer than {max} bytes")]
    TooLong { max: usize },
    #[error("the stream ended inside a line")]
    Cut,
    #[error("not a message: {0}")]
    Malformed(String),
}

/// Writes `message` as one line and flushes it.
pub fn write<T: Serialize>(out: &mut impl Write, message: &T) -> Result<(), ProtocolError> {
    let mut line =
        serde_json::to_vec(message).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()?;
    Ok(())
}

/// Reads the next message; `None` when the stream ends cleanly between lines.
pub fn read<T: DeserializeOwned>(input: &mut impl BufRead) -> Result<Option<T>, ProtocolError> {
    let mut line = Vec::new();
    let limit = MAX_LINE as u64 + 1;
    input.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() > MAX_LINE {
            ProtocolError::TooLong { max: MAX_LINE }
        } else {
            ProtocolError::Cut
        });
    }
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(|e| ProtocolError::Malformed(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn request() -> Request {
        Request {
            resources: Resources {
                address_space_bytes: 2 << 30,
                cpu_secs: 60,
            },
            work: Work::Probe {
                path: "/data/blobs/ab/cd/abcd".into(),
                limits: Limits {
                    max_width: 3840,
                    max_height: 2160,
                    max_duration_ms: 1000,
                    max_streams: 16,
                    max_frame_rate: 120,
                },
            },
        }
    }

    #[test]
    fn messages_go_through_one_line_each() {
        let answers = [
            Answer::Progress { percent: 7 },
            Answer::Unplayable {
                reason: Unplayable::FormatNotAccepted {
                    format: "hls".into(),
                },
            },
            Answer::Unplayable {
                reason: Unplayable::Unreadable("Invalid data".into()),
            },
            Answer::Made {
                files: vec![MadeFile {
                    name: "240p.mp4".into(),
                    resolution: Some((426, 240)),
                    has_audio: true,
                }],
            },
            Answer::Failed {
                message: "FFmpeg: Cannot allocate memory".into(),
                out_of_memory: true,
            },
        ];
        let mut pipe = Vec::new();
        write(&mut pipe, &request()).unwrap();
        for a in &answers {
            write(&mut pipe, a).unwrap();
        }
        assert_eq!(pipe.iter().filter(|&&b| b == b'\n').count(), 6);
        let mut input = Cursor::new(pipe);
        assert_eq!(read::<Request>(&mut input).unwrap(), Some(request()));
        for a in answers {
            assert_eq!(read::<Answer>(&mut input).unwrap(), Some(a));
        }
        assert!(read::<Answer>(&mut input).unwrap().is_none());
    }

    #[test]
    fn a_cut_or_garbled_or_endless_line_is_an_error_not_a_message() {
        let cut = br#"{"answer":"progress","percent":3"#;
        assert!(matches!(
            read::<Answer>(&mut Cursor::new(cut.to_vec())),
            Err(ProtocolError::Cut)
        ));
        for garbled in [&b"hello\n"[..], br#"{"answer":"explode"}"#, b"{}\n"] {
            let mut line = garbled.to_vec();
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            assert!(matches!(
                read::<Answer>(&mut Cursor::new(line)),
                Err(ProtocolError::Malformed(_))
            ));
        }
        let endless = std::io::repeat(b'x');
        assert!(matches!(
            read::<Answer>(&mut std::io::BufReader::new(endless)),
            Err(ProtocolError::TooLong { .. })
        ));
    }

    #[test]
    fn only_plain_names_inside_the_folder_are_read() {
        let dir = Path::new("/data/tmp/job-1");
        let file = |name: &str| MadeFile {
            name: name.into(),
            resolution: None,
            has_audio: false,
        };
        assert_eq!(
            file("hls/240p/seg-00001.m4s").path_in(dir),
            Some(dir.join("hls/240p/seg-00001.m4s"))
        );
        for bad in [
            "",
            "/etc/passwd",
            "../../sled/db",
            "hls/../../x",
            "hls//x",
            "./x",
            "a b",
            "x\n",
        ] {
            assert_eq!(file(bad).path_in(dir), None, "{bad:?}");
        }
    }
}
