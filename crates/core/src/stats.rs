//! Counters merged per service, per destination and per drop reason; the 2-second rate estimator.
//!
//! Each worker keeps its own [`Stats`] per service, per destination and globally; readers
//! merge the per-worker [`StatsReading`]s ([`StatsReading::merge`]) and only then round the
//! rates ([`StatsReading::rates`]), so N workers report what one would.
//!
//! The estimator is IPVS's (`ip_vs_est.c`, reference §3.12): every 2 s the deltas of
//! conns/inpkts/outpkts are scaled by 2^9 (per second × 2^10) and of the byte counters by
//! 2^4 (per second × 2^5), then folded into an average with weight 1/4; reports round with
//! `(avg + 0x1FF) >> 10` and `(avg + 0xF) >> 5`.
//!
//! `-Z` does not reset the raw counters: it records the current values as the zero point and
//! restarts the estimator (reported = raw − zero point).

use crate::Instant;
use crate::model::{Counters, Rates};
use crate::verdict::DropReason;

/// Interval of the rate estimator, in milliseconds.
pub const ESTIMATOR_INTERVAL_MS: u64 = 2000;

/// The estimator's running averages (scaled as IPVS keeps them): cps, inpps, outpps (× 2^10),
/// inbps, outbps (× 2^5). Sums of these from several workers are meaningful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateAverages(pub [i64; 5]);

impl RateAverages {
    /// Add another worker's averages.
    pub fn merge(&mut self, other: &RateAverages) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }

    /// The rates as IPVS reports them (rounded).
    pub fn rates(&self) -> Rates {
        let r = |v: i64, add: i64, shift: u32| (v.max(0).saturating_add(add) >> shift) as u64;
        Rates {
            cps: r(self.0[0], 0x1FF, 10),
            inpps: r(self.0[1], 0x1FF, 10),
            outpps: r(self.0[2], 0x1FF, 10),
            inbps: r(self.0[3], 0xF, 5),
            outbps: r(self.0[4], 0xF, 5),
        }
    }
}

/// IPVS's 2-second estimator over one set of counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimator {
    last: Counters,
    avg: RateAverages,
}

impl Estimator {
    /// Fold in one 2-second sample taken from the raw counters `now`.
    pub fn sample(&mut self, now: &Counters) {
        let delta = |cur: u64, last: u64| cur.wrapping_sub(last) as i64;
        let deltas = [
            (delta(now.conns, self.last.conns), 9),
            (delta(now.inpkts, self.last.inpkts), 9),
            (delta(now.outpkts, self.last.outpkts), 9),
            (delta(now.inbytes, self.last.inbytes), 4),
            (delta(now.outbytes, self.last.outbytes), 4),
        ];
        for (avg, (d, shift)) in self.avg.0.iter_mut().zip(deltas) {
            let rate = d.saturating_mul(1 << shift);
            *avg += (rate - *avg) >> 2;
        }
        self.last = *now;
    }

    /// Restart from the raw counters `now` with zero rates (`-Z`).
    pub fn reset(&mut self, now: &Counters) {
        self.last = *now;
        self.avg = RateAverages::default();
    }

    /// The running averages.
    pub fn averages(&self) -> RateAverages {
        self.avg
    }
}

/// One worker's counters for a service, a destination or the whole director.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Raw counters (never reset).
    pub raw: Counters,
    zero: Counters,
    est: Estimator,
    zero_epoch: u64,
}

impl Stats {
    /// Fresh counters whose zero epoch is `epoch` (the snapshot's epoch when created).
    pub fn with_epoch(epoch: u64) -> Self {
        Stats {
            zero_epoch: epoch,
            ..Stats::default()
        }
    }

    /// Count one packet of `bytes` IP bytes client → server.
    #[inline]
    pub fn count_in(&mut self, bytes: u64) {
        self.raw.inpkts += 1;
        self.raw.inbytes += bytes;
    }

    /// Count one packet of `bytes` IP bytes server → client.
    #[inline]
    pub fn count_out(&mut self, bytes: u64) {
        self.raw.outpkts += 1;
        self.raw.outbytes += bytes;
    }

    /// Count one scheduled connection.
    #[inline]
    pub fn count_conn(&mut self) {
        self.raw.conns += 1;
    }

