//! Accepting connections without letting clients hold the server: a bound on
//! open connections, TLS-handshake, header-read, request and idle timeouts,
//! and back-off with rate-limited logging when `accept` fails (EMFILE).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Connection limits and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most connections open at once; further clients wait in the backlog.
    pub max_connections: usize,
    /// Time to complete the TLS handshake.
    pub handshake: Duration,
    /// Time to send a request's headers (HTTP/1), also bounding idle keep-alive.
    pub header_read: Duration,
    /// Time for a whole request: reading the body and answering.
    pub request: Duration,
    /// A connection with no bytes either way for this long is closed.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(45),
            idle: Duration::from_secs(90),
        }
    }
}

/// Back-off after failed `accept` calls, with at most one log line a second.
pub struct AcceptBackoff {
    delay: Duration,
    last_log: Option<Instant>,
    suppressed: u64,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    /// A fresh back-off.
    pub fn new() -> Self {
        AcceptBackoff {
            delay: Self::FIRST,
            last_log: None,
            suppressed: 0,
        }
    }

    /// Records a failure; returns how long to wait and, at most once a
    /// second, the line to log (with how many failures it stands for).
    pub fn failed(&mut self, error: &std::io::Error, now: Instant) -> (Duration, Option<String>) {
        let wait = self.delay;
        self.delay = (self.delay * 2).min(Self::MAX);
        let log = match self.last_log {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => {
                self.suppressed += 1;
                None
            }
            _ => {
                let line = if self.suppressed > 0 {
                    format!(
                        "accept failed: {error} ({} more since the last report); backing off {wait:?}",
                        self.suppressed
                    )
                } else {
                    format!("accept failed: {error}; backing off {wait:?}")
                };
                self.last_log = Some(now);
                self.suppressed = 0;
                Some(line)
            }
        };
        (wait, log)
    }

    /// Records a success.
    pub fn succeeded(&mut self) {
        self.delay = Self::FIRST;
    }
}

/// An IO stream that records when bytes last moved.
pub struct ActivityIo<T> {
    inner: T,
    clock: Arc<Clock>,
}

/// Milliseconds since a start instant, updated on every transfer.
pub struct Clock {
    start: Instant,
    last_ms: AtomicU64,
}

impl Clock {
    /// A clock that starts now.
    pub fn new() -> Arc<Self> {
        Arc::new(Clock {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long since bytes last moved.
    pub fn idle_for(&self) -> Duration {
        let now = self.start.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

impl<T> ActivityIo<T> {
    /// Wraps `inner`, recording transfers on `clock`.
    pub fn new(inner: T, clock: Arc<Clock>) -> Self {
        ActivityIo { inner, clock }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ActivityIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ActivityIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves once `clock` has seen no transfer for `idle`.
pub async fn idle_timeout(clock: Arc<Clock>, idle: Duration) {
    loop {
        let quiet = clock.idle_for();
        if quiet >= idle {
            return;
        }
        tokio::time::sleep(idle - quiet).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_rate_limits_logs() {
        let mut b = AcceptBackoff::new();
        let e = std::io::Error::from_raw_os_error(24);
        let t0 = Instant::now();
        let (w1, l1) = b.failed(&e, t0);
        assert_eq!(w1, Duration::from_millis(5));
        assert!(l1.unwrap().contains("accept failed"));
        let mut logged = 0;
        let mut last = w1;
        for i in 1..200u64 {
            let (w, l) = b.failed(&e, t0 + Duration::from_millis(i * 5));
            assert!(w >= last && w <= Duration::from_secs(1));
            last = w;
            logged += usize::from(l.is_some());
        }
        assert_eq!(logged, 0, "one line a second at most");
        let (_, l) = b.failed(&e, t0 + Duration::from_secs(2));
        assert!(l.unwrap().contains("199 more since the last report"));
        b.succeeded();
        assert_eq!(
            b.failed(&e, t0 + Duration::from_secs(3)).0,
            Duration::from_millis(5)
        );
    }
}
