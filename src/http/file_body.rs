//! Response bodies cut from a blob file: the whole file, ranges of it, or ranges interleaved
//! with multipart heads.
//!
//! Reads go straight to the page cache without blocking (`preadv2` with `RWF_NOWAIT`); only
//! data that is not cached goes through the blocking pool, so a hot curriculum is served with
//! no thread hops and a cold disk never stalls the event loop. A connection holds at most one
//! chunk: a stalled reader costs [`CHUNK`] bytes, not a growing buffer. Only a connection that
//! has proved fast (see [`Pace`]) gets bigger chunks, which halve the system calls per byte.

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use prometheus::IntCounter;
use rustix::io::{preadv2, Errno, ReadWriteFlags};
use std::cell::Cell;
use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tokio::task::JoinHandle;

/// Bodies up to this size are sent in one piece with the response head.
pub const INLINE_LIMIT: u64 = 64 << 10;
/// The most a connection holds of a streamed body (the server's write buffer is set to match).
/// 8 KiB: 2,000 slow readers then take about 45 MB (measured), fast ones soon get FAST_CHUNK.
pub const CHUNK: usize = 8 << 10;
/// The chunk of a connection that has proved fast.
const FAST_CHUNK: usize = 128 << 10;
/// Fast means: this many bytes delivered, at this average rate since the connection opened.
/// A village link (even a few Mbit/s) never qualifies, so slow readers keep small chunks.
const FAST_AFTER_BYTES: u64 = 8 << 20;
const FAST_BYTES_PER_SEC: u64 = 16 << 20;

/// How much one connection has taken, and since when; lives in the connection's extensions.
pub struct Pace {
    opened: Instant,
    delivered: Cell<u64>,
}

impl Pace {
    pub fn new() -> Rc<Pace> {
        Rc::new(Pace {
            opened: Instant::now(),
            delivered: Cell::new(0),
        })
    }

    fn chunk(&self) -> usize {
        let delivered = self.delivered.get();
        let age_ms = self.opened.elapsed().as_millis().max(1) as u64;
        let fast = delivered >= FAST_AFTER_BYTES
            && delivered.saturating_mul(1000) / age_ms >= FAST_BYTES_PER_SEC;
        if fast {
            FAST_CHUNK
        } else {
            CHUNK
        }
    }
}

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

