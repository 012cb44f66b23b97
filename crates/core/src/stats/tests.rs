use super::*;

#[test]
fn estimator_converges_to_the_rate() {
    let mut s = Stats::default();
    for _ in 0..60 {
        for _ in 0..200 {
            s.count_in(100);
        }
        for _ in 0..20 {
            s.count_conn();
        }
        s.estimate();
    }
    // 200 packets and 20 000 bytes and 20 conns every 2 s.
    let r = s.reading().rates();
    assert_eq!(r.inpps, 100);
    assert_eq!(r.inbps, 10_000);
    assert_eq!(r.cps, 10);
    assert_eq!(r.outpps, 0);
}

#[test]
fn estimator_first_step_is_a_quarter() {
    let mut e = Estimator::default();
    let c = Counters {
        conns: 8,
        inpkts: 0,
        outpkts: 0,
        inbytes: 64,
        outbytes: 0,
    };
    e.sample(&c);
    // 8 conns in 2 s = 4/s; avg = (8 << 9) / 4 = 1024 -> reported (1024 + 511) >> 10 = 1.
    assert_eq!(e.averages().0[0], 1024);
    assert_eq!(e.averages().rates().cps, 1);
    // 64 bytes: (64 << 4) / 4 = 256 -> (256 + 15) >> 5 = 8.
    assert_eq!(e.averages().rates().inbps, 8);
}

#[test]
fn zero_point_hides_old_counts_and_resets_rates() {
    let mut s = Stats::with_epoch(0);
    s.count_in(10);
    s.count_conn();
    s.estimate();
    s.apply_zero_epoch(0);
    assert_eq!(s.counters().inpkts, 1);
    s.apply_zero_epoch(1);
    assert_eq!(s.counters(), Counters::default());
    assert_eq!(s.raw.inpkts, 1);
    assert_eq!(s.reading().averages, RateAverages::default());
    s.count_out(5);
    assert_eq!(s.counters().outbytes, 5);
}

#[test]
fn merged_readings_round_after_summing() {
    let mut a = Stats::default();
    let mut b = Stats::default();
    // Each worker alone sees 1 packet per 2 s (0.5/s) and reports 1 after rounding; the
    // sum of the averages is what one worker would have seen.
    for _ in 0..50 {
        a.count_in(1);
        b.count_in(1);
        a.estimate();
        b.estimate();
    }
    let mut m = a.reading();
    m.merge(&b.reading());
    assert_eq!(m.counters.inpkts, 100);
    assert_eq!(m.rates().inpps, 1);
}

#[test]
fn drop_reasons_have_distinct_indexes() {
    let mut d = DropCounters::default();
    for (i, r) in DROP_REASONS.iter().enumerate() {
        assert_eq!(drop_index(*r), i);
        d.count(*r);
    }
    assert_eq!(d.total(), DROP_REASONS.len() as u64);
}

#[test]
fn estimator_clock_steps_every_two_seconds() {
    let mut c = EstimatorClock::default();
    assert_eq!(c.due(Instant(0)), 0);
    assert_eq!(c.due(Instant(1999)), 0);
    assert_eq!(c.due(Instant(2000)), 1);
    assert_eq!(c.due(Instant(3000)), 0);
    assert_eq!(c.due(Instant(8100)), 3);
    assert_eq!(c.due(Instant(100_000)), 1);
    assert_eq!(c.due(Instant(101_000)), 0);
}
