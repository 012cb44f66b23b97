//! The demo's client: plain HTTP/1.0 GETs from inside the lab's client namespace, with
//! short timeouts, so a service that does not forward fails fast instead of hanging.
//!
//! The requests run on a thread that has entered the client's network namespace; the rest
//! of the demo stays where it is.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

/// After this many failures in a row a batch stops: the service is not answering.
const GIVE_UP_AFTER: usize = 3;

/// Timeouts of one request.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// Each read and write.
    pub io: Duration,
}

impl Timeouts {
    /// For batches: room for one SYN retransmission (after 1 s, as curl would wait), short
    /// enough to fail fast.
    pub const BATCH: Timeouts = Timeouts {
        connect: Duration::from_millis(2500),
        io: Duration::from_secs(2),
    };
    /// For the fail-over probe, which measures a gap and must not wait long on one try.
    pub const PROBE: Timeouts = Timeouts {
        connect: Duration::from_millis(300),
        io: Duration::from_millis(500),
    };
}

/// One `GET /` to `addr`: the body, trimmed (`rs1`), or why it failed.
pub fn get(addr: SocketAddr, t: Timeouts) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(&addr, t.connect).map_err(|e| short(&e))?;
    s.set_read_timeout(Some(t.io)).map_err(|e| short(&e))?;
    s.set_write_timeout(Some(t.io)).map_err(|e| short(&e))?;
    let req = format!(
        "GET / HTTP/1.0\r\nHost: {}\r\nUser-Agent: rvs-demo\r\nConnection: close\r\n\r\n",
        addr.ip()
    );
    s.write_all(req.as_bytes()).map_err(|e| short(&e))?;
    let mut buf = Vec::with_capacity(512);
    // Bounded: the built-in servers answer a few hundred bytes.
    s.take(64 * 1024)
        .read_to_end(&mut buf)
        .map_err(|e| short(&e))?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "incomplete HTTP response".to_string())?;
    if !head.starts_with("HTTP/1.") || !head.contains(" 200 ") {
        let status = head.lines().next().unwrap_or("").to_string();
        return Err(format!("unexpected status: {status}"));
    }
    Ok(body.trim().to_string())
}

fn short(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timed out".into(),
        _ => e.to_string(),
    }
}

/// Runs `f` on a thread inside network namespace `netns`.
fn in_netns<T: Send + 'static>(
    netns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>, String> {
    let path = format!("/run/netns/{netns}");
    let file = std::fs::File::open(&path).map_err(|e| format!("opening {path}: {e}"))?;
    let handle = thread::Builder::new()
        .name(format!("client@{netns}"))
        .spawn(move || {
            // The thread alone moves: setns on one thread leaves the others where they are.
            setns(&file, CloneFlags::CLONE_NEWNET)
                .unwrap_or_else(|e| panic!("setns into {path}: {e}"));
            f()
        })
        .map_err(|e| format!("spawning the client thread: {e}"))?;
    Ok(handle)
}

/// What a batch of requests got back, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Every answer (the server's name) or error, in request order.
    pub answers: Vec<Result<String, String>>,
    /// Whether the batch stopped early after failures in a row.
    pub gave_up: bool,
    /// Requests that took over a second (a TCP retransmission happened).
    pub slow: usize,
}

impl Batch {
    /// The server names of the successful answers, in order.
    pub fn names(&self) -> Vec<&str> {
        self.answers
            .iter()
            .filter_map(|a| a.as_deref().ok())
            .collect()
    }

    /// How many requests got an answer.
    pub fn ok(&self) -> usize {
        self.answers.iter().filter(|a| a.is_ok()).count()
    }

    /// The first error, for the narration.
    pub fn first_error(&self) -> Option<&str> {
        self.answers
            .iter()
            .find_map(|a| a.as_ref().err())
            .map(String::as_str)
    }
}

/// `count` sequential GETs to `vip:port` from `netns`; stops early after failures in a row
/// or when `stop` is raised (the demo's interrupt flag).
pub fn batch(
    netns: &str,
    vip: IpAddr,
    port: u16,
    count: usize,
    stop: Arc<AtomicBool>,
) -> Result<Batch, String> {
    let addr = SocketAddr::new(vip, port);
    let worker = in_netns(netns, move || {
        let mut b = Batch::default();
        let mut failed_in_a_row = 0;
        for _ in 0..count {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let began = Instant::now();
            let answer = get(addr, Timeouts::BATCH);
            if answer.is_ok() && began.elapsed() > Duration::from_millis(900) {
                b.slow += 1;
            }
            failed_in_a_row = if answer.is_ok() {
                0
            } else {
                failed_in_a_row + 1
            };
            b.answers.push(answer);
            if failed_in_a_row >= GIVE_UP_AFTER {
                b.gave_up = true;
                break;
            }
        }
        b
    })?;
    worker
        .join()
        .map_err(|_| "the client thread panicked".to_string())
}

