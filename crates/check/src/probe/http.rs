//! One URL of HTTP_GET / SSL_GET: connect (TLS for SSL_GET), send keepalived's request,
//! read to EOF (each read within connect_timeout), judge status and digest.

use std::ops::RangeInclusive;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use super::{Target, tcp, tls};
use crate::http_wire::{ResponseReader, UrlVerdict, judge};

/// One URL check, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProbe {
    /// Server.
    pub target: Target,
    /// SSL_GET.
    pub tls: bool,
    /// SNI name (`enable_sni` with a virtualhost).
    pub sni: Option<String>,
    /// The request bytes.
    pub request: String,
    /// Accepted status codes.
    pub codes: Vec<RangeInclusive<u16>>,
    /// Expected MD5 of the body.
    pub digest: Option<[u8; 16]>,
}

impl HttpProbe {
    /// Runs the check; true when the URL passes.
    pub async fn run(&self) -> bool {
        let Ok(stream) = tcp::connect(&self.target).await else {
            return false;
        };
        let resp = if self.tls {
            let Some(cfg) = tls::client_config(self.sni.is_some()) else {
                return false;
            };
            let name = self
                .sni
                .as_deref()
                .and_then(|s| ServerName::try_from(s.to_string()).ok())
                .unwrap_or_else(|| ServerName::IpAddress(self.target.dst.ip().into()));
            let conn = tokio_rustls::TlsConnector::from(cfg);
            match timeout(self.target.timeout, conn.connect(name, stream)).await {
                Ok(Ok(s)) => self.exchange(s).await,
                _ => return false,
            }
        } else {
            self.exchange(stream).await
        };
        let verdict = judge(resp.as_ref(), &self.codes, self.digest.as_ref());
        if verdict != UrlVerdict::Ok {
            tracing::debug!(dst = %self.target.dst, ?verdict, "HTTP check failed");
        }
        verdict == UrlVerdict::Ok
    }

    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut s: S,
    ) -> Option<crate::http_wire::Response> {
        let t = self.target.timeout;
        if !matches!(
            timeout(t, s.write_all(self.request.as_bytes())).await,
            Ok(Ok(()))
        ) {
            return None;
        }
        let _ = timeout(t, s.flush()).await;
        let mut r = ResponseReader::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match timeout(t, s.read(&mut buf)).await {
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => {
                    if !r.feed(&buf[..n]) {
                        return None;
                    }
                }
                // A TLS peer closing without close_notify still ends the body, as for
                // keepalived (which stops at SSL_ERROR_ZERO_RETURN/SYSCALL alike).
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                _ => return None,
            }
        }
        r.finish()
    }
}
