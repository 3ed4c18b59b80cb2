//! Accepting connections without letting clients hold the server: bounds on
//! open connections, requests in progress and HTTP/2 streams; TLS-handshake,
//! header-read, request and idle timeouts (idle meaning no request, not no
//! bytes); and back-off with rate-limited logging when `accept` fails (EMFILE).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
    /// A connection that serves no request for this long is closed.
    pub idle: Duration,
    /// Most requests in progress at once across all connections (each may
    /// buffer a body of up to 8 MiB); more wait before their body is read.
    pub max_requests: usize,
    /// Most concurrent HTTP/2 streams per connection.
    pub max_streams: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(45),
            idle: Duration::from_secs(90),
            max_requests: 128,
            max_streams: 16,
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

/// Requests a connection is serving, and when it last finished one: a
/// connection is idle when it serves none, whatever bytes (HTTP/2 pings,
/// window updates) its client keeps sending.
pub struct Activity {
    start: Instant,
    active: AtomicUsize,
    last_ms: AtomicU64,
}

/// Marks a request as in progress until dropped.
pub struct Busy<'a>(&'a Activity);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Activity {
    /// A connection that has just opened.
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            start: Instant::now(),
            active: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::SeqCst);
    }

    /// A request starts; it ends when the guard drops.
    pub fn begin(&self) -> Busy<'_> {
        self.active.fetch_add(1, Ordering::SeqCst);
        Busy(self)
    }

    /// How long the connection has served no request (zero while serving one).
    pub fn idle_for(&self) -> Duration {
        if self.active.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        let now = self.start.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::SeqCst)))
    }
}

/// Resolves once the connection has served no request for `idle`.
pub async fn idle_timeout(activity: Arc<Activity>, idle: Duration) {
    loop {
        let quiet = activity.idle_for();
        if quiet >= idle {
            return;
        }
        tokio::time::sleep((idle - quiet).max(Duration::from_millis(100))).await;
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
