//! Helpers for the scheduler tests, and properties every scheduler must keep.

use core::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use super::*;

/// A destination with this id and weight, idle, at 203.0.113.0 + id, port 80.
pub(crate) fn dest(id: u32, weight: i32) -> DestView {
    DestView {
        id,
        addr: IpAddr::V4(Ipv4Addr::from(0xCB00_7100 + id)),
        port: 80,
        weight,
        overloaded: false,
        active: 0,
        inactive: 0,
        persistent: 0,
    }
}

/// Destinations with these weights, ids 0, 1, 2 … in list order.
pub(crate) fn dests(weights: &[i32]) -> Vec<DestView> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| dest(i as u32, w))
        .collect()
}

/// Set a destination's active and inactive connection counts.
pub(crate) fn conns(d: &mut DestView, active: u32, inactive: u32) {
    d.active = active;
    d.inactive = inactive;
}

/// A TCP packet from `src`:`sport` to `dst`:80.
fn packet(src: &str, sport: u16, dst: &str) -> SchedInput {
    SchedInput {
        protocol: Protocol::Tcp,
        src: src.parse().expect("test address"),
        sport,
        dst: dst.parse().expect("test address"),
        dport: 80,
    }
}

/// Some new connection to the VIP.
pub(crate) fn input() -> SchedInput {
    packet("198.51.100.1", 40000, "203.0.113.200")
}

/// A new connection from `src`:`sport` to the VIP.
pub(crate) fn input_src(src: &str, sport: u16) -> SchedInput {
    packet(src, sport, "203.0.113.200")
}

/// A new connection from `src` to the address `dst`.
pub(crate) fn input_from_to(src: &str, dst: &str) -> SchedInput {
    packet(src, 40000, dst)
}

/// The picks of `n` new connections (no destination: nothing recorded).
pub(crate) fn run(s: &mut dyn Scheduler, d: &[DestView], n: usize) -> Vec<usize> {
    (0..n)
        .filter_map(|k| s.schedule(d, &input(), Instant(k as u64)))
        .collect()
}

#[test]
fn new_knows_all_fourteen_names() {
    for name in NAMES {
        let s = new(name, SchedFlags::default(), 0).expect(name);
        assert_eq!(s.name(), name);
    }
    assert_eq!(
        new("wrrr", SchedFlags::default(), 0).unwrap_err(),
        SchedError::Unknown("wrrr".into())
    );
    assert_eq!(
        new("wrrr", SchedFlags::default(), 0)
            .unwrap_err()
            .to_string(),
        "unknown scheduler \"wrrr\""
    );
}

#[test]
fn every_scheduler_handles_an_empty_service() {
    for name in NAMES {
        let mut s = new(name, SchedFlags(SchedFlags::SCHED1), 0).expect(name);
        s.update(&[]);
        assert_eq!(s.schedule(&[], &input(), Instant(0)), None, "{name}");
    }
}

/// A destination list with random weights, flags and counters.
fn arb_dests() -> impl Strategy<Value = Vec<DestView>> {
    prop::collection::vec(
        (0..6i32, prop::bool::weighted(0.2), 0..40u32, 0..300u32),
        0..24,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (w, over, a, ina))| DestView {
                overloaded: over,
                active: a,
                inactive: ina,
                ..dest(i as u32 * 3 + 1, w)
            })
            .collect()
    })
}

fn arb_input() -> impl Strategy<Value = SchedInput> {
    (any::<u32>(), any::<u16>(), 0..4u8).prop_map(|(src, sport, dst)| SchedInput {
        protocol: Protocol::Udp,
        src: IpAddr::V4(Ipv4Addr::from(src)),
        sport,
        dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 200 + dst)),
        dport: 53,
    })
}

