//! The tokio driver end to end: a real HTTP server on 127.0.0.1 as real server; stopping it
//! takes the real server out of the pool; shutdown empties the pool and runs omega scripts.

mod common;

use std::time::Duration;

use common::config;
use rvs_check::runner::{CheckConfig, Checks, Event, ScriptOutcome};
use rvs_check::script::ScriptExit;
use rvs_check::{DesiredPool, NotifyKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;

async fn next_pool(rx: &mut UnboundedReceiver<Event>, notes: &mut Vec<Event>) -> DesiredPool {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("no event within 30 s")
            .expect("channel closed");
        match ev {
            Event::Pool { pool, .. } => return pool,
            other => notes.push(other),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_http_server_leaves_the_pool() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = c.read(&mut buf).await;
                let _ = c.write_all(b"HTTP/1.0 200 OK\r\n\r\nrs1").await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("omega-ran");
    let conf = format!(
        "virtual_server 203.0.113.10 {port} {{
            delay_loop 1
            protocol TCP
            omega
            quorum_down \"/bin/touch {m}\"
            real_server 127.0.0.1 {port} {{
                HTTP_GET {{
                    url {{ path /health }}
                    connect_timeout 1
                    retry 0
                    warmup 0
                }}
            }}
            real_server 127.0.0.2 {port} {{ weight 2 }}
        }}",
        m = marker.display()
    );
    let cfg = config(&conf);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let checks = Checks::spawn(
        CheckConfig {
            virtual_servers: cfg.virtual_servers,
            global: cfg.global,
        },
        tx,
    );
    let mut notes = Vec::new();
    let first = next_pool(&mut rx, &mut notes).await;
    assert_eq!(first.destinations.len(), 2);
    server.abort();
    let _ = server.await;
    let after = next_pool(&mut rx, &mut notes).await;
    let addrs: Vec<_> = after
        .destinations
        .iter()
        .map(|d| (d.addr.to_string(), d.weight))
        .collect();
    assert_eq!(addrs, [("127.0.0.2".to_string(), 2)]);
    assert!(notes.iter().any(|e| matches!(e, Event::Notify { notification, .. } if notification.kind == NotifyKind::RsDown)));

    checks.shutdown().await;
    let mut rest = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        rest.push(ev);
    }
    assert!(
        rest.iter()
            .any(|e| matches!(e, Event::Pool { pool, .. } if pool.destinations.is_empty()))
    );
    assert!(rest.iter().any(|e| matches!(e,
        Event::Notify { notification, script: ScriptOutcome::Finished(ScriptExit::Exited(0)) }
            if notification.kind == NotifyKind::QuorumDown)));
    assert!(marker.exists());
}
