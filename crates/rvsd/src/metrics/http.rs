//! A deliberately small HTTP/1.0 and 1.1 responder for `GET /metrics`: one request per
//! connection (`Connection: close`), a bounded request head, timeouts on every read and
//! write, and a cap on connections served at once. Scrapers need nothing more, and nothing
//! more means nothing else to harden.
//!
//! Answers: 200 with the exposition for `GET`/`HEAD /metrics` (a query string is ignored),
//! 404 for any other path, 405 for other methods, 400 for a malformed request line, 505 for
//! another HTTP version, 431 for a head over [`MAX_HEAD`] bytes, 503 when the counters cannot
//! be read or too many scrapes run at once.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use super::exposition::CONTENT_TYPE;

/// The longest request head (request line and headers) read; a scrape needs a few hundred.
pub const MAX_HEAD: usize = 8 * 1024;

/// Connections served at once; more get 503 right away.
const MAX_CLIENTS: usize = 4;

/// How long a client may take to send its request or to take the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The path served.
const METRICS_PATH: &str = "/metrics";

/// Produces the exposition text, or why it cannot.
pub type Scrape = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// What to answer to a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /metrics` (`head_only` for `HEAD`).
    Metrics {
        /// Send the headers but no body.
        head_only: bool,
    },
    /// Anything else, answered with this status and no metrics.
    Status(Status),
}

/// The error statuses the responder uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 400: the request line is not `METHOD TARGET HTTP/x.y`.
    BadRequest,
    /// 404: a path other than `/metrics`.
    NotFound,
    /// 405: a method other than GET or HEAD.
    MethodNotAllowed,
    /// 431: the head is longer than [`MAX_HEAD`].
    TooLarge,
    /// 503: the counters cannot be read now, or too many scrapes at once.
    Unavailable,
    /// 505: not HTTP/1.0 or 1.1.
    VersionNotSupported,
}

impl Status {
    /// Code and reason phrase.
    fn line(self) -> (u16, &'static str) {
        match self {
            Status::BadRequest => (400, "Bad Request"),
            Status::NotFound => (404, "Not Found"),
            Status::MethodNotAllowed => (405, "Method Not Allowed"),
            Status::TooLarge => (431, "Request Header Fields Too Large"),
            Status::Unavailable => (503, "Service Unavailable"),
            Status::VersionNotSupported => (505, "HTTP Version Not Supported"),
        }
    }
}

/// Decide the answer from a complete request head (without the blank line).
pub fn route(head: &[u8]) -> Route {
    let Ok(head) = std::str::from_utf8(head) else {
        return Route::Status(Status::BadRequest);
    };
    let request_line = head.split('\n').next().unwrap_or("").trim_end_matches('\r');
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::Status(Status::BadRequest);
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/") {
        return Route::Status(Status::BadRequest);
    }
    if version != "HTTP/1.0" && version != "HTTP/1.1" {
        return Route::Status(Status::VersionNotSupported);
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Route::Status(Status::MethodNotAllowed),
    };
    let path = target.split('?').next().unwrap_or(target);
    if path == METRICS_PATH {
        Route::Metrics { head_only }
    } else {
        Route::Status(Status::NotFound)
    }
}

/// Why no complete head was read.
#[derive(Debug)]
pub enum HeadError {
    /// More than `limit` bytes came without the blank line that ends a head.
    TooLarge,
    /// The peer closed (or timed out) before the head was complete.
    Incomplete,
    /// The socket failed.
    Io(io::Error),
}

/// Read a request head, up to and without the blank line, at most `limit` bytes.
pub fn read_head(r: &mut impl Read, limit: usize) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        match head_end(&head) {
            Some(end) if end <= limit => {
                head.truncate(end);
                return Ok(head);
            }
            Some(_) => return Err(HeadError::TooLarge),
            None if head.len() > limit => return Err(HeadError::TooLarge),
            None => {}
        }
        let n = match r.read(&mut buf) {
            Ok(0) => return Err(HeadError::Incomplete),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(HeadError::Incomplete);
            }
            Err(e) => return Err(HeadError::Io(e)),
        };
        // At most one read past the limit is ever held.
        head.extend_from_slice(&buf[..n]);
    }
}

/// Where the head ends: the blank line (`\r\n\r\n`, or a bare `\n\n` from lax clients).
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A whole response: status line, headers, body (left out for HEAD).
pub fn response(status: (u16, &str), content_type: &str, body: &str, head_only: bool) -> Vec<u8> {
    let (code, reason) = status;
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if code == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body.as_bytes());
    }
    bytes
}

/// An error status's response, with a one-line text body.
fn error_response(status: Status) -> Vec<u8> {
    let (code, reason) = status.line();
    response(
        (code, reason),
        "text/plain; charset=utf-8",
        &format!("{code} {reason}\n"),
        false,
    )
}

/// Serve `listener` on a background thread for the life of the process.
pub fn serve(listener: TcpListener, scrape: Scrape) -> io::Result<thread::JoinHandle<()>> {
    let busy = Arc::new(AtomicUsize::new(0));
    thread::Builder::new()
        .name("rvsd-metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let stream = match stream {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("metrics: accept failed: {e}");
                        continue;
                    }
                };
                if busy.fetch_add(1, Ordering::AcqRel) >= MAX_CLIENTS {
                    busy.fetch_sub(1, Ordering::AcqRel);
                    let _ = answer_and_close(stream, &error_response(Status::Unavailable));
                    continue;
                }
                let (busy, scrape) = (busy.clone(), scrape.clone());
                let spawned = thread::Builder::new()
                    .name("rvsd-scrape".into())
                    .spawn(move || {
                        if let Err(e) = serve_client(stream, &scrape) {
                            tracing::debug!("metrics client: {e}");
                        }
                        busy.fetch_sub(1, Ordering::AcqRel);
                    });
                if let Err(e) = spawned {
                    tracing::warn!("metrics: cannot start a client thread: {e}");
                }
            }
        })
}

/// Read one request from `stream`, answer it, close.
fn serve_client(mut stream: TcpStream, scrape: &Scrape) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let reply = match read_head(&mut stream, MAX_HEAD) {
        Ok(head) => match route(&head) {
            Route::Metrics { head_only } => match scrape() {
                Ok(text) => response((200, "OK"), CONTENT_TYPE, &text, head_only),
                Err(e) => {
                    tracing::warn!("metrics: {e}");
                    error_response(Status::Unavailable)
                }
            },
            Route::Status(s) => error_response(s),
        },
        Err(HeadError::TooLarge) => error_response(Status::TooLarge),
        Err(HeadError::Incomplete) => return Ok(()),
        Err(HeadError::Io(e)) => return Err(e),
    };
    answer_and_close(stream, &reply)
}

/// Write `reply`, then close gently: stop sending and drain what the client still sends
/// (bounded), so the kernel does not reset the connection before the client read the reply.
fn answer_and_close(mut stream: TcpStream, reply: &[u8]) -> io::Result<()> {
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.write_all(reply)?;
    stream.flush()?;
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
