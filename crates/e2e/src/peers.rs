//! Real peers started inside lab namespaces: nginx as a real server, tcpdump as a witness.
//! Each is killed by PID when dropped.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{in_netns, ns_cmd, run_ok, wait_until};

/// The body nginx serves at `/big.bin`: 2 MiB of a counting pattern (many full-sized
/// segments, so a mangled, lost or reordered one shows).
pub fn big_body() -> Vec<u8> {
    (0..2u32 << 20).map(|i| (i % 251) as u8).collect()
}

/// An nginx answering `200 "<name>\n"` on one port, serving `/big.bin` ([`big_body`]) and
/// storing `PUT /up/NAME` in [`Nginx::uploads`], in one namespace.
pub struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx in `ns` listening on `port` (IPv4 and IPv6), answering `name`; waits until
    /// it accepts connections.
    pub fn start(ns: &str, name: &str, port: u16) -> Nginx {
        let dir = tempfile::tempdir().expect("nginx prefix directory");
        let conf = dir.path().join("nginx.conf");
        fs::write(dir.path().join("big.bin"), big_body()).expect("write big.bin");
        fs::create_dir_all(dir.path().join("up")).expect("create up/");
        // One process (no master/worker split) so killing the PID stops it all.
        fs::write(
            &conf,
            format!(
                "daemon off;\nmaster_process off;\npid {pid};\nerror_log stderr;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  server {{\n    listen {port};\n    listen [::]:{port};\n\
                 \x20   keepalive_requests 1000000;\n    root {root};\n\
                 \x20   location = /big.bin {{ }}\n\
                 \x20   location /up/ {{ dav_methods PUT; client_max_body_size 16m; }}\n    location / {{ return 200 \"{name}\\n\"; }}\n\
                 \x20 }}\n}}\n",
                pid = dir.path().join("nginx.pid").display(),
                root = dir.path().display(),
            ),
        )
        .expect("write nginx.conf");
        let child = ns_cmd(ns, "nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .args(["-e", "stderr"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn nginx");
        let mut nginx = Nginx { child, dir };
        let ns_owned = ns.to_string();
        wait_until("nginx to listen", Duration::from_secs(10), || {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited at start: {status}");
            }
            let to = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            in_netns(&ns_owned, move || {
                TcpStream::connect_timeout(&to, Duration::from_millis(200)).is_ok()
            })
        });
        nginx
    }
}

impl Nginx {
    /// Where `PUT /up/NAME` lands.
    pub fn uploads(&self) -> PathBuf {
        self.dir.path().join("up")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tcpdump writing a capture file; [`Capture::finish`] stops it and decodes the file.
pub struct Capture {
    child: Child,
    file: PathBuf,
}

impl Capture {
    /// Captures on `iface` in `ns` (`-Q direction` when given) what matches `filter` into
    /// `file`; returns once tcpdump listens.
    pub fn start(
        ns: &str,
        iface: &str,
        direction: Option<&str>,
        filter: &str,
        file: PathBuf,
    ) -> Capture {
        let mut cmd = ns_cmd(ns, "tcpdump");
        // Immediate mode: without it packets wait in the ring until a block fills or times out,
        // and the ones still waiting when tcpdump is stopped are never written.
        cmd.args([
            "-i",
            iface,
            "-n",
            "--immediate-mode",
            "-U",
            "-Z",
            "root",
            "-w",
        ])
        .arg(&file);
        if let Some(d) = direction {
            cmd.args(["-Q", d]);
        }
        cmd.arg(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn tcpdump");
        let stderr = child.stderr.take().expect("tcpdump stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        let capture = Capture { child, file };
        rx.recv_timeout(Duration::from_secs(10))
            .expect("tcpdump did not start listening");
        capture
    }

    /// Stops tcpdump (SIGINT flushes the file) and returns the captured packets, one line each.
    pub fn finish(mut self) -> Vec<String> {
        // Packets still on their way through the namespaces.
        std::thread::sleep(Duration::from_millis(300));
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT);
        let mut done = false;
        wait_until("tcpdump to exit", Duration::from_secs(10), || {
            done = matches!(self.child.try_wait(), Ok(Some(_)));
            done
        });
        let text = run_ok(
            std::process::Command::new("tcpdump")
                .args(["-n", "-r"])
                .arg(&self.file),
        );
        text.lines().map(str::to_string).collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.file);
    }
}