/// Reads as much of `buf` as the page cache holds, without waiting for the disk.
/// `Ok(0)` means nothing is cached (or the kernel cannot tell): read it the blocking way.
fn read_cached(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    match preadv2(
        file,
        &mut [IoSliceMut::new(buf)],
        offset,
        ReadWriteFlags::NOWAIT,
    ) {
        Ok(n) => Ok(n),
        Err(Errno::AGAIN | Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Fills `buf` from `offset`, hopping to the blocking pool only for what is not cached.
/// A file shorter than its recorded size fails here rather than sending short content.
async fn read_exact(file: &Arc<File>, mut buf: BytesMut, offset: u64) -> io::Result<Bytes> {
    let cached = read_cached(file, &mut buf, offset)?;
    if cached == buf.len() {
        return Ok(buf.freeze());
    }
    let file = Arc::clone(file);
    tokio::task::spawn_blocking(move || {
        file.read_exact_at(&mut buf[cached..], offset + cached as u64)?;
        Ok(buf.freeze())
    })
    .await
    .map_err(io::Error::other)?
}

/// The body: ready bytes when small, otherwise a stream.
pub enum Body {
    Ready(Bytes),
    Stream(FileStream),
}

pub async fn body(
    file: Arc<File>,
    segments: Vec<Segment>,
    pace: Rc<Pace>,
    served: IntCounter,
) -> io::Result<Body> {
    let len = total_len(&segments);
    if len > INLINE_LIMIT {
        return Ok(Body::Stream(FileStream {
            file,
            segments: segments.into(),
            pending: None,
            pace,
            served,
        }));
    }
    let mut out = BytesMut::with_capacity(len as usize);
    for segment in segments {
        match segment {
            Segment::Bytes(b) => out.extend_from_slice(&b),
            Segment::File { offset, len } => {
                let part = read_exact(&file, BytesMut::zeroed(len as usize), offset).await?;
                out.extend_from_slice(&part);
            }
        }
    }
    served.inc_by(out.len() as u64);
    pace.delivered.set(pace.delivered.get() + out.len() as u64);
    Ok(Body::Ready(out.freeze()))
}

pub struct FileStream {
    file: Arc<File>,
    segments: VecDeque<Segment>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
    pace: Rc<Pace>,
    served: IntCounter,
}

impl FileStream {
    fn yielded(&self, bytes: Bytes) -> Poll<Option<io::Result<Bytes>>> {
        self.served.inc_by(bytes.len() as u64);
        let delivered = &self.pace.delivered;
        delivered.set(delivered.get() + bytes.len() as u64);
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
        let file = Arc::clone(&self.file);
        let Some(segment) = self.segments.front_mut() else {
            return Poll::Ready(None);
        };
        let (at, n) = match segment {
            Segment::Bytes(bytes) => {
                let bytes = std::mem::take(bytes);
                self.segments.pop_front();
                return self.yielded(bytes);
            }
            Segment::File { offset, len } => (*offset, *len),
        };
        let n = n.min(self.pace.chunk() as u64);
        let mut buf = BytesMut::zeroed(n as usize);
        let got = match read_cached(&file, &mut buf, at) {
            Ok(got) => got as u64,
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        if got == 0 {
            // Not cached: read the whole chunk on the blocking pool.
            self.advance(n);
            self.pending = Some(tokio::task::spawn_blocking(move || {
                file.read_exact_at(&mut buf, at)?;
                Ok(buf.freeze())
            }));
            return self.poll_next(cx);
        }
        buf.truncate(got as usize);
        self.advance(got);
        self.yielded(buf.freeze())
    }
}

impl FileStream {
    /// Marks `n` bytes of the front file segment as taken.
    fn advance(&mut self, n: u64) {
        if let Some(Segment::File { offset, len }) = self.segments.front_mut() {
            *offset += n;
            *len -= n;
            if *len == 0 {
                self.segments.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::io::Write;

    fn counter() -> IntCounter {
        IntCounter::new("t", "t").unwrap()
    }

    fn file_with(data: &[u8]) -> Arc<File> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        f.sync_all().unwrap();
        Arc::new(f)
    }

    async fn collect(body: Body) -> Vec<u8> {
        match body {
            Body::Ready(b) => b.to_vec(),
            Body::Stream(mut s) => {
                let mut out = Vec::new();
                while let Some(chunk) = s.next().await {
                    let chunk = chunk.unwrap();
                    assert!(chunk.len() <= FAST_CHUNK);
                    out.extend_from_slice(&chunk);
                }
                out
            }
        }
    }

    #[test]
    fn only_a_connection_proved_fast_gets_big_chunks() {
        let pace = Pace::new();
        assert_eq!(pace.chunk(), CHUNK);
        pace.delivered.set(FAST_AFTER_BYTES - 1);
        assert_eq!(pace.chunk(), CHUNK, "not enough delivered yet");
        pace.delivered.set(1 << 40);
        assert_eq!(pace.chunk(), FAST_CHUNK);
        let slow = Rc::new(Pace {
            opened: Instant::now() - std::time::Duration::from_secs(3600),
            delivered: Cell::new(FAST_AFTER_BYTES * 2),
        });
        assert_eq!(slow.chunk(), CHUNK, "16 MiB in an hour is a slow link");
    }

    #[tokio::test]
    async fn segments_stream_in_order_whether_cached_or_not() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let file = file_with(&data);
        for evict in [false, true] {
            if evict {
                // Drop the pages so reads take the blocking-pool path.
                rustix::fs::fadvise(&*file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
            }
            let segments = vec![
                Segment::Bytes(Bytes::from_static(b"head")),
                Segment::File {
                    offset: 1000,
                    len: 200_000,
                },
                Segment::Bytes(Bytes::from_static(b"tail")),
            ];
            let body = body(Arc::clone(&file), segments, Pace::new(), counter())
                .await
                .unwrap();
            let got = collect(body).await;
            assert_eq!(&got[..4], b"head");
            assert_eq!(&got[4..200_004], &data[1000..201_000]);
            assert_eq!(&got[200_004..], b"tail");
        }
    }

    #[tokio::test]
    async fn a_file_shorter_than_recorded_fails_instead_of_sending_short() {
        let file = file_with(&[7u8; 1000]);
        let small = vec![Segment::File {
            offset: 0,
            len: 2000,
        }];
        assert!(body(Arc::clone(&file), small, Pace::new(), counter())
            .await
            .is_err());
        let large = vec![Segment::File {
            offset: 0,
            len: 100_000,
        }];
        let Body::Stream(mut stream) = body(file, large, Pace::new(), counter()).await.unwrap()
        else {
            panic!("a large body streams");
        };
        let mut failed = false;
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "the short file must end the stream with an error");
    }
}
