//! Start, control and stop the data plane: steering program, netlink monitor, workers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fastpath::flows::FastPath;
use crate::hold::HoldQueue;
use crate::monitor::{Monitor, NetState};
use crate::netlink::LocalAddress;
use crate::nexthop::NextHopCache;
use crate::processor::PacketProcessor;
use crate::stats::{SharedStats, WorkerStats};
use crate::steer::{Attachment, MAX_QUEUES, SteerEntry, SteerStats, Steering, XdpMode};
use crate::sys::{EventFd, if_index};
use crate::worker::{Job, LoopParams, Worker};
use crate::xsk::{BindMode, RingSizes, Umem, XskSocket};

/// Upper bound of the fast path's flow map (entries are allocated as installed).
pub const MAX_FLOW_ENTRIES: usize = 1 << 22;

/// How to run the data plane.
#[derive(Debug, Clone)]
pub struct DataplaneConfig {
    /// Interfaces to serve (slot i = interfaces[i]); the program is attached to each.
    pub interfaces: Vec<String>,
    /// Worker threads; worker N owns queue N of every interface. None: the smallest RX queue
    /// count among the interfaces (set NIC channels with `ethtool -L` to match).
    pub workers: Option<usize>,
    /// XDP attach mode.
    pub xdp_mode: XdpMode,
    /// AF_XDP bind mode.
    pub bind_mode: BindMode,
    /// Spin instead of sleeping in poll() (lower latency, one busy core per worker).
    pub busy_poll: bool,
    /// Use XDP_USE_NEED_WAKEUP (recommended; the kernel is only woken when it asks).
    pub need_wakeup: bool,
    /// Connection-table bound handed to the processor factory.
    pub max_conns: usize,
    /// Ring sizes of every socket.
    pub rings: RingSizes,
    /// Batch size: frames taken from one RX ring per loop iteration.
    pub batch_size: u32,
    /// Interval of the processor's tick (expiry); at least 100 ms.
    pub tick_interval: Duration,
    /// Forward established flows in the XDP program (see [`crate::fastpath`]).
    pub fast_path: bool,
}

impl Default for DataplaneConfig {
    fn default() -> Self {
        DataplaneConfig {
            interfaces: Vec::new(),
            workers: None,
            xdp_mode: XdpMode::Auto,
            bind_mode: BindMode::Auto,
            busy_poll: false,
            need_wakeup: true,
            max_conns: 1 << 20,
            rings: RingSizes::default(),
            batch_size: 64,
            tick_interval: Duration::from_secs(1),
            fast_path: true,
        }
    }
}

/// Counters of the whole data plane.
#[derive(Debug, Clone, Default)]
pub struct DataplaneStats {
    /// Per worker, in worker order.
    pub workers: Vec<WorkerStats>,
    /// Sum over workers.
    pub total: WorkerStats,
    /// The XDP program's counters.
    pub steer: SteerStats,
}

struct WorkerHandle<P> {
    jobs: mpsc::Sender<Job<P>>,
    wake: Arc<EventFd>,
    stats: Arc<SharedStats>,
    thread: Option<JoinHandle<()>>,
}

/// The running data plane. Dropping it (or [`Dataplane::stop`]) stops the workers and
/// detaches the XDP program from every interface.
pub struct Dataplane<P: PacketProcessor> {
    workers: Vec<WorkerHandle<P>>,
    stop: Arc<AtomicBool>,
    // Field order is drop order: workers (sockets) first, then the program, then netlink.
    steering: Arc<Mutex<Steering>>,
    monitor: Monitor,
    epoch: std::time::Instant,
    queues: usize,
}

impl<P: PacketProcessor> std::fmt::Debug for Dataplane<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataplane")
            .field("workers", &self.workers.len())
            .finish()
    }
}

/// Number of RX queues of `iface` (/sys/class/net/IF/queues/rx-*), at least 1.
pub fn rx_queue_count(iface: &str) -> usize {
    std::fs::read_dir(format!("/sys/class/net/{iface}/queues"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
                .count()
        })
        .unwrap_or(1)
        .max(1)
}

