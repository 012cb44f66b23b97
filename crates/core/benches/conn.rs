//! Connection-table benchmarks: established-flow lookup + state update at 10 000 and
//! 1 000 000 live connections (random access), insert rate, and memory per connection.
//!
//! Memory is computed from the table's allocated capacities (`ConnTable::memory_bytes`:
//! entry slab + hash index + timing wheel + eviction links) and cross-checked with
//! the process RSS growth (/proc/self/statm) while building the table.
//!
//! Run: `cargo bench -p rvs-core --bench conn`
//!
//! Instruction counts (stable on a shared machine): with `RVS_CONN_COUNT=<live>,<packets>,<in|out>`
//! the binary skips criterion, builds the table and runs `packets` lookups + updates inside
//! `count_loop`, which callgrind can isolate:
//! `RVS_CONN_COUNT=1000000,200000,in valgrind --tool=callgrind --cache-sim=yes
//!  --D1=49152,12,64 --LL=2097152,16,64 --collect-atstart=no --toggle-collect='*count_loop*'
//!  <bench binary>`. Wall time per packet, robust to load: `RVS_CONN_COUNT=1000000,2000000,in,time`
//! (add `,16` to look up 16 packets before updating them).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use rvs_core::Instant;
use rvs_core::conn::{
    ConnTable, ConnTableConfig, CounterDelta, Direction, InKey, NewConn, OutKey, Segment, TcpFlags,
};
use rvs_core::model::{ForwardMethod, Protocol};

/// splitmix64: a tiny deterministic generator for keys and access order.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));

fn client(i: u64) -> (IpAddr, u16) {
    // Unique per i: 2^15 ports per address, never port 0.
    let a = 0x0A00_0000u32.wrapping_add((i >> 15) as u32);
    (IpAddr::V4(Ipv4Addr::from(a)), 1 + (i & 0x7fff) as u16)
}

fn new_conn(i: u64) -> NewConn {
    let (c, p) = client(i);
    NewConn {
        key: InKey::new(Protocol::Tcp, c, p, VIP, 80),
        daddr: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10 + (i % 8) as u8)),
        dport: 8080,
        method: ForwardMethod::Masq,
        service: 1,
        dest: (i % 8) as u32,
        control: None,
        one_packet: false,
        no_cport: false,
    }
}

/// A table of `n` established NAT connections.
fn established(n: u64) -> ConnTable {
    let mut t = ConnTable::new(ConnTableConfig {
        max_conns: n as u32,
        seed: 0x5eed,
        ..Default::default()
    });
    let now = Instant::from_secs(1);
    let mut sink = |_: CounterDelta| {};
    for i in 0..n {
        let id = t.insert(&new_conn(i), now, &mut sink).expect("room");
        let syn = Segment::Tcp(TcpFlags(TcpFlags::SYN));
        t.on_packet(id, Direction::Input, syn, now, &mut sink);
        let synack = Segment::Tcp(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        t.on_packet(id, Direction::Output, synack, now, &mut sink);
        let ack = Segment::Tcp(TcpFlags(TcpFlags::ACK));
        t.on_packet(id, Direction::Input, ack, now, &mut sink);
    }
    t
}

fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn report_memory() {
    let n = 1_000_000u64;
    let before = rss_bytes();
    let t = established(n);
    let after = rss_bytes();
    if let Some(kb) = std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("AnonHugePages:"))
                .map(String::from)
        })
    {
        println!("conn/memory: {kb} (transparent huge pages backing the heap)");
    }
    let computed = t.memory_bytes() as f64 / n as f64;
    println!("conn/memory: {n} connections: {computed:.1} bytes/conn (computed from capacities)");
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "conn/memory: RSS growth while building: {:.1} bytes/conn",
            a.saturating_sub(b) as f64 / n as f64
        );
    }
    black_box(&t);
}

fn lookup_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("conn/lookup_update");
    for n in [10_000u64, 1_000_000] {
        let mut t = established(n);
        // Keys in random order, precomputed so key building stays out of the measurement;
        // at 1M as many keys as flows, so the packets keep landing on cold flows.
        let count = (4 * n as usize).clamp(1 << 16, 1 << 20).next_power_of_two();
        let mask = count - 1;
        let (keys, out) = random_keys(&t, n, count);
        let mut i = 0usize;
        let mut now = Instant::from_secs(2);
        let ack = Segment::Tcp(TcpFlags(TcpFlags::ACK));
        let mut sink = |_: CounterDelta| {};
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("in/{n}"), |b| {
            b.iter(|| {
                let k = &keys[i & mask];
                i = i.wrapping_add(1);
                let h = t.hash_in(k);
                let id = t.lookup_in_hashed(k, h).expect("live");
                black_box(t.on_packet(id, Direction::Input, ack, now, &mut sink));
            })
        });
        g.bench_function(format!("out/{n}"), |b| {
            b.iter(|| {
                let k = &out[i & mask];
                i = i.wrapping_add(1);
                let id = t.lookup_out(k).expect("live");
                black_box(t.on_packet(id, Direction::Output, ack, now, &mut sink));
            })
        });
        now = Instant::from_secs(3);
        black_box(now);
    }
    g.finish();
}

