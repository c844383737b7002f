//! Response bodies cut from a blob file: the whole file, ranges of it, or ranges interleaved
//! with multipart heads. Small bodies are read at once; large ones stream through the blocking
//! pool one chunk at a time, so a connection never holds more than one chunk in memory.

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use prometheus::IntCounter;
use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Bodies up to this size are read in the handler, as nginx does: one page-cached pread is
/// cheaper than a trip through the blocking pool.
pub const INLINE_LIMIT: u64 = 64 << 10;
/// Chunks start small and double while the client keeps up; a stalled client (slow link)
/// drops back to the smallest, so thousands of slow readers hold little memory.
const MIN_CHUNK: u64 = 16 << 10;
const MAX_CHUNK: u64 = 512 << 10;
const KEEPING_UP: Duration = Duration::from_millis(2);

#[derive(Debug, Clone)]
pub enum Segment {
    Bytes(Bytes),
    File { offset: u64, len: u64 },
}

pub fn total_len(segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|s| match s {
            Segment::Bytes(b) => b.len() as u64,
            Segment::File { len, .. } => *len,
        })
        .sum()
}

fn file_bytes(segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|s| match s {
            Segment::File { len, .. } => *len,
            Segment::Bytes(_) => 0,
        })
        .sum()
}

fn read_range(file: &File, offset: u64, len: u64) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len as usize);
    // A file shorter than its recorded size fails here rather than sending short content.
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf.freeze())
}

/// The body: `Ok(bytes)` when small enough to read now, otherwise a stream.
pub enum Body {
    Ready(Bytes),
    Stream(FileStream),
}

pub fn body(file: File, segments: Vec<Segment>, served: IntCounter) -> io::Result<Body> {
    if file_bytes(&segments) > INLINE_LIMIT {
        return Ok(Body::Stream(FileStream {
            file: Arc::new(file),
            segments: segments.into(),
            pending: None,
            chunk: MIN_CHUNK,
            last_yield: None,
            served,
        }));
    }
    let mut out = BytesMut::with_capacity(total_len(&segments) as usize);
    for segment in &segments {
        match segment {
            Segment::Bytes(b) => out.extend_from_slice(b),
            Segment::File { offset, len } => {
                out.extend_from_slice(&read_range(&file, *offset, *len)?)
            }
        }
    }
    served.inc_by(out.len() as u64);
    Ok(Body::Ready(out.freeze()))
}

pub struct FileStream {
    file: Arc<File>,
    segments: VecDeque<Segment>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
    chunk: u64,
    last_yield: Option<Instant>,
    served: IntCounter,
}

impl FileStream {
    fn yielded(&mut self, bytes: Bytes) -> Poll<Option<io::Result<Bytes>>> {
        self.served.inc_by(bytes.len() as u64);
        self.last_yield = Some(Instant::now());
        Poll::Ready(Some(Ok(bytes)))
    }
}

impl Stream for FileStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(pending) = self.pending.as_mut() {
            let joined = ready!(Pin::new(pending).poll(cx));
            self.pending = None;
            return match joined {
                Ok(Ok(bytes)) => self.yielded(bytes),
                Ok(Err(e)) => Poll::Ready(Some(Err(e))),
                Err(e) => Poll::Ready(Some(Err(io::Error::other(e)))),
            };
        }
        self.chunk = match self.last_yield {
            Some(at) if at.elapsed() < KEEPING_UP => (self.chunk * 2).min(MAX_CHUNK),
            _ => MIN_CHUNK,
        };
        let chunk = self.chunk;
        match self.segments.front_mut() {
            None => Poll::Ready(None),
            Some(Segment::Bytes(bytes)) => {
                let bytes = std::mem::take(bytes);
                self.segments.pop_front();
                self.yielded(bytes)
            }
            Some(Segment::File { offset, len }) => {
                let (at, n) = (*offset, (*len).min(chunk));
                *offset += n;
                *len -= n;
                if *len == 0 {
                    self.segments.pop_front();
                }
                let file = Arc::clone(&self.file);
                self.pending = Some(tokio::task::spawn_blocking(move || {
                    read_range(&file, at, n)
                }));
                // Poll the new task once so its completion wakes this stream.
                self.poll_next(cx)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}
