//! The server's side of the media worker: starts `yuanjiao media worker` for each probe or
//! job, hands it the request, relays its progress, kills it at the wall-clock limit, and names
//! how it ended when it ended badly (killed for time, out of memory, crashed with a signal).

use super::protocol::{self, Answer, ProtocolError, Request, Resources, Work};
use super::transcode::{EncodeSettings, Written};
use crate::config::Settings;
use crate::domain::media::{Limits, PlannedRendition, Probe, Unplayable};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a worker's run went wrong. Every variant but `Start` may be the file's doing.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot start the media worker {command}: {source}")]
    Start {
        command: String,
        source: std::io::Error,
    },
    #[error("the media worker was killed after {limit} wall time")]
    WallTime { limit: String },
    #[error("the media worker ran out of memory (limit {limit})")]
    OutOfMemory { limit: String },
    #[error("the media worker used up its {secs} s of CPU time")]
    CpuTime { secs: u64 },
    #[error("the media worker crashed with signal {signal} ({name})")]
    Crashed { signal: i32, name: &'static str },
    #[error("the media worker stopped with exit status {code} before answering")]
    Stopped { code: i32 },
    #[error("the media worker's answer cannot be read: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("the media worker answered {0}, which does not fit the request")]
    Unexpected(&'static str),
    #[error("the media worker named a file outside its folder: {0:?}")]
    OutsideFolder(String),
    #[error("{0}")]
    Failed(String),
}

/// Why a file could not be admitted.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Unplayable(#[from] Unplayable),
    #[error("cannot probe: {0}")]
    Worker(#[from] WorkerError),
}

/// Why a transcode made nothing.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error(transparent)]
    Unplayable(#[from] Unplayable),
    #[error(transparent)]
    Worker(#[from] WorkerError),
}

/// What one job asks of a worker.
pub struct TranscodeJob<'a> {
    pub source: &'a Path,
    /// The scratch folder the worker writes into.
    pub dir: &'a Path,
    pub ladder: &'a [PlannedRendition],
    pub encode: &'a EncodeSettings,
    pub segment_secs: u32,
    pub limits: Limits,
}

/// What a worker is started as, and the limits it runs under.
#[derive(Debug, Clone)]
pub struct Isolation {
    command: PathBuf,
    resources: Resources,
    wall: Duration,
    log_filter: String,
    log_json: bool,
}

impl Isolation {
    /// For probes: the wall-clock limit is `media.probe_wall_time`.
    pub fn for_probes(settings: &Settings) -> Isolation {
        Isolation {
            wall: settings.media.probe_wall_time,
            ..Isolation::for_jobs(settings)
        }
    }

    /// For jobs: `media.worker_wall_time`.
    pub fn for_jobs(settings: &Settings) -> Isolation {
        let m = &settings.media;
        // Unset means this very program. /proc/self/exe, resolved by the child as it starts,
        // is the running server's binary even after an upgrade replaced the file on disk, so
        // both sides always speak the same protocol.
        let command = if !m.worker_command.as_os_str().is_empty() {
            m.worker_command.clone()
        } else if Path::new("/proc/self/exe").exists() {
            PathBuf::from("/proc/self/exe")
        } else {
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("yuanjiao"))
        };
        Isolation {
            command,
            resources: Resources {
                address_space_bytes: m.worker_memory_bytes,
                cpu_secs: m.worker_cpu_time.as_secs().max(1),
            },
            wall: m.worker_wall_time,
            log_filter: std::env::var("RUST_LOG").unwrap_or_else(|_| settings.log.filter.clone()),
            log_json: match settings.log.format {
                crate::config::LogFormat::Json => true,
                crate::config::LogFormat::Pretty => false,
                crate::config::LogFormat::Auto => {
                    !std::io::IsTerminal::is_terminal(&std::io::stderr())
                }
            },
        }
    }

    /// Probes `path` in a worker and checks it against `limits`.
    pub fn probe(&self, path: &Path, limits: &Limits) -> Result<Probe, ProbeError> {
        let work = Work::Probe {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            limits: *limits,
        };
        match self.run(work, &mut |_| {})? {
            Answer::Probed { probe } => Ok(probe),
            Answer::Unplayable { reason } => Err(reason.into()),
            other => Err(WorkerError::Unexpected(answer_name(&other)).into()),
        }
    }

    /// Makes every derived file of `job.source` in `job.dir` (renditions, thumbnail, HLS) in
    /// a worker; returns them with their paths under `job.dir`.
    pub fn transcode(
        &self,
        job: TranscodeJob<'_>,
        progress: &mut dyn FnMut(u8),
    ) -> Result<Vec<Written>, TranscodeError> {
        let dir = std::path::absolute(job.dir).unwrap_or_else(|_| job.dir.to_path_buf());
        let work = Work::Transcode {
            source: std::path::absolute(job.source).unwrap_or_else(|_| job.source.to_path_buf()),
            dir: dir.clone(),
            ladder: job.ladder.to_vec(),
            encode: job.encode.clone(),
            segment_secs: job.segment_secs,
            limits: job.limits,
        };
        let files = match self.run(work, progress)? {
            Answer::Made { files } => files,
            Answer::Unplayable { reason } => return Err(reason.into()),
            other => return Err(WorkerError::Unexpected(answer_name(&other)).into()),
        };
        let mut written = Vec::with_capacity(files.len());
        for file in files {
            let path = file
                .path_in(&dir)
                .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file()))
                .ok_or_else(|| WorkerError::OutsideFolder(file.name.clone()))?;
            written.push(Written {
                name: file.name,
                path,
                resolution: file.resolution,
                has_audio: file.has_audio,
            });
        }
        Ok(written)
    }

    /// Runs one request to its final answer. `Failed` answers become `WorkerError::Failed`
    /// (or `OutOfMemory`); a worker that dies or overruns is named by how it ended.
    fn run(&self, work: Work, progress: &mut dyn FnMut(u8)) -> Result<Answer, WorkerError> {
        let mut child = Command::new(&self.command)
            .args(["media", "worker", "--log-filter", &self.log_filter])
            .args([
                "--log-format",
                if self.log_json { "json" } else { "pretty" },
            ])
            // Reserved address space counts against RLIMIT_AS as if it were used. mimalloc
            // reserves 1 GiB at its first allocation and glibc 64 MiB per thread arena (FFmpeg
            // and x264 allocate through glibc): a worker measured 1.28 GB of address space
            // before opening anything, 295 MB with these two.
            .env("MIMALLOC_ARENA_RESERVE", "64MiB")
            .env("MALLOC_ARENA_MAX", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| WorkerError::Start {
                command: self.command.display().to_string(),
                source,
            })?;
        let deadline = Instant::now() + self.wall;
        let stderr = relay_stderr(&mut child);
        let mut stdin = child.stdin.take();
        let request = Request {
            resources: self.resources,
            work,
        };
        // A worker that dies at once closes its stdin: its exit status tells why, below.
        let _ = stdin
            .as_mut()
            .map(|s| protocol::write(s, &request))
            .transpose();
        let answers = read_answers(&mut child);
        let mut last = None;
        let mut killed_for_time = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match answers.recv_timeout(left) {
                Ok(Ok(Answer::Progress { percent })) => progress(percent),
                Ok(Ok(answer)) => {
                    last = Some(Ok(answer));
                    break;
                }
                Ok(Err(e)) => {
                    last = Some(Err(e));
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    killed_for_time = true;
                    break;
                }
            }
        }
        let status = self.reap(&mut child, stdin, deadline, killed_for_time);
        let ran_out_of_memory = stderr.finish();
        if killed_for_time || status.is_none() {
            return Err(WorkerError::WallTime {
                limit: format_duration(self.wall),
            });
        }
        let limit = format_bytes(self.resources.address_space_bytes);
        match last {
            Some(Ok(Answer::Failed {
                out_of_memory: true,
                ..
            })) => Err(WorkerError::OutOfMemory { limit }),
            // A verdict reached short of memory is about the limit, not about the file.
            Some(Ok(Answer::Failed { .. } | Answer::Unplayable { .. })) if ran_out_of_memory => {
                Err(WorkerError::OutOfMemory { limit })
            }
            Some(Ok(Answer::Failed { message, .. })) => Err(WorkerError::Failed(message)),
            Some(Ok(answer)) => Ok(answer),
            Some(Err(_)) | None => Err(self.death(status, ran_out_of_memory, limit)),
        }
    }

    /// Waits for the worker to exit (killing it if the time is up), and closes its stdin only
    /// then: closing it is what tells a worker that its server is gone.
    fn reap(
        &self,
        child: &mut Child,
        stdin: Option<ChildStdin>,
        deadline: Instant,
        kill_now: bool,
    ) -> Option<ExitStatus> {
        if kill_now {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    drop(stdin);
                    return Some(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    // It has answered (or closed stdout): it exits within milliseconds.
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        }
    }

    /// Names how a worker that gave no usable answer ended.
    fn death(
        &self,
        status: Option<ExitStatus>,
        ran_out_of_memory: bool,
        limit: String,
    ) -> WorkerError {
        let Some(status) = status else {
            return WorkerError::WallTime {
                limit: format_duration(self.wall),
            };
        };
        if ran_out_of_memory {
            return WorkerError::OutOfMemory { limit };
        }
        match (status.signal(), status.code()) {
            (Some(SIGXCPU), _) => WorkerError::CpuTime {
                secs: self.resources.cpu_secs,
            },
            (Some(signal), _) => WorkerError::Crashed {
                signal,
                name: signal_name(signal),
            },
            (None, code) => WorkerError::Stopped {
                code: code.unwrap_or(-1),
            },
        }
    }
}