fn insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("conn/insert");
    let n = 100_000u64;
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("100k_into_empty", |b| {
        b.iter_batched(
            || {
                ConnTable::new(ConnTableConfig {
                    max_conns: n as u32,
                    seed: 7,
                    ..Default::default()
                })
            },
            |mut t| {
                let now = Instant::from_secs(1);
                let mut sink = |_: CounterDelta| {};
                for i in 0..n {
                    t.insert(&new_conn(i), now, &mut sink).expect("room");
                }
                t
            },
            BatchSize::PerIteration,
        )
    });
    // Steady state: a full table of 10 000 where each insert evicts the oldest SYN_RECV.
    let mut t = ConnTable::new(ConnTableConfig {
        max_conns: 10_000,
        seed: 7,
        ..Default::default()
    });
    let mut i = 0u64;
    let now = Instant::from_secs(1);
    let mut sink = |_: CounterDelta| {};
    g.throughput(Throughput::Elements(1));
    g.sample_size(100);
    g.bench_function("evicting_full_10k", |b| {
        b.iter(|| {
            let id = t.insert(&new_conn(i), now, &mut sink).expect("evicts");
            let syn = Segment::Tcp(TcpFlags(TcpFlags::SYN));
            t.on_packet(id, Direction::Input, syn, now, &mut sink);
            i += 1;
        })
    });
    g.finish();
}

criterion_group!(benches, lookup_update, insert);

/// Keys of `m` random packets over `n` live connections, client and reply side.
fn random_keys(t: &ConnTable, n: u64, m: usize) -> (Vec<InKey>, Vec<OutKey>) {
    let mut rng = Rng(42);
    let keys: Vec<InKey> = (0..m)
        .map(|_| {
            let (c, p) = client(rng.next() % n);
            InKey::new(Protocol::Tcp, c, p, VIP, 80)
        })
        .collect();
    let out = keys
        .iter()
        .map(|k| {
            let c = t.get(t.lookup_in(k).unwrap()).unwrap();
            OutKey::new(
                Protocol::Tcp,
                c.dest_addr().ip(),
                c.dport(),
                c.client().ip(),
                c.cport(),
            )
        })
        .collect();
    (keys, out)
}

/// The measured loop of the counting mode (kept out of line so callgrind can isolate it).
#[inline(never)]
fn count_loop(t: &mut ConnTable, keys: &[InKey], out: &[OutKey], reply: bool) -> u64 {
    let now = Instant::from_secs(2);
    let ack = Segment::Tcp(TcpFlags(TcpFlags::ACK));
    let mut sink = |_: CounterDelta| {};
    let mut found = 0;
    for i in 0..keys.len() {
        let id = if reply {
            let k = &out[i];
            t.lookup_out_hashed(k, t.hash_out(k))
        } else {
            let k = &keys[i];
            t.lookup_in_hashed(k, t.hash_in(k))
        };
        let dir = if reply {
            Direction::Output
        } else {
            Direction::Input
        };
        if let Some(id) = id {
            black_box(t.on_packet(id, dir, ack, now, &mut sink));
            found += 1;
        }
    }
    found
}

/// [`count_loop`] in groups of `batch` packets: every lookup of a group first, then every
/// update. The lookups of a group are independent reads, so the CPU overlaps their cache
/// misses; this is what a director handling a receive batch in two passes would gain.
#[inline(never)]
fn batch_loop(t: &mut ConnTable, keys: &[InKey], out: &[OutKey], reply: bool, batch: usize) -> u64 {
    let now = Instant::from_secs(2);
    let ack = Segment::Tcp(TcpFlags(TcpFlags::ACK));
    let mut sink = |_: CounterDelta| {};
    let mut found = 0;
    let mut ids = vec![None; batch];
    for start in (0..keys.len()).step_by(batch) {
        let end = (start + batch).min(keys.len());
        for (slot, i) in ids.iter_mut().zip(start..end) {
            *slot = if reply {
                t.lookup_out_hashed(&out[i], t.hash_out(&out[i]))
            } else {
                t.lookup_in_hashed(&keys[i], t.hash_in(&keys[i]))
            };
        }
        let dir = if reply {
            Direction::Output
        } else {
            Direction::Input
        };
        for id in ids[..end - start].iter().flatten() {
            black_box(t.on_packet(*id, dir, ack, now, &mut sink));
            found += 1;
        }
    }
    found
}

/// `RVS_CONN_COUNT=<live>,<packets>,<in|out>[,time[,<batch>]]`: run only the counting loop over
/// `packets` random packets. With `time`, run them again in chunks of 10 000 and print the
/// median and fastest chunk in ns per packet: every chunk still draws its flows at random
/// from all live connections, and the median shrugs off chunks disturbed by other load on a
/// shared machine.
fn count_mode(spec: &str) {
    let mut parts = spec.split(',');
    let n: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let m: usize = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let reply = parts.next() == Some("out");
    let timed = parts.next() == Some("time");
    let batch: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut t = established(n);
    let (keys, out) = random_keys(&t, n, m);
    let found = count_loop(&mut t, &keys, &out, reply);
    println!("count: {found} of {m} packets found in {n} live connections");
    if !timed {
        return;
    }
    const CHUNK: usize = 10_000;
    let mut per_packet: Vec<f64> = (0..m / CHUNK)
        .map(|c| {
            let r = c * CHUNK..(c + 1) * CHUNK;
            let start = std::time::Instant::now();
            if batch > 1 {
                black_box(batch_loop(&mut t, &keys[r.clone()], &out[r], reply, batch));
            } else {
                black_box(count_loop(&mut t, &keys[r.clone()], &out[r], reply));
            }
            start.elapsed().as_nanos() as f64 / CHUNK as f64
        })
        .collect();
    per_packet.sort_by(f64::total_cmp);
    if let (Some(best), Some(median)) = (per_packet.first(), per_packet.get(per_packet.len() / 2)) {
        let side = if reply { "out" } else { "in" };
        println!(
            "time: {side}/{n} (batch {batch}): {} chunks of {CHUNK}: median {median:.1} ns/packet, best {best:.1}",
            per_packet.len()
        );
    }
}

fn main() {
    if let Ok(spec) = std::env::var("RVS_CONN_COUNT") {
        count_mode(&spec);
        return;
    }
    report_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
