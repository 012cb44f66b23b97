//! Probes against real servers on 127.0.0.1: TCP, HTTP_GET, SSL_GET (self-signed), UDP,
//! DNS, MISC, PING, SMTP. Each server is a task of the test; nothing leaves the host.

mod common;

use std::sync::{Arc, Mutex};

use common::vss;
use rvs_check::ProbeResult;
use rvs_check::probe::ProbeSpec;
use rvs_check::script::{RunAs, ScriptEnv};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

fn env() -> ScriptEnv {
    ScriptEnv {
        security: false,
        default_user: RunAs { uid: 0, gid: 0 },
    }
}

/// The probe of the first checker of the first RS of a one-VS config.
fn spec(port: u16, checker: &str, step: usize) -> ProbeSpec {
    let conf = format!(
        "virtual_server 203.0.113.10 {port} {{
            protocol TCP
            real_server 127.0.0.1 {port} {{
                {checker}
            }}
        }}"
    );
    let v = vss(&conf);
    let rs = &v[0].real_servers[0];
    ProbeSpec::build(&v[0], rs, &rs.checkers[0], step, &env()).unwrap()
}

async fn free_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn tcp_connect() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let s = spec(port, "TCP_CHECK { connect_timeout 2 }", 0);
    assert_eq!(s.run().await, ProbeResult::Success);
    drop(l);
    assert_eq!(s.run().await, ProbeResult::Failure);
    let s = spec(
        port,
        "TCP_CHECK { connect_timeout 2\n bindto 127.0.0.2 }",
        0,
    );
    let l = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let accepted = tokio::spawn(async move { l.accept().await.unwrap().1 });
    assert_eq!(s.run().await, ProbeResult::Success);
    assert_eq!(accepted.await.unwrap().ip().to_string(), "127.0.0.2");
}

/// A one-response-per-connection HTTP server; records requests.
async fn http_server(
    response: &'static [u8],
) -> (u16, Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf).into_owned());
            let _ = c.write_all(response).await;
        }
    });
    (port, seen, task)
}

const HELLO: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const MD5_HELLO: &str = "5d41402abc4b2a76b9719d911017c592";

#[tokio::test]
async fn http_get_status_and_digest() {
    let (port, seen, task) = http_server(HELLO).await;
    let url = |extra: &str| {
        format!(
            "HTTP_GET {{ connect_timeout 2\n url {{ path /health\n {extra} }}\n url {{ path /b }} }}"
        )
    };
    assert_eq!(spec(port, &url(""), 0).run().await, ProbeResult::Success);
    assert_eq!(
        seen.lock().unwrap()[0],
        format!(
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        )
    );
    // Step 1 fetches the second URL.
    assert_eq!(spec(port, &url(""), 1).run().await, ProbeResult::Success);
    assert!(seen.lock().unwrap()[1].starts_with("GET /b HTTP/1.0\r\n"));
    let ok = url(&format!("digest {MD5_HELLO}"));
    assert_eq!(spec(port, &ok, 0).run().await, ProbeResult::Success);
    let bad = url("digest 00000000000000000000000000000000");
    assert_eq!(spec(port, &bad, 0).run().await, ProbeResult::Failure);
    assert_eq!(
        spec(port, &url("status_code 300-399"), 0).run().await,
        ProbeResult::Failure
    );
    assert_eq!(
        spec(port, &url("status_code 201 200"), 0).run().await,
        ProbeResult::Success
    );
    let vhost = "HTTP_GET { http_protocol 1.1\n url { path /\n virtualhost www.example } }";
    assert_eq!(spec(port, vhost, 0).run().await, ProbeResult::Success);
    assert!(seen.lock().unwrap().last().unwrap().ends_with(
        "HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n"
    ));
    // The HTTP server stops: the check fails.
    task.abort();
    let _ = task.await;
    assert_eq!(spec(port, &url(""), 0).run().await, ProbeResult::Failure);
}

#[tokio::test]
async fn http_get_non_http_answer_fails() {
    let (port, _, _task) = http_server(b"garbage without blank line").await;
    let s = spec(port, "HTTP_GET { connect_timeout 2\n url { path / } }", 0);
    assert_eq!(s.run().await, ProbeResult::Failure);
}

#[tokio::test]
async fn ssl_get_accepts_self_signed_certificate() {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["rs1.example".into()]).unwrap();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let sni_seen = Arc::new(Mutex::new(Vec::new()));
    let log = sni_seen.clone();
    let _server = tokio::spawn(async move {
        loop {
            let Ok((c, _)) = l.accept().await else { return };
            let Ok(mut t) = acceptor.accept(c).await else {
                continue;
            };
            log.lock()
                .unwrap()
                .push(t.get_ref().1.server_name().map(str::to_string));
            let mut buf = [0u8; 1024];
            let _ = t.read(&mut buf).await;
            let _ = t.write_all(HELLO).await;
            let _ = t.shutdown().await;
        }
    });
    let s = spec(
        port,
        &format!("SSL_GET {{ connect_timeout 2\n url {{ path /\n digest {MD5_HELLO} }} }}"),
        0,
    );
    assert_eq!(s.run().await, ProbeResult::Success);
    let s = spec(
        port,
        "SSL_GET { connect_timeout 2\n enable_sni\n virtualhost rs1.example\n url { path / } }",
        0,
    );
    assert_eq!(s.run().await, ProbeResult::Success);
    assert_eq!(
        *sni_seen.lock().unwrap(),
        [None, Some("rs1.example".to_string())]
    );
    // Plain HTTP against the TLS server fails.
    let s = spec(port, "HTTP_GET { connect_timeout 1\n url { path / } }", 0);
    assert_eq!(s.run().await, ProbeResult::Failure);
}

