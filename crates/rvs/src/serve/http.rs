//! A minimal HTTP/1.1 server: keep-alive, every path answers 200 with the server's name.
//!
//! Body: the name and a newline (`rs1\n`), so `curl` output reads cleanly. Every response also
//! carries `X-Server: NAME` and `X-Client: IP:PORT` (the peer as the real server sees it, which
//! proves the director kept the client's address); `GET /whoami` returns that peer as the body.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Requests whose head does not fit are answered 431 and the connection is closed.
const MAX_HEAD: usize = 16 * 1024;
/// Request bodies are read and discarded up to this size; larger ones close the connection.
const MAX_BODY: usize = 1024 * 1024;

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request target.
    pub path: String,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
    /// The request body's length.
    pub content_length: usize,
    /// Bytes of the head, the final CRLFCRLF included.
    pub head_len: usize,
}

/// Why a request head was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// The request line is not `METHOD TARGET HTTP/1.x`.
    #[error("malformed request line")]
    RequestLine,
    /// A header line has no colon or is not UTF-8.
    #[error("malformed header")]
    Header,
    /// Content-Length is not a number or is too large.
    #[error("bad Content-Length")]
    ContentLength,
    /// Chunked bodies are not supported by this test server.
    #[error("chunked request bodies are not supported")]
    Chunked,
    /// The head exceeds [`MAX_HEAD`].
    #[error("request head too large")]
    TooLarge,
}

/// Parses the head at the start of `buf`: `Ok(None)` if it is not complete yet.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Err(HeadError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::Header)?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::RequestLine);
    };
    let mut keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(HeadError::RequestLine),
    };
    if method.is_empty() || path.is_empty() {
        return Err(HeadError::RequestLine);
    }
    let mut content_length = 0;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HeadError::Header)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| HeadError::ContentLength)?;
            if content_length > MAX_BODY {
                return Err(HeadError::ContentLength);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HeadError::Chunked);
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        }
    }
    Ok(Some(Head {
        method: method.to_string(),
        path: path.to_string(),
        keep_alive,
        content_length,
        head_len: end + 4,
    }))
}

/// Appends the response to `head` from server `name` for a peer at `peer` to `out`.
pub fn respond(head: &Head, name: &str, peer: SocketAddr, out: &mut Vec<u8>) {
    let body = if head.path == "/whoami" {
        format!("{peer}\n")
    } else {
        format!("{name}\n")
    };
    let connection = if head.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    out.extend_from_slice(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             X-Server: {name}\r\nX-Client: {peer}\r\nConnection: {connection}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    if head.method != "HEAD" {
        out.extend_from_slice(body.as_bytes());
    }
}

/// Accepts connections forever, one task each.
pub async fn serve(listener: TcpListener, name: Arc<str>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let name = Arc::clone(&name);
                tokio::spawn(async move {
                    // A peer that resets or sends garbage only ends its own connection.
                    let _ = connection(stream, peer, &name).await;
                });
            }
            Err(e) => {
                // EMFILE and friends: report and back off instead of spinning.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one connection; pipelined requests are answered in one write.
async fn connection(mut stream: TcpStream, peer: SocketAddr, name: &str) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(4096);
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        let mut keep_open = true;
        loop {
            match parse_head(&buf) {
                Ok(Some(head)) => {
                    let total = head.head_len + head.content_length;
                    if buf.len() < total {
                        break;
                    }
                    respond(&head, name, peer, &mut out);
                    buf.drain(..total);
                    if !head.keep_alive {
                        keep_open = false;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let status = match e {
                        HeadError::TooLarge => "431 Request Header Fields Too Large",
                        _ => "400 Bad Request",
                    };
                    out.extend_from_slice(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    keep_open = false;
                    break;
                }
            }
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if !keep_open {
            return stream.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([203, 0, 113, 2], 40000))
    }

    #[test]
    fn incomplete_head_waits_for_more() {
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None));
    }

    #[test]
    fn http11_keeps_alive_unless_told_to_close() {
        let h = parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET").unwrap();
        let h = h.expect("complete head");
        assert!(h.keep_alive);
        assert_eq!(h.head_len, 27);
        let h = parse_head(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        assert!(!h.expect("complete").keep_alive);
        let h = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!h.expect("complete").keep_alive);
        let h = parse_head(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(h.expect("complete").keep_alive);
    }

    #[test]
    fn malformed_heads_are_refused() {
        assert_eq!(parse_head(b"GET /\r\n\r\n"), Err(HeadError::RequestLine));
        assert_eq!(
            parse_head(b"GET / HTTP/2\r\n\r\n"),
            Err(HeadError::RequestLine)
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nbad\r\n\r\n"),
            Err(HeadError::Header)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(HeadError::ContentLength)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(HeadError::Chunked)
        );
        assert_eq!(
            parse_head(&vec![b'a'; MAX_HEAD + 1]),
            Err(HeadError::TooLarge)
        );
    }

    #[test]
    fn body_length_is_counted_for_pipelining() {
        let h = parse_head(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(h.unwrap().map(|h| h.content_length), Some(5));
    }

    #[test]
    fn response_body_is_the_name_and_headers_name_the_client() {
        let head = parse_head(b"GET / HTTP/1.1\r\n\r\n")
            .unwrap()
            .expect("complete");
        let mut out = Vec::new();
        respond(&head, "rs1", peer(), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("\r\nContent-Length: 4\r\n"));
        assert!(text.contains("\r\nX-Client: 203.0.113.2:40000\r\n"));
        assert!(text.ends_with("\r\n\r\nrs1\n"));
    }

    #[test]
    fn whoami_returns_the_peer_and_head_has_no_body() {
        let head = parse_head(b"GET /whoami HTTP/1.1\r\n\r\n")
            .unwrap()
            .expect("complete");
        let mut out = Vec::new();
        respond(&head, "rs2", peer(), &mut out);
        assert!(String::from_utf8_lossy(&out).ends_with("\r\n\r\n203.0.113.2:40000\n"));
        let head = parse_head(b"HEAD / HTTP/1.1\r\n\r\n")
            .unwrap()
            .expect("complete");
        let mut out = Vec::new();
        respond(&head, "rs2", peer(), &mut out);
        assert!(String::from_utf8_lossy(&out).ends_with("\r\n\r\n"));
    }
}
