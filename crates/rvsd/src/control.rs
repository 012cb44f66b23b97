//! The control socket: JSON lines over a Unix stream socket, mode 0600, one thread per client.
//!
//! The protocol itself (parsing, dispatch, encoding) lives in `rvs-api`; this module only
//! owns the socket: binding safely, accepting, splitting lines, and writing replies.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::{fs, thread};

/// Turns one request line into one response line.
pub type Handler = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The longest request line accepted; a longer one gets an error and the connection closes.
const MAX_LINE: usize = 16 << 20;

/// A bound control socket; removes its file when dropped.
#[derive(Debug)]
pub struct ControlSocket {
    path: PathBuf,
    listener: UnixListener,
}

impl ControlSocket {
    /// Bind at `path`: creates the parent directory, refuses to steal the socket of a running
    /// rvsd, replaces a stale one, and restricts it to its owner (0600).
    pub fn bind(path: &Path) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use: is another rvsd running?", path.display()),
                ));
            }
            fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        Ok(ControlSocket {
            path: path.to_path_buf(),
            listener,
        })
    }

    /// Serve clients on background threads until the process ends.
    pub fn serve(&self, handler: Handler) -> io::Result<thread::JoinHandle<()>> {
        let listener = self.listener.try_clone()?;
        thread::Builder::new()
            .name("rvsd-control".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    match stream {
                        Ok(stream) => {
                            let handler = handler.clone();
                            let spawned = thread::Builder::new().name("rvsd-client".into()).spawn(
                                move || {
                                    if let Err(e) = serve_client(stream, &handler) {
                                        tracing::debug!("control client ended: {e}");
                                    }
                                },
                            );
                            if let Err(e) = spawned {
                                tracing::warn!("cannot start a control client thread: {e}");
                            }
                        }
                        Err(e) => tracing::warn!("control socket accept failed: {e}"),
                    }
                }
            })
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn serve_client(stream: UnixStream, handler: &Handler) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            writer.write_all(b"{\"v\":1,\"error\":{\"kind\":\"invalid\",\"errno\":22,\"message\":\"request line too long\"}}\n")?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let mut reply = handler(text);
        reply.push('\n');
        writer.write_all(reply.as_bytes())?;
    }
}

use std::io::Read as _;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Write};

    #[test]
    fn lines_are_answered_in_order_and_socket_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/rvsd.sock");
        let sock = ControlSocket::bind(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        sock.serve(Arc::new(|l: &str| format!("echo:{l}"))).unwrap();
        let mut c = UnixStream::connect(&path).unwrap();
        c.write_all(b"a\n\nb\n").unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut s = String::new();
        r.read_line(&mut s).unwrap();
        assert_eq!(s, "echo:a\n");
        s.clear();
        r.read_line(&mut s).unwrap();
        assert_eq!(s, "echo:b\n");
        // A second rvsd must not steal a live socket.
        let err = ControlSocket::bind(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(sock);
        assert!(!path.exists());
    }
}