async fn udp_server(reply: Option<&'static [u8]>) -> (u16, tokio::task::JoinHandle<()>) {
    let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = u.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, from)) = u.recv_from(&mut buf).await else {
                return;
            };
            match reply {
                Some([]) => drop(u.send_to(&buf[..n], from).await),
                Some(r) => drop(u.send_to(r, from).await),
                None => {}
            }
        }
    });
    (port, task)
}

#[tokio::test]
async fn udp_check() {
    let (echo, _t1) = udp_server(Some(b"")).await;
    let chk = |extra: &str| format!("UDP_CHECK {{ connect_timeout 1\n payload 0a0b0c\n {extra} }}");
    assert_eq!(
        spec(echo, &chk("require_reply"), 0).run().await,
        ProbeResult::Success
    );
    assert_eq!(
        spec(echo, &chk("require_reply 0a0b"), 0).run().await,
        ProbeResult::Success
    );
    assert_eq!(
        spec(echo, &chk("require_reply 0a0c"), 0).run().await,
        ProbeResult::Failure
    );
    assert_eq!(
        spec(echo, &chk("require_reply 0a\n max_reply_length 2"), 0)
            .run()
            .await,
        ProbeResult::Failure
    );
    let (silent, _t2) = udp_server(None).await;
    assert_eq!(spec(silent, &chk(""), 0).run().await, ProbeResult::Success);
    assert_eq!(
        spec(silent, &chk("require_reply"), 0).run().await,
        ProbeResult::Failure
    );
    // Nothing listening: ICMP port unreachable.
    let closed = {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        u.local_addr().unwrap().port()
    };
    assert_eq!(spec(closed, &chk(""), 0).run().await, ProbeResult::Failure);
}

/// A DNS responder: answers with the query's id and the given flags' low byte (RCODE).
async fn dns_server(rcode: u8, same_id: bool) -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = u.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = u.recv_from(&mut buf).await {
            log.lock().unwrap().push(buf[..n].to_vec());
            let mut r = buf[..n].to_vec();
            if !same_id {
                r[0] ^= 0xff;
            }
            r[2] = 0x81;
            r[3] = 0x80 | rcode;
            let _ = u.send_to(&r, from).await;
        }
    });
    (port, seen)
}

#[tokio::test]
async fn dns_check() {
    let (ok, seen) = dns_server(0, true).await;
    let chk = "DNS_CHECK { connect_timeout 1\n type A\n name www.example.org }";
    assert_eq!(spec(ok, chk, 0).run().await, ProbeResult::Success);
    let q = seen.lock().unwrap()[0].clone();
    assert_eq!(&q[2..6], [1, 0, 0, 1]);
    assert_eq!(&q[12..], b"\x03www\x07example\x03org\x00\x00\x01\x00\x01");
    let (nx, _) = dns_server(3, true).await;
    assert_eq!(spec(nx, chk, 0).run().await, ProbeResult::Failure);
    let (other, _) = dns_server(0, false).await;
    assert_eq!(spec(other, chk, 0).run().await, ProbeResult::Failure);
}

#[tokio::test]
async fn misc_check_exit_codes_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.display().to_string()
    };
    let seven = write("seven.sh", "exit 7");
    let slow = write("slow.sh", "sleep 30");
    let args = write("args.sh", "[ \"$1\" = a ] && [ \"$2\" = 'b c' ]");
    let chk = |p: &str, extra: &str| format!("MISC_CHECK {{ misc_path \"{p}\"\n {extra} }}");
    assert_eq!(
        spec(80, &chk(&seven, ""), 0).run().await,
        ProbeResult::Exited(7)
    );
    assert_eq!(
        spec(80, &chk(&slow, "misc_timeout 1"), 0).run().await,
        ProbeResult::Killed
    );
    assert_eq!(
        spec(80, &chk(&format!("{args} a 'b c'"), ""), 0)
            .run()
            .await,
        ProbeResult::Exited(0)
    );
}

#[tokio::test]
async fn ping_loopback() {
    let s = spec(80, "PING_CHECK { connect_timeout 2 }", 0);
    assert_eq!(s.run().await, ProbeResult::Success);
}

#[tokio::test]
async fn smtp_check() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let helo = Arc::new(Mutex::new(String::new()));
    let log = helo.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            let _ = c.write_all(b"220-mx ready\r\n220 go\r\n").await;
            let mut buf = [0u8; 256];
            let n = c.read(&mut buf).await.unwrap_or(0);
            *log.lock().unwrap() = String::from_utf8_lossy(&buf[..n]).into_owned();
            let _ = c.write_all(b"250 hello\r\n").await;
            let _ = c.read(&mut buf).await;
            let _ = c.write_all(b"221 bye\r\n").await;
        }
    });
    let s = spec(port, "SMTP_CHECK { connect_timeout 2 }", 0);
    assert_eq!(s.run().await, ProbeResult::Success);
    assert_eq!(*helo.lock().unwrap(), "HELO smtpchecker.keepalived.org\r\n");
    let closed = free_tcp_port().await;
    assert_eq!(
        spec(closed, "SMTP_CHECK { connect_timeout 1 }", 0)
            .run()
            .await,
        ProbeResult::Failure
    );
}

#[test]
fn tls_verifier_accepts_any_certificate() {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    let v = rvs_check::probe::tls::AcceptAnyCertificate::new();
    let junk = CertificateDer::from(vec![1u8, 2, 3]);
    let name = ServerName::try_from("anything.invalid").unwrap();
    assert!(
        v.verify_server_cert(&junk, &[], &name, &[], UnixTime::now())
            .is_ok()
    );
    assert!(!v.supported_verify_schemes().is_empty());
}
