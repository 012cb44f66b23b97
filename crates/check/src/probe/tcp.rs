//! TCP_CHECK (connect within connect_timeout, then close) and SMTP_CHECK (220 banner,
//! HELO → 250, QUIT → 221).

use std::io;

use socket2::{Protocol, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

use super::Target;

/// Connects to the target within its timeout.
pub async fn connect(t: &Target) -> io::Result<TcpStream> {
    let s = t.socket(Type::STREAM, Protocol::TCP)?;
    let sock = TcpSocket::from_std_stream(std::net::TcpStream::from(s));
    match timeout(t.timeout, sock.connect(t.dst)).await {
        Ok(r) => r,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Reads one SMTP reply (multi-line `NNN-…` lines end with `NNN …`); its code.
async fn reply(s: &mut TcpStream, t: &Target) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let n = timeout(t.timeout, s.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 16 * 1024 {
            return None;
        }
        // The last complete line decides: "NNN " ends the reply.
        let text = String::from_utf8_lossy(&buf);
        if let Some(last) = text.split("\r\n").filter(|l| !l.is_empty()).last()
            && text.ends_with("\r\n")
            && last.len() >= 3
            && last.as_bytes().get(3) != Some(&b'-')
        {
            return last[..3].parse().ok();
        }
    }
}

/// SMTP_CHECK: one full greeting/HELO/QUIT exchange.
pub async fn smtp(t: &Target, helo: &str) -> bool {
    let Ok(mut s) = connect(t).await else {
        return false;
    };
    if reply(&mut s, t).await != Some(220) {
        return false;
    }
    let helo = format!("HELO {helo}\r\n");
    if !matches!(
        timeout(t.timeout, s.write_all(helo.as_bytes())).await,
        Ok(Ok(()))
    ) {
        return false;
    }
    if reply(&mut s, t).await != Some(250) {
        return false;
    }
    if !matches!(
        timeout(t.timeout, s.write_all(b"QUIT\r\n")).await,
        Ok(Ok(()))
    ) {
        return false;
    }
    reply(&mut s, t).await == Some(221)
}