    /// Counters since the last zero point.
    pub fn counters(&self) -> Counters {
        let s = |a: u64, b: u64| a.wrapping_sub(b);
        Counters {
            conns: s(self.raw.conns, self.zero.conns),
            inpkts: s(self.raw.inpkts, self.zero.inpkts),
            outpkts: s(self.raw.outpkts, self.zero.outpkts),
            inbytes: s(self.raw.inbytes, self.zero.inbytes),
            outbytes: s(self.raw.outbytes, self.zero.outbytes),
        }
    }

    /// Take a zero point (`-Z`) if `epoch` differs from the last one seen.
    pub fn apply_zero_epoch(&mut self, epoch: u64) {
        if epoch != self.zero_epoch {
            self.zero_epoch = epoch;
            self.zero = self.raw;
            self.est.reset(&self.raw);
        }
    }

    /// One estimator step (every 2 s).
    pub fn estimate(&mut self) {
        self.est.sample(&self.raw);
    }

    /// What readers merge across workers.
    pub fn reading(&self) -> StatsReading {
        StatsReading {
            counters: self.counters(),
            averages: self.est.averages(),
        }
    }
}

/// Counters and rate averages of one worker, to be merged with the other workers'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsReading {
    /// Counters since the zero point.
    pub counters: Counters,
    /// The estimator's running averages.
    pub averages: RateAverages,
}

impl StatsReading {
    /// Add another worker's reading.
    pub fn merge(&mut self, other: &StatsReading) {
        self.counters.merge(&other.counters);
        self.averages.merge(&other.averages);
    }

    /// Rates as IPVS reports them (rounded after merging).
    pub fn rates(&self) -> Rates {
        self.averages.rates()
    }
}

/// Every drop reason, in a fixed order (the index of [`DropCounters`]).
pub const DROP_REASONS: [DropReason; 15] = [
    DropReason::Malformed,
    DropReason::BadChecksum,
    DropReason::UnsupportedProtocol,
    DropReason::Fragment,
    DropReason::TtlExceeded,
    DropReason::NoService,
    DropReason::NoDestination,
    DropReason::NoConnection,
    DropReason::DestinationGone,
    DropReason::TooBig,
    DropReason::TableFull,
    DropReason::NoHeadroom,
    DropReason::IcmpUnrelated,
    DropReason::NoSourceAddress,
    DropReason::IcmpConsumed,
];

/// The index of a drop reason in [`DROP_REASONS`].
pub const fn drop_index(r: DropReason) -> usize {
    match r {
        DropReason::Malformed => 0,
        DropReason::BadChecksum => 1,
        DropReason::UnsupportedProtocol => 2,
        DropReason::Fragment => 3,
        DropReason::TtlExceeded => 4,
        DropReason::NoService => 5,
        DropReason::NoDestination => 6,
        DropReason::NoConnection => 7,
        DropReason::DestinationGone => 8,
        DropReason::TooBig => 9,
        DropReason::TableFull => 10,
        DropReason::NoHeadroom => 11,
        DropReason::IcmpUnrelated => 12,
        DropReason::NoSourceAddress => 13,
        DropReason::IcmpConsumed => 14,
    }
}

/// Drops counted per reason (one worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DropCounters([u64; DROP_REASONS.len()]);

impl DropCounters {
    /// Count one drop.
    #[inline]
    pub fn count(&mut self, r: DropReason) {
        self.0[drop_index(r)] += 1;
    }

    /// Drops counted for `r`.
    pub fn get(&self, r: DropReason) -> u64 {
        self.0[drop_index(r)]
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// (reason, count) for every reason.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DROP_REASONS.iter().map(|&r| (r, self.get(r)))
    }

    /// Add another worker's drops.
    pub fn merge(&mut self, other: &DropCounters) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// When the next estimator step is due, and catching up after a late tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EstimatorClock {
    next: Option<Instant>,
}

impl EstimatorClock {
    /// How many 2-second steps are due at `now` (the first call only starts the clock).
    /// After a long pause at most one step is taken: the deltas then cover the whole pause.
    pub fn due(&mut self, now: Instant) -> u32 {
        let Some(next) = self.next else {
            self.next = Some(Instant(now.0 + ESTIMATOR_INTERVAL_MS));
            return 0;
        };
        if now < next {
            return 0;
        }
        let missed = (now.0 - next.0) / ESTIMATOR_INTERVAL_MS;
        if missed > 8 {
            self.next = Some(Instant(now.0 + ESTIMATOR_INTERVAL_MS));
            1
        } else {
            self.next = Some(Instant(next.0 + (missed + 1) * ESTIMATOR_INTERVAL_MS));
            missed as u32 + 1
        }
    }
}

#[cfg(test)]
#[path = "stats/tests.rs"]
mod tests;