/// Exact `overhead / weight` order without division.
fn ratio_lt(a: (u64, i32), b: (u64, i32)) -> bool {
    u128::from(a.0) * (b.1 as u128) < u128::from(b.0) * (a.1 as u128)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_an_unusable_destination(
        d in arb_dests(),
        inputs in prop::collection::vec(arb_input(), 1..12),
        flags in 0..4u32,
        seed in any::<u64>(),
    ) {
        let flags = SchedFlags((flags & 1) * SchedFlags::SCHED1 + (flags >> 1) * SchedFlags::SCHED2);
        let usable = d.iter().any(DestView::usable);
        for name in NAMES {
            let mut s = new(name, flags, seed).unwrap();
            s.update(&d);
            for (k, inp) in inputs.iter().enumerate() {
                let got = s.schedule(&d, inp, Instant(k as u64 * 7_000_000));
                if let Some(i) = got {
                    prop_assert!(i < d.len(), "{name}: index {i} out of range");
                    prop_assert!(d[i].usable(), "{name}: picked {:?}", d[i]);
                }
                // The load-based schedulers always find a usable destination if one exists.
                if usable && ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "twos", "lblc", "lblcr"].contains(&name) {
                    prop_assert!(got.is_some(), "{name}: none though one is usable");
                }
            }
        }
    }

    #[test]
    fn wrr_cycle_gives_each_destination_its_weight(
        weights in prop::collection::vec(0..12i32, 1..10),
        scale in 1..4i32,
    ) {
        let weights: Vec<i32> = weights.iter().map(|w| w * scale).collect();
        prop_assume!(weights.iter().any(|&w| w > 0));
        let g = weights.iter().filter(|&&w| w > 0).fold(0, |g, &w| if g > 0 { gcd(g, w) } else { w });
        let d = dests(&weights);
        let mut s = WeightedRoundRobin::new();
        s.update(&d);
        let period = weights.iter().sum::<i32>() / g;
        for _ in 0..2 {
            let mut count = vec![0; d.len()];
            for i in run(&mut s, &d, period as usize) {
                count[i] += 1;
            }
            let want: Vec<i32> = weights.iter().map(|w| w / g).collect();
            prop_assert_eq!(count, want);
        }
    }

    #[test]
    fn least_connection_family_picks_the_first_minimum(d in arb_dests()) {
        type Cost = fn(&DestView) -> (u64, i32);
        let cases: [(&str, Cost); 3] = [
            ("lc", |x| (x.overhead(), 1)),
            ("wlc", |x| (x.overhead(), x.weight)),
            ("sed", |x| (u64::from(x.active) + 1, x.weight)),
        ];
        for (name, cost) in cases {
            let mut s = new(name, SchedFlags::default(), 0).unwrap();
            s.update(&d);
            let got = s.schedule(&d, &input(), Instant(0));
            let mut want: Option<usize> = None;
            for (i, x) in d.iter().enumerate() {
                if x.usable() && want.is_none_or(|b| ratio_lt(cost(x), cost(&d[b]))) {
                    want = Some(i);
                }
            }
            prop_assert_eq!(got, want, "{}", name);
        }
        let idle = d.iter().position(|x| x.usable() && x.active == 0);
        let got = new("nq", SchedFlags::default(), 0).unwrap().schedule(&d, &input(), Instant(0));
        if idle.is_some() {
            prop_assert_eq!(got, idle);
        } else {
            let sed = new("sed", SchedFlags::default(), 0).unwrap().schedule(&d, &input(), Instant(0));
            prop_assert_eq!(got, sed);
        }
    }

    #[test]
    fn rr_visits_every_usable_destination_once_per_round(d in arb_dests()) {
        let mut s = RoundRobin::new();
        s.update(&d);
        let usable: Vec<usize> = (0..d.len()).filter(|&i| d[i].usable()).collect();
        prop_assert_eq!(run(&mut s, &d, usable.len()), usable.clone());
        prop_assert_eq!(run(&mut s, &d, usable.len()), usable);
    }

    #[test]
    fn twos_is_reproducible_for_a_seed(d in arb_dests(), seed in any::<u64>()) {
        let mut a = new("twos", SchedFlags::default(), seed).unwrap();
        let mut b = new("twos", SchedFlags::default(), seed).unwrap();
        a.update(&d);
        b.update(&d);
        prop_assert_eq!(run(a.as_mut(), &d, 20), run(b.as_mut(), &d, 20));
    }
}