impl<P: PacketProcessor> Dataplane<P> {
    /// Attach the steering program, open the sockets and start the workers. `factory` builds
    /// the processor of worker `n`.
    pub fn start(
        config: DataplaneConfig,
        mut factory: impl FnMut(usize, &DataplaneConfig) -> P,
    ) -> Result<Self> {
        if config.interfaces.is_empty() {
            return Err(Error::Config("no interfaces".into()));
        }
        if config.tick_interval < Duration::from_millis(100) {
            return Err(Error::Config("tick interval below 100 ms".into()));
        }
        if config.batch_size == 0 {
            return Err(Error::Config("batch size 0".into()));
        }
        let min_queues = config
            .interfaces
            .iter()
            .map(|i| rx_queue_count(i))
            .min()
            .unwrap_or(1);
        let workers = config.workers.unwrap_or(min_queues);
        if workers == 0 || workers > min_queues || workers > MAX_QUEUES {
            return Err(Error::Config(format!(
                "{workers} workers for interfaces with {min_queues} queues (max {MAX_QUEUES})"
            )));
        }
        for iface in &config.interfaces {
            if rx_queue_count(iface) > workers {
                tracing::warn!(
                    iface,
                    workers,
                    "interface has more queues than workers; traffic on the other queues stays with the kernel"
                );
            }
        }
        let ifindexes: Vec<u32> = config
            .interfaces
            .iter()
            .map(|i| if_index(i))
            .collect::<Result<_>>()?;
        let managed: HashMap<u32, usize> =
            ifindexes.iter().enumerate().map(|(s, i)| (*i, s)).collect();

        // Two entries per connection (NAT: both directions), bounded by the table caps.
        let flow_entries = config
            .max_conns
            .saturating_mul(2)
            .saturating_mul(workers)
            .clamp(1, MAX_FLOW_ENTRIES);
        let steering = Arc::new(Mutex::new(Steering::attach_with(
            &config.interfaces,
            config.xdp_mode,
            flow_entries as u32,
        )?));
        let (flow_map_id, xmit_drops_id) = {
            let st = steering.lock().unwrap_or_else(|p| p.into_inner());
            (st.flow_map_id()?, st.xmit_drops_map_id())
        };
        let hook_steering = steering.clone();
        let monitor = Monitor::start(Box::new(move |locals: &[LocalAddress]| {
            let addrs: Vec<IpAddr> = locals.iter().map(|l| l.addr).collect();
            if let Ok(mut s) = hook_steering.lock()
                && let Err(e) = s.set_local_addresses(&addrs)
            {
                tracing::warn!(error = %e, "updating the local-address map");
            }
        }))?;

        let epoch = std::time::Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let params = LoopParams {
            batch: config.batch_size,
            tick: config.tick_interval,
            busy_poll: config.busy_poll,
        };
        let mut dp = Dataplane {
            workers: Vec::new(),
            stop: stop.clone(),
            steering,
            monitor,
            epoch,
            queues: workers,
        };
        for n in 0..workers {
            let frames_per_socket = config.rings.fill + config.rings.tx;
            let mut umem = Umem::new(frames_per_socket * ifindexes.len() as u32)?;
            let mut sockets: Vec<XskSocket> = Vec::new();
            for &ifindex in &ifindexes {
                let mut s = XskSocket::open(
                    &umem,
                    sockets.first(),
                    ifindex,
                    n as u32,
                    config.rings,
                    config.bind_mode,
                    config.need_wakeup,
                )?;
                if config.busy_poll {
                    s.enable_busy_poll(config.batch_size);
                }
                // Frames go on the fill ring before the socket enters the XSKMAP: a packet
                // steered to a socket with an empty fill ring is lost, and the worker thread
                // may not run for a while on a busy machine.
                s.refill(&mut umem, u32::MAX);
                sockets.push(s);
            }
            {
                let mut st = dp.lock_steering();
                for (slot, s) in sockets.iter().enumerate() {
                    st.set_socket(slot, n as u32, s)?;
                }
            }
            let (tx, rx) = mpsc::channel();
            let wake = Arc::new(EventFd::new()?);
            let shared = Arc::new(SharedStats::default());
            let worker = Worker {
                umem,
                sockets,
                processor: factory(n, &config),
                held: HoldQueue::default(),
                cache: NextHopCache::new(
                    dp.monitor.state().clone(),
                    dp.monitor.resolver(),
                    managed.clone(),
                ),
                jobs: rx,
                wake: wake.clone(),
                stop: stop.clone(),
                shared: shared.clone(),
                epoch,
                params,
                fast: if config.fast_path {
                    Some(FastPath::open(
                        flow_map_id,
                        xmit_drops_id,
                        ifindexes.clone(),
                        flow_entries / workers,
                    )?)
                } else {
                    None
                },
            };
            let thread = std::thread::Builder::new()
                .name(format!("rvs-worker-{n}"))
                .spawn(move || worker.run())
                .map_err(|e| Error::sys("spawn(worker)", e))?;
            dp.workers.push(WorkerHandle {
                jobs: tx,
                wake,
                stats: shared,
                thread: Some(thread),
            });
        }
        Ok(dp)
    }