/// One probe result: when it was sent and what came back.
#[derive(Clone, Debug)]
pub struct Probe {
    /// When the request started.
    pub at: Instant,
    /// The server's name, or the error.
    pub answer: Result<String, String>,
}

/// A client sending one request every `every` until stopped: the fail-over's stopwatch.
pub struct Prober {
    stop: Arc<AtomicBool>,
    probes: Arc<Mutex<Vec<Probe>>>,
    worker: JoinHandle<()>,
}

impl Prober {
    /// Starts probing `vip:port` from `netns`. At most `limit` probes, so it always ends.
    pub fn start(
        netns: &str,
        vip: IpAddr,
        port: u16,
        every: Duration,
        limit: usize,
    ) -> Result<Prober, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let probes = Arc::new(Mutex::new(Vec::new()));
        let (flag, out) = (Arc::clone(&stop), Arc::clone(&probes));
        let addr = SocketAddr::new(vip, port);
        let worker = in_netns(netns, move || {
            for _ in 0..limit {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let at = Instant::now();
                let answer = get(addr, Timeouts::PROBE);
                if let Ok(mut v) = out.lock() {
                    v.push(Probe { at, answer });
                }
                let spent = at.elapsed();
                if spent < every {
                    thread::sleep(every - spent);
                }
            }
        })?;
        Ok(Prober {
            stop,
            probes,
            worker,
        })
    }

    /// Whether some probe sent after `event` got an answer.
    pub fn answered_after(&self, event: Instant) -> bool {
        self.probes
            .lock()
            .is_ok_and(|v| v.iter().any(|p| p.at > event && p.answer.is_ok()))
    }

    /// Stops probing and returns every probe.
    pub fn finish(self) -> Vec<Probe> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.worker.join();
        match Arc::try_unwrap(self.probes) {
            Ok(m) => m.into_inner().unwrap_or_default(),
            Err(shared) => shared.lock().map(|v| v.clone()).unwrap_or_default(),
        }
    }
}

/// The service gap around `event`: from the last answer before it to the first answer
/// after it, and how many probes failed in between. None if no answer came after.
pub fn gap(probes: &[Probe], event: Instant) -> Option<(Duration, usize)> {
    let before = probes
        .iter()
        .filter(|p| p.at <= event && p.answer.is_ok())
        .map(|p| p.at)
        .next_back()
        .unwrap_or(event);
    let after = probes.iter().find(|p| p.at > event && p.answer.is_ok())?;
    let failed = probes
        .iter()
        .filter(|p| p.at > before && p.at < after.at && p.answer.is_err())
        .count();
    Some((after.at.duration_since(before), failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(base: Instant, ms: u64, ok: bool) -> Probe {
        Probe {
            at: base + Duration::from_millis(ms),
            answer: if ok {
                Ok("rs1".into())
            } else {
                Err("timed out".into())
            },
        }
    }

    #[test]
    fn the_gap_runs_from_the_last_answer_before_to_the_first_after() {
        let t = Instant::now();
        let probes = vec![
            probe(t, 0, true),
            probe(t, 100, true),
            probe(t, 200, false),
            probe(t, 500, false),
            probe(t, 800, false),
            probe(t, 1100, true),
        ];
        let event = t + Duration::from_millis(150);
        assert_eq!(gap(&probes, event), Some((Duration::from_millis(1000), 3)));
    }

    #[test]
    fn no_answer_after_the_event_is_no_gap() {
        let t = Instant::now();
        let probes = vec![probe(t, 0, true), probe(t, 100, false)];
        assert_eq!(gap(&probes, t + Duration::from_millis(50)), None);
    }

    #[test]
    fn batch_helpers_count_answers() {
        let b = Batch {
            answers: vec![Ok("rs1".into()), Err("timed out".into()), Ok("rs2".into())],
            gave_up: false,
            slow: 0,
        };
        assert_eq!(b.names(), ["rs1", "rs2"]);
        assert_eq!(b.ok(), 2);
        assert_eq!(b.first_error(), Some("timed out"));
    }
}
