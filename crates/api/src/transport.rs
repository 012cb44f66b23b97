//! How request lines reach a server: rvsd's Unix socket, or a backend in the same process.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::server::{Backend, handle_line};

/// Carries one request line to a server and brings its response line back.
pub trait Transport {
    /// Send `request` (one JSON object, no newline) and return the response line (no newline).
    fn exchange(&mut self, request: &str) -> io::Result<String>;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn exchange(&mut self, request: &str) -> io::Result<String> {
        (**self).exchange(request)
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn exchange(&mut self, request: &str) -> io::Result<String> {
        (**self).exchange(request)
    }
}

/// rvsd's control socket.
#[derive(Debug)]
pub struct UnixTransport {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl UnixTransport {
    /// Connect to the socket at `path`.
    pub fn connect(path: impl AsRef<Path>) -> io::Result<Self> {
        let writer = UnixStream::connect(path)?;
        let reader = BufReader::new(writer.try_clone()?);
        Ok(UnixTransport { reader, writer })
    }
}

impl Transport for UnixTransport {
    fn exchange(&mut self, request: &str) -> io::Result<String> {
        let mut line = String::with_capacity(request.len() + 1);
        line.push_str(request);
        line.push('\n');
        self.writer.write_all(line.as_bytes())?;
        self.writer.flush()?;
        let mut response = String::new();
        if self.reader.read_line(&mut response)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "rvsd closed the connection",
            ));
        }
        while response.ends_with('\n') || response.ends_with('\r') {
            response.pop();
        }
        Ok(response)
    }
}

/// A backend called in-process through [`handle_line`]: the full protocol path without a
/// socket (for tests and tools that embed a backend).
#[derive(Debug, Default)]
pub struct LocalTransport<B> {
    /// The backend the requests go to.
    pub backend: B,
}

impl<B: Backend> LocalTransport<B> {
    /// Requests will go to `backend`.
    pub fn new(backend: B) -> Self {
        LocalTransport { backend }
    }
}

impl<B: Backend> Transport for LocalTransport<B> {
    fn exchange(&mut self, request: &str) -> io::Result<String> {
        Ok(handle_line(&mut self.backend, request))
    }
}