    fn lock_steering(&self) -> std::sync::MutexGuard<'_, Steering> {
        // A panic while holding the lock leaves the maps consistent (each update is one
        // syscall), so a poisoned lock is still usable.
        self.steering.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of workers (= queues served per interface).
    pub fn workers(&self) -> usize {
        self.queues
    }

    /// The `now` the workers hand to their processors, for the control plane's own calls.
    pub fn now(&self) -> rvs_core::Instant {
        rvs_core::Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Make the steering maps hold exactly `entries` (diffed against the maps).
    pub fn apply_steering(&self, entries: &[SteerEntry]) -> Result<(usize, usize)> {
        self.lock_steering().apply(entries)
    }

    /// Where the XDP program is attached.
    pub fn attachments(&self) -> Vec<Attachment> {
        self.lock_steering().attachments().to_vec()
    }

    /// Links, neighbours and local addresses as the data plane sees them.
    pub fn net_state(&self) -> &Arc<NetState> {
        self.monitor.state()
    }

    /// Run `f` on every worker's processor between two batches and collect the results in
    /// worker order (e.g. install a configuration snapshot, list connections). Waits at most
    /// `timeout` per worker; a worker that misses it still runs `f` later.
    pub fn query<R: Send + 'static>(
        &self,
        f: impl Fn(&mut P) -> R + Send + Sync + 'static,
        timeout: Duration,
    ) -> Result<Vec<R>> {
        let f = Arc::new(f);
        let mut answers = Vec::with_capacity(self.workers.len());
        for w in &self.workers {
            let (tx, rx) = mpsc::sync_channel(1);
            let f = f.clone();
            let job: Job<P> = Box::new(move |p: &mut P| {
                let _ = tx.send(f(p));
            });
            if w.jobs.send(job).is_ok() {
                w.wake.notify();
            }
            answers.push(rx);
        }
        let mut out = Vec::with_capacity(answers.len());
        for (n, rx) in answers.into_iter().enumerate() {
            out.push(rx.recv_timeout(timeout).map_err(|_| Error::WorkerGone(n))?);
        }
        Ok(out)
    }

    /// Counters of every worker, their sum, and the program's counters.
    pub fn stats(&self) -> DataplaneStats {
        let workers: Vec<WorkerStats> = self.workers.iter().map(|w| w.stats.read()).collect();
        let mut total = WorkerStats::default();
        for w in &workers {
            total.merge(w);
        }
        let steer = self.lock_steering().stats().unwrap_or_default();
        DataplaneStats {
            workers,
            total,
            steer,
        }
    }

    /// Stop the workers, close the sockets and detach the program.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        for w in &self.workers {
            w.wake.notify();
        }
        for w in &mut self.workers {
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
        self.workers.clear();
        self.lock_steering().detach();
    }
}

impl<P: PacketProcessor> Drop for Dataplane<P> {
    fn drop(&mut self) {
        self.shutdown();
    }
}