const SIGXCPU: i32 = 24;

fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        SIGXCPU => "SIGXCPU",
        _ => "a signal",
    }
}

/// "600 s", or "250 ms" below a second.
fn format_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// "2 GiB", "512 MiB", or bytes.
fn format_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{b} bytes"),
    }
}

fn answer_name(answer: &Answer) -> &'static str {
    match answer {
        Answer::Progress { .. } => "progress",
        Answer::Probed { .. } => "a probe",
        Answer::Unplayable { .. } => "unplayable",
        Answer::Made { .. } => "a file list",
        Answer::Failed { .. } => "a failure",
    }
}

/// Reads the worker's answers on a thread of their own, so the wall clock can be kept.
fn read_answers(child: &mut Child) -> mpsc::Receiver<Result<Answer, ProtocolError>> {
    let (tx, rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        let spawned = std::thread::Builder::new()
            .name("media-worker-out".into())
            .spawn(move || {
                let mut stdout = BufReader::new(stdout);
                while let Some(message) = protocol::read(&mut stdout).transpose() {
                    let stop = message.is_err();
                    if tx.send(message).is_err() || stop {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot read the media worker's answers");
        }
    }
    rx
}

/// What the worker's libraries write when an allocation is refused: Rust before it aborts,
/// strerror(ENOMEM) in FFmpeg's and the system's messages, and x264's own.
const OUT_OF_MEMORY_SIGNS: &[&[u8]] = &[
    b"memory allocation of",
    b"Cannot allocate memory",
    b"malloc of size",
];

fn tells_of_no_memory(line: &[u8]) -> bool {
    OUT_OF_MEMORY_SIGNS
        .iter()
        .any(|sign| line.windows(sign.len()).any(|w| w == *sign))
}

/// The worker's log (its stderr) copied to ours, line by line, watched for signs of a refused
/// allocation, which are all an abort under RLIMIT_AS leaves behind.
struct StderrRelay {
    thread: Option<std::thread::JoinHandle<()>>,
    out_of_memory: Arc<Mutex<bool>>,
}

impl StderrRelay {
    /// Waits for the worker's stderr to close; true if it reported running out of memory.
    fn finish(mut self) -> bool {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        *self.out_of_memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn relay_stderr(child: &mut Child) -> StderrRelay {
    let out_of_memory = Arc::new(Mutex::new(false));
    let seen = Arc::clone(&out_of_memory);
    let thread = child.stderr.take().and_then(|stderr| {
        std::thread::Builder::new()
            .name("media-worker-log".into())
            .spawn(move || {
                let mut lines = BufReader::new(stderr);
                let mut line = Vec::new();
                // Bounded: a line without end is relayed in pieces, never buffered whole.
                while matches!((&mut lines).take(64 << 10).read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    if tells_of_no_memory(&line) {
                        *seen.lock().unwrap_or_else(|p| p.into_inner()) = true;
                    }
                    let _ = std::io::stderr().write_all(&line);
                    line.clear();
                }
            })
            .ok()
    });
    StderrRelay {
        thread,
        out_of_memory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_signals_are_named_for_people() {
        assert_eq!(format_bytes(2 << 30), "2 GiB");
        assert_eq!(format_bytes(64 << 20), "64 MiB");
        assert_eq!(format_bytes(1000), "1000 bytes");
        assert_eq!(format_duration(Duration::from_millis(300)), "300 ms");
        assert!(tells_of_no_memory(
            b"x264 [error]: malloc of size 1627904 failed\n"
        ));
        assert!(tells_of_no_memory(
            b"memory allocation of 4096 bytes failed\n"
        ));
        assert!(!tells_of_no_memory(b"[mov @ 0x1] Cannot add index entry\n"));
        assert_eq!(signal_name(11), "SIGSEGV");
        assert_eq!(
            WorkerError::Crashed {
                signal: 11,
                name: "SIGSEGV"
            }
            .to_string(),
            "the media worker crashed with signal 11 (SIGSEGV)"
        );
        assert_eq!(
            WorkerError::WallTime {
                limit: format_duration(Duration::from_secs(600))
            }
            .to_string(),
            "the media worker was killed after 600 s wall time"
        );
    }
}
