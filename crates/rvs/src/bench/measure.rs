//! One repetition of one path: HTTP keep-alive, HTTP `Connection: close`, 64-byte UDP, each
//! with the CPU busy time of every core over the run.
//!
//! A failure is recorded with its reason in the figure it concerns; the other figures of the
//! path (and the other paths) still run.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};

use super::balancer::{self, Balancer};
use super::context::Ctx;
use super::cpu::{self, CpuUse};
use super::labs::{self, Target};
use super::paths::PathKind;
use super::proc::{Placement, Spawned, run_bounded};
use super::udp;
use super::wrk::{self, WrkReport};

/// A figure, or why it could not be measured.
pub type Outcome<T> = std::result::Result<T, String>;

/// One wrk run with the CPU it cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpSample {
    /// What wrk reported.
    pub wrk: WrkReport,
    /// Busy time of every core during the run.
    pub cpu: CpuUse,
    /// CPU (all cores; the benchmark's own when known) per completed request, microseconds.
    pub cpu_us_per_req: f64,
}

/// One UDP run with the CPU it cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UdpSample {
    /// Datagrams the generator's socket accepted.
    pub sent: u64,
    /// Datagrams counted by the sinks (both real servers).
    pub received: u64,
    /// The generator's sending time, seconds.
    pub secs: f64,
    /// Received datagrams per second.
    pub pps: f64,
    /// Sent datagrams per second.
    pub sent_pps: f64,
    /// Busy time of every core during the run.
    pub cpu: CpuUse,
    /// CPU (all cores; the benchmark's own when known) per million received datagrams, ms.
    pub cpu_ms_per_mpkt: f64,
}

/// Everything measured on one path in one repetition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathRun {
    /// The path.
    pub path: PathKind,
    /// The repetition (0-based).
    pub rep: usize,
    /// Keep-alive HTTP.
    pub keepalive: Outcome<HttpSample>,
    /// `Connection: close` HTTP (new connections per second).
    pub close: Outcome<HttpSample>,
    /// 64-byte UDP (absent for HAProxy).
    pub udp: Option<Outcome<UdpSample>>,
}

/// Sets up `path`, measures it, tears it down.
pub fn path(ctx: &mut Ctx, path: PathKind, rep: usize) -> PathRun {
    let mut run = PathRun {
        path,
        rep,
        keepalive: Err("not run".into()),
        close: Err("not run".into()),
        udp: path.carries_udp().then(|| Err("not run".into())),
    };
    let target = match ctx.lab(path) {
        Ok(info) => labs::target(info, path),
        Err(e) => {
            fail_all(&mut run, &e.to_string());
            return run;
        }
    };
    let mut balancer = match balancer::start(ctx, path) {
        Ok(b) => b,
        Err(e) => {
            fail_all(&mut run, &format!("set-up failed: {e}"));
            return run;
        }
    };
    run.keepalive = http(ctx, &target, &mut balancer, false).map_err(|e| e.to_string());
    run.close = http(ctx, &target, &mut balancer, true).map_err(|e| e.to_string());
    if path.carries_udp() {
        run.udp = Some(udp_run(ctx, &target, &mut balancer).map_err(|e| e.to_string()));
    }
    if let Err(e) = balancer.stop() {
        eprintln!("rvs bench: stopping the balancer of {}: {e}", path.name());
    }
    run
}

fn fail_all(run: &mut PathRun, why: &str) {
    run.keepalive = Err(why.to_string());
    run.close = Err(why.to_string());
    if run.udp.is_some() {
        run.udp = Some(Err(why.to_string()));
    }
}

