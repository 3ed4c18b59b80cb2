//! A TCP proxy on loopback in front of a registry: it can hold every chunk a
//! client sends for a fixed delay (a registry that far away) and keep the
//! first bytes of connections that do not open with a TLS handshake (what
//! went over the wire in the clear).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running proxy.
pub struct Proxy {
    pub port: u16,
    /// The first chunk of every connection that did not start a TLS handshake.
    pub plaintext: Arc<Mutex<Vec<String>>>,
}

/// Starts a proxy to `target` (host:port) on `rt`, delaying each chunk a
/// client sends by `delay`.
pub fn start(rt: &tokio::runtime::Runtime, target: String, delay: Duration) -> Proxy {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let plaintext = Arc::new(Mutex::new(Vec::new()));
    let seen = plaintext.clone();
    rt.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (target, seen) = (target.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                });
                let mut buf = vec![0u8; 64 * 1024];
                let mut first = true;
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    // 0x16: a TLS handshake record.
                    if first && buf[0] != 0x16 {
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    }
                    first = false;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = sw.shutdown().await;
            });
        }
    });
    Proxy { port, plaintext }
}
