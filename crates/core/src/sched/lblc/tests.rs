//! Tests of lblc: locality, the 2× overload rule, expiry and the table limit.

use super::*;
use crate::sched::tests::{conns, dests, input_from_to};

const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;

fn to(dst: &str) -> SchedInput {
    input_from_to("198.51.100.1", dst)
}

fn setup(weights: &[i32]) -> (Vec<DestView>, LocalityLeastConnection) {
    let d = dests(weights);
    let mut s = LocalityLeastConnection::new(1);
    s.update(&d);
    (d, s)
}

#[test]
fn a_cached_server_is_kept_while_not_overloaded() {
    let (mut d, mut s) = setup(&[10, 10]);
    conns(&mut d[0], 1, 0);
    assert_eq!(s.schedule(&d, &to("203.0.113.80"), Instant(0)), Some(1));
    // Now server 1 is busier, but the address sticks to it.
    conns(&mut d[1], 5, 0);
    assert_eq!(s.schedule(&d, &to("203.0.113.80"), Instant(1)), Some(1));
    // Another address goes by wlc.
    assert_eq!(s.schedule(&d, &to("203.0.113.81"), Instant(2)), Some(0));
    assert_eq!(s.cached(), 2);
}

#[test]
fn the_two_times_weight_rule_moves_an_address() {
    let (mut d, mut s) = setup(&[4, 4]);
    assert_eq!(s.schedule(&d, &to("203.0.113.80"), Instant(0)), Some(0));
    // Active above weight but nobody below half of its weight: still kept.
    conns(&mut d[0], 5, 0);
    conns(&mut d[1], 2, 0);
    assert_eq!(s.schedule(&d, &to("203.0.113.80"), Instant(1)), Some(0));
    // Server 1 drops below half its weight (1 * 2 < 4): the entry moves to it.
    conns(&mut d[1], 1, 0);
    assert_eq!(s.schedule(&d, &to("203.0.113.80"), Instant(2)), Some(1));
    assert_eq!(
        s.cached_dest(&"203.0.113.80".parse().unwrap()),
        Some(d[1].id)
    );
}

#[test]
fn quiesced_overloaded_or_deleted_servers_are_replaced() {
    let (mut d, mut s) = setup(&[1, 1, 1]);
    let inp = to("203.0.113.80");
    assert_eq!(s.schedule(&d, &inp, Instant(0)), Some(0));
    d[0].weight = 0;
    s.update(&d);
    assert_eq!(s.schedule(&d, &inp, Instant(1)), Some(1));
    d[1].overloaded = true;
    assert_eq!(s.schedule(&d, &inp, Instant(2)), Some(2));
    let gone = d[2].id;
    let d2: Vec<_> = d.iter().copied().filter(|x| x.id != gone).collect();
    s.update(&d2);
    assert_eq!(
        s.schedule(&d2, &inp, Instant(3)),
        None,
        "0 quiesced, 1 overloaded"
    );
    assert_eq!(s.cached_dest(&inp.dst), Some(gone), "kept until replaced");
}

#[test]
fn entries_expire_at_the_first_full_sweep_after_the_expiration() {
    let (d, mut s) = setup(&[1, 1]);
    let a = to("203.0.113.80");
    let b = to("203.0.113.81");
    s.schedule(&d, &a, Instant(0)); // arms the collector: ticks every minute from 0
    // Full sweeps run at 30, 60, ... minutes. A last used at 0 is 24 h idle at 1440 min.
    s.schedule(&d, &b, Instant(24 * HOUR - 1));
    assert_eq!(s.cached(), 2);
    s.schedule(&d, &b, Instant(24 * HOUR));
    assert_eq!(s.cached_dest(&a.dst), None);
    assert_eq!(s.cached(), 1);
}

#[test]
fn a_use_refreshes_the_entry_and_expiration_is_configurable() {
    let d = dests(&[1, 1]);
    let mut s = LocalityLeastConnection::with_expiration(1, core::time::Duration::from_secs(600));
    s.update(&d);
    let a = to("203.0.113.80");
    let b = to("203.0.113.81");
    s.schedule(&d, &a, Instant(0));
    s.schedule(&d, &a, Instant(25 * MIN)); // refresh: idle only 5 min at the 30 min sweep
    s.schedule(&d, &b, Instant(30 * MIN));
    assert!(s.cached_dest(&a.dst).is_some());
    s.schedule(&d, &b, Instant(60 * MIN));
    assert_eq!(s.cached_dest(&a.dst), None);
}

#[test]
fn the_table_refuses_new_entries_above_the_limit() {
    let (d, mut s) = setup(&[1, 1]);
    for k in 0..=MAX_ENTRIES as u32 + 5 {
        let inp = input_from_to(
            "198.51.100.1",
            &core::net::Ipv4Addr::from(0x0a00_0000 + k).to_string(),
        );
        assert!(
            s.schedule(&d, &inp, Instant(0)).is_some(),
            "still scheduled without an entry"
        );
    }
    assert_eq!(s.cached(), MAX_ENTRIES + 1);
}
