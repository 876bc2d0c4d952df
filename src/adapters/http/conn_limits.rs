//! Connection-level limits no handler can enforce: how many connections are open at once, how
//! long a client may take to send a request's head, how long an idle keep-alive connection stays.
//!
//! Without them a client that sends half a request and waits holds a connection (and its buffers)
//! for as long as it likes, and enough of them exhaust file descriptors and memory. hyper's own
//! header timeout needs a timer poem does not give it, so the head is watched here, at the byte
//! level: from a request's first byte to the blank line that ends its head.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Limits applied to every accepted connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Longest a client may take from the first byte of a request to the end of its head.
    pub header_timeout: Duration,
    /// Longest a connection may sit with no bytes in either direction.
    pub idle_timeout: Duration,
    /// Most connections open at once; beyond it new ones get a 503 and are closed.
    pub max_connections: usize,
}

/// What the limits did, for `/metrics` (one listener per process, so one set of counters).
pub static COUNTERS: ConnCounters = ConnCounters {
    open: AtomicU64::new(0),
    refused: AtomicU64::new(0),
    header_timeouts: AtomicU64::new(0),
    idle_closed: AtomicU64::new(0),
};

/// Connection counters.
#[derive(Debug, Default)]
pub struct ConnCounters {
    pub open: AtomicU64,
    pub refused: AtomicU64,
    pub header_timeouts: AtomicU64,
    pub idle_closed: AtomicU64,
}

/// Wraps an acceptor so every connection it hands out is counted and watched.
pub struct LimitedAcceptor<A> {
    inner: A,
    limits: ConnLimits,
    permits: Arc<Semaphore>,
    counters: &'static ConnCounters,
}

impl<A> LimitedAcceptor<A> {
    pub fn new(inner: A, limits: ConnLimits) -> Self {
        let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        Self { inner, limits, permits, counters: &COUNTERS }
    }
}

/// The whole answer to a connection over the cap.
fn refusal() -> Vec<u8> {
    let body =
        r#"{"error":"too_many_connections","message":"the server is at its connection limit (--max-connections)"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<A: Acceptor> Acceptor for LimitedAcceptor<A> {
    type Io = LimitedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (mut io, local, remote, scheme) = self.inner.accept().await?;
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    self.counters.open.fetch_add(1, Ordering::Relaxed);
                    let io = LimitedIo::new(io, permit, self.limits, self.counters);
                    return Ok((io, local, remote, scheme));
                }
                Err(_) => {
                    // Over the cap: say so briefly and close, off the accept loop.
                    self.counters.refused.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(1), async {
                            let _ = io.write_all(&refusal()).await;
                            let _ = io.shutdown().await;
                        })
                        .await;
                    });
                }
            }
        }
    }
}

/// Where a connection is in its request/response cycle, as far as the bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests (or before the first): the idle timeout runs.
    Idle,
    /// Reading a request's head: the header timeout runs. `tail` holds the last bytes seen, to
    /// find a `\r\n\r\n` split across reads.
    Head { tail: [u8; 3], len: u8 },
    /// The head is complete: the handler owns the pace (bodies have their own read timeouts).
    Busy,
    /// HTTP/2 with prior knowledge: frames are binary, only the idle timeout applies.
    Http2,
}

/// A connection with a header deadline and an idle deadline.
pub struct LimitedIo<T> {
    inner: T,
    _permit: OwnedSemaphorePermit,
    limits: ConnLimits,
    counters: &'static ConnCounters,
    phase: Phase,
    first: bool,
    deadline: Pin<Box<Sleep>>,
}

impl<T> LimitedIo<T> {
    fn new(inner: T, permit: OwnedSemaphorePermit, limits: ConnLimits, counters: &'static ConnCounters) -> Self {
        let deadline = Box::pin(tokio::time::sleep(limits.idle_timeout));
        Self { inner, _permit: permit, limits, counters, phase: Phase::Idle, first: true, deadline }
    }

    fn reset_deadline(&mut self, after: Duration) {
        self.deadline.as_mut().reset(Instant::now() + after);
    }

