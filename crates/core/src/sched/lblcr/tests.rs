//! Tests of lblcr: set growth by the 2× rule, set shrinking after the expiration, expiry.

use super::*;
use crate::sched::tests::{conns, dests, input_from_to};

const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;

fn to(dst: &str) -> SchedInput {
    input_from_to("198.51.100.1", dst)
}

fn setup(weights: &[i32]) -> (Vec<DestView>, LocalityLeastConnectionReplicated) {
    let d = dests(weights);
    let mut s = LocalityLeastConnectionReplicated::new(1);
    s.update(&d);
    (d, s)
}

#[test]
fn the_set_grows_when_its_best_member_is_overloaded() {
    let (mut d, mut s) = setup(&[4, 4, 4]);
    let a = to("203.0.113.80");
    assert_eq!(s.schedule(&d, &a, Instant(0)), Some(0));
    // Busier but not overloaded by the 2× rule (nobody is below half): stays.
    conns(&mut d[0], 3, 0);
    conns(&mut d[1], 2, 0);
    conns(&mut d[2], 2, 0);
    assert_eq!(s.schedule(&d, &a, Instant(1)), Some(0));
    // 5 > 4 active and server 2 is below half its weight: wlc adds server 2 to the set.
    conns(&mut d[0], 5, 0);
    conns(&mut d[2], 1, 0);
    assert_eq!(s.schedule(&d, &a, Instant(2)), Some(2));
    assert_eq!(s.cached_set(&a.dst), vec![d[2].id, d[0].id]);
    // Within the set the least loaded member serves; the newest wins ties.
    conns(&mut d[0], 1, 0);
    conns(&mut d[2], 1, 0);
    assert_eq!(s.schedule(&d, &a, Instant(3)), Some(2));
    conns(&mut d[0], 0, 0);
    assert_eq!(s.schedule(&d, &a, Instant(4)), Some(0));
}

#[test]
fn an_unchanged_set_sheds_its_most_loaded_member_after_the_expiration() {
    let d0 = dests(&[4, 4]);
    let mut s = LocalityLeastConnectionReplicated::with_expiration(
        1,
        core::time::Duration::from_secs(3600),
    );
    s.update(&d0);
    let a = to("203.0.113.80");
    let mut d = d0.clone();
    assert_eq!(s.schedule(&d, &a, Instant(0)), Some(0));
    conns(&mut d[0], 5, 0);
    assert_eq!(s.schedule(&d, &a, Instant(MIN)), Some(1)); // set {1, 0}, lastmod 1 min
    conns(&mut d[0], 1, 0);
    conns(&mut d[1], 3, 0);
    // Exactly the expiration after the last change: not yet (the kernel uses time_after).
    assert_eq!(s.schedule(&d, &a, Instant(HOUR + MIN)), Some(0));
    assert_eq!(s.cached_set(&a.dst).len(), 2);
    // One tick later the most loaded member (1: 3 active) leaves; the least loaded serves.
    assert_eq!(s.schedule(&d, &a, Instant(HOUR + MIN + 1)), Some(0));
    assert_eq!(s.cached_set(&a.dst), vec![d[0].id]);
}

#[test]
fn quiesced_and_deleted_members_do_not_serve() {
    let (mut d, mut s) = setup(&[1, 1]);
    let a = to("203.0.113.80");
    assert_eq!(s.schedule(&d, &a, Instant(0)), Some(0));
    d[0].weight = 0;
    s.update(&d);
    assert_eq!(s.schedule(&d, &a, Instant(1)), Some(1));
    assert_eq!(s.cached_set(&a.dst), vec![d[1].id, d[0].id]);
    let gone = d[0].id;
    let d2: Vec<_> = d.iter().copied().filter(|x| x.id != gone).collect();
    s.update(&d2);
    assert_eq!(s.cached_set(&a.dst), vec![d2[0].id]);
    let mut d3 = d2.clone();
    d3[0].overloaded = true;
    assert_eq!(s.schedule(&d3, &a, Instant(2)), None);
}

#[test]
fn entries_expire_with_the_periodic_sweep() {
    let (d, mut s) = setup(&[1, 1]);
    let a = to("203.0.113.80");
    let b = to("203.0.113.81");
    s.schedule(&d, &a, Instant(0));
    s.schedule(&d, &b, Instant(24 * HOUR - 1));
    assert_eq!(s.cached(), 2);
    s.schedule(&d, &b, Instant(24 * HOUR));
    assert!(s.cached_set(&a.dst).is_empty());
    assert_eq!(s.cached(), 1);
    // Freed members are reused.
    let before = s.table.pool.slots.len();
    s.schedule(&d, &a, Instant(24 * HOUR + 1));
    assert_eq!(s.table.pool.slots.len(), before);
}