/// One wrk run from the client, on the generator core.
fn http(ctx: &Ctx, target: &Target, balancer: &mut Balancer, close: bool) -> Result<HttpSample> {
    let url = format!("http://{}/", target.http);
    let args = wrk::args(&url, ctx.params.connections, ctx.params.http_secs, close);
    let place = Placement::at(&target.client_ns, ctx.params.gen_core);
    let timeout = Duration::from_secs(ctx.params.http_secs + 15);
    let before = cpu::snapshot(ctx.own.as_ref())?;
    let start = Instant::now();
    let out = run_bounded(&place, "wrk", &args, timeout)?;
    let wall = start.elapsed().as_secs_f64();
    let after = cpu::snapshot(ctx.own.as_ref())?;
    balancer.check_running()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::Invalid(format!(
            "wrk failed ({}): {} {}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let report = wrk::parse(&stdout)?;
    if report.requests == 0 {
        return Err(Error::Invalid(format!(
            "no request completed through {}",
            target.http
        )));
    }
    let cpu = cpu::between(&before, &after, wall);
    let cpu_us_per_req = cpu.cost_s() * 1e6 / report.requests as f64;
    Ok(HttpSample {
        wrk: report,
        cpu,
        cpu_us_per_req,
    })
}

/// Starts a sink in `netns` and waits for its `ready` line.
fn start_sink(ctx: &Ctx, netns: &str) -> Result<Spawned> {
    let args = vec![
        "sink".to_string(),
        "--netns".into(),
        netns.to_string(),
        "--bind".into(),
        format!("0.0.0.0:{}", labs::UDP_PORT),
        "--max-secs".into(),
        format!("{}", ctx.params.udp_secs + 30.0),
    ];
    let place = Placement::core(ctx.params.sut_core);
    let rvs = ctx.tools.rvs.display().to_string();
    let mut sink = Spawned::start(&place, &rvs, &args, None)?;
    let stdout = sink
        .take_stdout()
        .ok_or_else(|| Error::Invalid("the sink's stdout is not piped".into()))?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| Error::io("reading the sink's first line", e))?;
    if line.trim() != "ready" {
        return Err(Error::Invalid(format!(
            "`{}` did not start: {line:?}",
            sink.what()
        )));
    }
    Ok(sink.with_stdout(reader.into_inner()))
}

/// Sinks on both real servers, the generator on the client for the configured time.
fn udp_run(ctx: &Ctx, target: &Target, balancer: &mut Balancer) -> Result<UdpSample> {
    let mut sinks = Vec::new();
    for ns in &target.sink_ns {
        sinks.push(start_sink(ctx, ns)?);
    }
    let args = vec![
        "blast".to_string(),
        "--netns".into(),
        target.client_ns.clone(),
        "--dst".into(),
        target.udp.to_string(),
        "--size".into(),
        ctx.params.udp_size.to_string(),
        "--secs".into(),
        format!("{}", ctx.params.udp_secs),
    ];
    let place = Placement::core(ctx.params.gen_core);
    let rvs = ctx.tools.rvs.display().to_string();
    let timeout = Duration::from_secs_f64(ctx.params.udp_secs + 15.0);
    let before = cpu::snapshot(ctx.own.as_ref())?;
    let start = Instant::now();
    let out = run_bounded(&place, &rvs, &args, timeout)?;
    let wall = start.elapsed().as_secs_f64();
    let after = cpu::snapshot(ctx.own.as_ref())?;
    // Datagrams still in queues are delivered within milliseconds; then the sinks stop.
    std::thread::sleep(Duration::from_millis(300));
    let mut received = 0;
    for mut sink in sinks {
        sink.close_stdin();
        let what = sink.what().to_string();
        let text = sink.finish(Duration::from_secs(5))?;
        received += udp::parse_sink(&text)
            .ok_or_else(|| Error::Invalid(format!("`{what}` printed {text:?}")))?
            .received;
    }
    balancer.check_running()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let sent = udp::parse_blast(&stdout).ok_or_else(|| {
        Error::Invalid(format!(
            "rvs blast failed ({}): {} {}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    })?;
    if received == 0 {
        return Err(Error::Invalid(format!(
            "no datagram reached the sinks ({} sent to {})",
            sent.sent, target.udp
        )));
    }
    let secs = sent.secs.max(1e-9);
    let cpu = cpu::between(&before, &after, wall);
    let cpu_ms_per_mpkt = cpu.cost_s() * 1e3 / (received as f64 / 1e6);
    Ok(UdpSample {
        sent: sent.sent,
        received,
        secs,
        pps: received as f64 / secs,
        sent_pps: sent.sent as f64 / secs,
        cpu,
        cpu_ms_per_mpkt,
    })
}

/// rvsd's own CPU (utime + stime) over `secs` seconds with services configured and no
/// traffic, as a percentage of one core.
pub fn rvsd_idle(ctx: &mut Ctx, secs: u64) -> Result<f64> {
    let mut balancer = balancer::start(ctx, PathKind::RvsdNat)?;
    let pid = balancer
        .pid()
        .ok_or_else(|| Error::Invalid("rvsd has no PID".into()))?;
    // Let the start-up (and the readiness probe's connection) settle first.
    std::thread::sleep(Duration::from_secs(2));
    let t0 = cpu::process_seconds(pid)?;
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let t1 = cpu::process_seconds(pid)?;
    let wall = start.elapsed().as_secs_f64();
    balancer.check_running()?;
    balancer.stop()?;
    Ok((t1 - t0) / wall * 100.0)
}
