//! The responder: request parsing and routing without sockets, then whole exchanges over a
//! loopback listener (200, 404, 405, 431, 503).

use std::io::{Cursor, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use super::*;

fn route_of(head: &str) -> Route {
    route(head.as_bytes())
}

#[test]
fn get_and_head_of_metrics_are_served() {
    assert_eq!(
        route_of("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*"),
        Route::Metrics { head_only: false }
    );
    assert_eq!(
        route_of("GET /metrics?name[]=x HTTP/1.0"),
        Route::Metrics { head_only: false }
    );
    assert_eq!(
        route_of("HEAD /metrics HTTP/1.1\n"),
        Route::Metrics { head_only: true }
    );
}

#[test]
fn other_paths_methods_and_versions_are_refused() {
    let status = |s| Route::Status(s);
    assert_eq!(route_of("GET / HTTP/1.1"), status(Status::NotFound));
    assert_eq!(route_of("GET /metrics/ HTTP/1.1"), status(Status::NotFound));
    assert_eq!(route_of("GET /metricsx HTTP/1.1"), status(Status::NotFound));
    assert_eq!(
        route_of("POST /metrics HTTP/1.1"),
        status(Status::MethodNotAllowed)
    );
    assert_eq!(
        route_of("GET /metrics HTTP/2.0"),
        status(Status::VersionNotSupported)
    );
    for bad in [
        "",
        "GET /metrics",
        "GET  /metrics HTTP/1.1",
        "GET /metrics HTTP/1.1 extra",
        "GET metrics HTTP/1.1",
        "GET /metrics FTP/1.0",
    ] {
        assert_eq!(route_of(bad), status(Status::BadRequest), "{bad:?}");
    }
    assert_eq!(
        route(b"GET /\xff HTTP/1.1"),
        status(Status::BadRequest),
        "not UTF-8"
    );
}

#[test]
fn heads_end_at_the_blank_line_and_are_bounded() {
    let mut r = Cursor::new(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nbody".to_vec());
    let head = read_head(&mut r, MAX_HEAD).unwrap();
    assert_eq!(head, b"GET /metrics HTTP/1.1\r\nHost: x");
    let mut lax = Cursor::new(b"GET /metrics HTTP/1.0\n\n".to_vec());
    assert_eq!(
        read_head(&mut lax, MAX_HEAD).unwrap(),
        b"GET /metrics HTTP/1.0"
    );

    let mut unfinished = Cursor::new(b"GET /metrics HTTP/1.1\r\nHost: x\r\n".to_vec());
    assert!(matches!(
        read_head(&mut unfinished, MAX_HEAD),
        Err(HeadError::Incomplete)
    ));
    let endless = format!("GET /metrics HTTP/1.1\r\nX: {}", "a".repeat(3 * MAX_HEAD));
    assert!(matches!(
        read_head(&mut Cursor::new(endless.into_bytes()), MAX_HEAD),
        Err(HeadError::TooLarge)
    ));
    // A complete head that is still too long is refused too.
    let long = format!(
        "GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(MAX_HEAD)
    );
    assert!(matches!(
        read_head(&mut Cursor::new(long.into_bytes()), MAX_HEAD),
        Err(HeadError::TooLarge)
    ));
}

#[test]
fn responses_carry_length_type_and_close() {
    let r = response((200, "OK"), CONTENT_TYPE, "a 1\n", false);
    assert_eq!(
        String::from_utf8(r).unwrap(),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: 4\r\nConnection: close\r\n\r\na 1\n"
    );
    let head = String::from_utf8(response((200, "OK"), CONTENT_TYPE, "a 1\n", true)).unwrap();
    assert!(head.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n"));
    let refused = String::from_utf8(error_response(Status::MethodNotAllowed)).unwrap();
    assert!(refused.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    assert!(refused.contains("\r\nAllow: GET, HEAD\r\n"));
}

/// A responder on 127.0.0.1 whose scrape answers `text` (or fails with `Err`).
fn start(answer: Result<&'static str, &'static str>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let scrape: Scrape = Arc::new(move || answer.map(str::to_string).map_err(str::to_string));
    serve(listener, scrape).unwrap();
    addr
}

/// Send `request` raw and read the whole reply (the server closes after one).
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(request).unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn a_scrape_over_tcp_gets_the_exposition_then_the_connection_closes() {
    let addr = start(Ok("rvs_up 1\n"));
    let reply = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: rvsd\r\n\r\n");
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"));
    assert!(head.contains("Content-Length: 9"));
    assert_eq!(body, "rvs_up 1\n");
    let reply = exchange(addr, b"HEAD /metrics HTTP/1.0\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n") && reply.ends_with("\r\n\r\n"));
}

#[test]
fn unknown_paths_get_404_and_oversized_requests_431_over_tcp() {
    let addr = start(Ok("rvs_up 1\n"));
    let reply = exchange(addr, b"GET /other HTTP/1.1\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 404 Not Found\r\n"), "{reply}");
    assert!(!reply.contains("rvs_up"));
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nCookie: {}\r\n\r\n",
        "c".repeat(2 * MAX_HEAD)
    );
    let reply = exchange(addr, huge.as_bytes());
    assert!(
        reply.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{reply}"
    );
    // The responder still serves after refusing.
    let reply = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(reply.ends_with("rvs_up 1\n"), "{reply}");
}

#[test]
fn a_failing_scrape_gets_503() {
    let addr = start(Err("rvsd is stopping"));
    let reply = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(
        reply.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{reply}"
    );
}
