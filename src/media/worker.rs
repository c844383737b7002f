//! `yuanjiao media worker`: the process in which FFmpeg meets an untrusted file. It reads one
//! request from stdin, sets its own resource limits, does the work, answers on stdout (see
//! `protocol`) and exits, so whatever a file does to FFmpeg (a crash, a leak, a hang) ends
//! with this process and never reaches the server.

use super::protocol::{self, Answer, MadeFile, Request, Resources, Work};
use super::{hls, transcode, MediaError};
use crate::domain::media::check_playable;
use rlimit::Resource;
use std::io::{self, BufReader, Read};
use std::process::ExitCode;

/// Exit status when the server went away (its end of stdin closed) before the answer.
const ORPHANED: u8 = 3;
/// Exit status when no request could be read.
const NO_REQUEST: u8 = 2;

/// Serves one request from stdin; the exit status says only whether an answer was written.
pub fn run() -> ExitCode {
    let mut input = BufReader::new(io::stdin());
    let request: Request = match protocol::read(&mut input) {
        Ok(Some(request)) => request,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the media worker got no request");
            return ExitCode::from(NO_REQUEST);
        }
    };
    // Limits first, so that nothing of this process escapes them, not even its own threads.
    if let Err(e) = limit_self(&request.resources) {
        let answer = Answer::Failed {
            message: format!("cannot set the worker's resource limits: {e}"),
            out_of_memory: false,
        };
        return match protocol::write(&mut io::stdout().lock(), &answer) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(ORPHANED),
        };
    }
    // The server keeps our stdin open until it has the answer. When it closes (the server
    // stopped, or was killed), the work is for nobody: stop at once rather than hold a core.
    let watcher = std::thread::Builder::new()
        .name("server-watch".into())
        .spawn(move || {
            let mut rest = [0u8; 64];
            while matches!(input.read(&mut rest), Ok(n) if n > 0) {}
            std::process::exit(i32::from(ORPHANED));
        });
    if let Err(e) = watcher {
        tracing::warn!(error = %e, "the media worker cannot watch for its server");
    }
    let answer = answer(request.work);
    match protocol::write(&mut io::stdout().lock(), &answer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(ORPHANED),
    }
}

/// Address space and CPU time for the rest of this process's life: it does one request only.
/// Past the soft CPU limit the kernel sends SIGXCPU, which ends the process; the hard limit a
/// few seconds later (SIGKILL) is for a process that would survive it.
fn limit_self(resources: &Resources) -> io::Result<()> {
    let bytes = resources.address_space_bytes;
    rlimit::setrlimit(Resource::AS, bytes, bytes)?;
    let secs = resources.cpu_secs.max(1);
    rlimit::setrlimit(Resource::CPU, secs, secs.saturating_add(5))?;
    Ok(())
}

fn answer(work: Work) -> Answer {
    match work {
        Work::Probe { path, limits } => {
            match super::probe::probe(&path, &limits).and_then(|probe| {
                check_playable(&probe, &limits)?;
                Ok(probe)
            }) {
                Ok(probe) => Answer::Probed { probe },
                Err(MediaError::Unplayable(reason)) => Answer::Unplayable { reason },
                Err(e) => failed(&e),
            }
        }
        Work::Transcode {
            source,
            dir,
            ladder,
            encode,
            segment_secs,
            limits,
        } => {
            let mut last = None;
            let mut progress = |percent: u8| {
                if last != Some(percent) {
                    last = Some(percent);
                    if protocol::write(&mut io::stdout().lock(), &Answer::Progress { percent })
                        .is_err()
                    {
                        std::process::exit(i32::from(ORPHANED));
                    }
                }
            };
            let made =
                transcode::transcode(&source, &ladder, &encode, &limits, &dir, &mut progress)
                    .and_then(|mut files| {
                        files.extend(hls::package(&files, &dir, segment_secs)?);
                        Ok(files)
                    });
            match made {
                Ok(files) => Answer::Made {
                    files: files
                        .into_iter()
                        .map(|f| MadeFile {
                            name: f.name,
                            resolution: f.resolution,
                            has_audio: f.has_audio,
                        })
                        .collect(),
                },
                Err(MediaError::Unplayable(reason)) => Answer::Unplayable { reason },
                Err(e) => failed(&e),
            }
        }
    }
}

/// FFmpeg or the disk failed; for want of memory when an allocation was refused (RLIMIT_AS).
fn failed(e: &MediaError) -> Answer {
    let out_of_memory = match e {
        MediaError::Ffmpeg(e) => super::input::is_out_of_memory(e) || near_address_space_limit(),
        MediaError::Io(io) => io.kind() == io::ErrorKind::OutOfMemory,
        _ => false,
    };
    Answer::Failed {
        message: e.to_string(),
        out_of_memory,
    }
}

/// Address space within this of RLIMIT_AS at its peak means an allocation was likely refused.
/// libx264 does not always say so: once in about 400 runs under load its encoder failed with
/// only "Generic error in an external library". At 384 MiB a refused 1.6 MiB allocation left
/// the peak 84 KiB short of the limit; a thread's 8 MiB stack is the largest request we expect.
const NEAR_THE_LIMIT: u64 = 32 << 20;

/// Whether this process's address space came within `NEAR_THE_LIMIT` of its RLIMIT_AS.
fn near_address_space_limit() -> bool {
    let Ok((soft, _)) = rlimit::getrlimit(Resource::AS) else {
        return false;
    };
    if soft == rlimit::INFINITY {
        return false;
    }
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| peak_bytes(&status));
    peak.is_some_and(|peak| peak.saturating_add(NEAR_THE_LIMIT) >= soft)
}

/// `VmPeak` of a /proc/<pid>/status text, in bytes.
fn peak_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmPeak:"))?;
    let kib: u64 = line
        .trim_start_matches("VmPeak:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_read_from_a_status_text_in_bytes() {
        let status = "Name:\tyuanjiao\nVmPeak:\t  393216 kB\nVmSize:\t  1024 kB\n";
        assert_eq!(peak_bytes(status), Some(384 << 20));
        assert_eq!(peak_bytes("Name:\tx\n"), None);
        assert_eq!(peak_bytes("VmPeak:\tlots kB\n"), None);
    }
}