    /// Follows the request head through the bytes just read.
    fn observe_read(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.first {
            self.first = false;
            if bytes.starts_with(b"PRI * HTTP/2") {
                self.phase = Phase::Http2;
            }
        }
        match self.phase {
            Phase::Http2 => self.reset_deadline(self.limits.idle_timeout),
            Phase::Busy => {}
            Phase::Idle => {
                self.phase = Phase::Head { tail: [0; 3], len: 0 };
                self.reset_deadline(self.limits.header_timeout);
                self.scan_head(bytes);
            }
            Phase::Head { .. } => self.scan_head(bytes),
        }
    }

    fn scan_head(&mut self, bytes: &[u8]) {
        static HEAD_END: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));
        let Phase::Head { tail, len } = self.phase else { return };
        // The blank line may straddle two reads: look at the joint, then at the new bytes.
        let tail = &tail[..len as usize];
        let lead = &bytes[..bytes.len().min(3)];
        let mut joint = [0u8; 6];
        joint[..tail.len()].copy_from_slice(tail);
        joint[tail.len()..tail.len() + lead.len()].copy_from_slice(lead);
        let joint = &joint[..tail.len() + lead.len()];
        if HEAD_END.find(joint).is_some() || HEAD_END.find(bytes).is_some() {
            self.phase = Phase::Busy;
            return;
        }
        // Keep the last three bytes seen (from the joint when this read was shorter than that).
        let last = if bytes.len() >= 3 { &bytes[bytes.len() - 3..] } else { &joint[joint.len().saturating_sub(3)..] };
        let mut next = [0u8; 3];
        next[..last.len()].copy_from_slice(last);
        self.phase = Phase::Head { tail: next, len: last.len() as u8 };
    }

    /// A response is going out: the request is done (but a `100 Continue` is only an interlude).
    fn observe_write(&mut self, bytes: &[u8]) {
        match self.phase {
            Phase::Http2 => self.reset_deadline(self.limits.idle_timeout),
            Phase::Busy | Phase::Idle if !bytes.starts_with(b"HTTP/1.1 100") => {
                self.phase = Phase::Idle;
                self.reset_deadline(self.limits.idle_timeout);
            }
            _ => {}
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for LimitedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.observe_read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.phase == Phase::Busy || this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                match this.phase {
                    Phase::Head { .. } => {
                        this.counters.header_timeouts.fetch_add(1, Ordering::Relaxed);
                        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head not received in time")))
                    }
                    _ => {
                        // Idle: end the connection as if the client had closed it.
                        this.counters.idle_closed.fetch_add(1, Ordering::Relaxed);
                        Poll::Ready(Ok(()))
                    }
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for LimitedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let res = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &res
            && *n > 0
        {
            this.observe_write(&buf[..*n]);
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T> Drop for LimitedIo<T> {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io() -> LimitedIo<tokio::io::DuplexStream> {
        let (a, _b) = tokio::io::duplex(64);
        let permit = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
        let limits = ConnLimits {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(5),
            max_connections: 1,
        };
        LimitedIo::new(a, permit, limits, Box::leak(Box::default()))
    }

    #[tokio::test]
    async fn a_head_split_across_reads_is_found() {
        let mut c = io();
        c.observe_read(b"GET / HTTP/1.1\r\nHost: x\r");
        assert!(matches!(c.phase, Phase::Head { .. }));
        c.observe_read(b"\n\r");
        assert!(matches!(c.phase, Phase::Head { .. }));
        c.observe_read(b"\n");
        assert_eq!(c.phase, Phase::Busy);
        c.observe_write(b"HTTP/1.1 204 No Content\r\n\r\n");
        for byte in b"GET /b HTTP/1.1\r\nHost: y\r\n\r\n" {
            c.observe_read(&[*byte]);
        }
        assert_eq!(c.phase, Phase::Busy, "a head sent one byte at a time is found");
        c.observe_write(b"HTTP/1.1 200 OK\r\n");
        assert_eq!(c.phase, Phase::Idle);
    }

    #[tokio::test]
    async fn continue_does_not_end_the_request() {
        let mut c = io();
        c.observe_read(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
        c.observe_write(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(c.phase, Phase::Busy);
    }

    #[tokio::test]
    async fn http2_prior_knowledge_is_left_alone() {
        let mut c = io();
        c.observe_read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert_eq!(c.phase, Phase::Http2);
        c.observe_read(b"\x00\x00\x12\x04");
        assert_eq!(c.phase, Phase::Http2);
    }
}
