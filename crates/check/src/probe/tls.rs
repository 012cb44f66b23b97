//! TLS for SSL_GET, scoped to health checks: like keepalived without an `SSL { ca … }`
//! block, the server certificate is NOT verified (any certificate, any name, expired or
//! self-signed, is accepted). The handshake signatures are still checked, so the peer must
//! hold the key of the certificate it shows. Never use this configuration for anything but
//! a health check.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// Accepts every server certificate; verifies handshake signatures with ring.
#[derive(Debug)]
pub struct AcceptAnyCertificate {
    algs: WebPkiSupportedAlgorithms,
}

impl AcceptAnyCertificate {
    /// With the ring provider's signature algorithms.
    pub fn new() -> AcceptAnyCertificate {
        AcceptAnyCertificate {
            algs: rustls::crypto::ring::default_provider().signature_verification_algorithms,
        }
    }
}

impl Default for AcceptAnyCertificate {
    fn default() -> Self {
        AcceptAnyCertificate::new()
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The client configuration for health checks (`sni`: send SNI when the name is a DNS
/// name); None if rustls refuses the provider (then SSL_GET probes fail).
pub fn client_config(sni: bool) -> Option<Arc<ClientConfig>> {
    static WITH: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    static WITHOUT: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    let cell = if sni { &WITH } else { &WITHOUT };
    cell.get_or_init(|| build(sni).ok().map(Arc::new)).clone()
}

fn build(sni: bool) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate::new()))
        .with_no_client_auth();
    c.enable_sni = sni;
    Ok(c)
}
