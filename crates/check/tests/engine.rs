//! The sans-I/O engine on a virtual clock: retries, timing bound, alpha, inhibit, quorum
//! with hysteresis, sorry server, misc_dynamic, several checkers, HTTP URLs, omega, reload.

mod common;

use std::time::Duration;

use common::{Sim, cid, vss};
use rvs_check::{NotifyKind, ProbeResult};

const OK: ProbeResult = ProbeResult::Success;
const FAIL: ProbeResult = ProbeResult::Failure;

fn tcp_vs(delay_loop: u64, ct: u64, retry: u32, dbr: u64) -> String {
    format!(
        "virtual_server 203.0.113.10 80 {{
            delay_loop {delay_loop}
            protocol TCP
            real_server 198.51.100.11 80 {{
                TCP_CHECK {{
                    connect_timeout {ct}
                    retry {retry}
                    delay_before_retry {dbr}
                }}
            }}
        }}"
    )
}

/// When the real server left the pool (seconds), if it did.
fn removal_time(s: &Sim) -> Option<f64> {
    s.pool_log
        .iter()
        .find(|(_, _, p)| p.destinations.is_empty())
        .map(|(t, _, _)| *t)
}

#[test]
fn tcp_retries_spaced_by_delay_before_retry() {
    let mut s = Sim::new(vss(&tcp_vs(10, 3, 2, 1)));
    assert_eq!(s.members(0), [("198.51.100.11:80".to_string(), 1)]);
    // Up until t=12, then every probe times out (takes connect_timeout).
    s.run(40.0, &mut |_, _, at| {
        if at < Duration::from_secs(12) {
            (OK, Duration::ZERO)
        } else {
            (FAIL, Duration::from_secs(3))
        }
    });
    assert_eq!(s.starts[&cid(0, 0, 0)], [1.0, 11.0, 21.0, 25.0, 29.0]);
    // Probe at 11 passed; 21, 25, 29 time out at 24, 28, 32 → down at 32 =
    // 11 + delay_loop + 3 × connect_timeout + 2 × delay_before_retry.
    assert_eq!(removal_time(&s), Some(32.0));
    let kinds: Vec<_> = s.notes.iter().map(|(t, n)| (*t, n.kind.clone())).collect();
    assert_eq!(
        kinds,
        [(32.0, NotifyKind::RsDown), (32.0, NotifyKind::QuorumDown)]
    );
    // While down: probed every delay_loop; one success brings it back.
    s.run(60.0, &mut |_, _, at| {
        if at >= Duration::from_secs(40) {
            (OK, Duration::ZERO)
        } else {
            (FAIL, Duration::from_secs(3))
        }
    });
    assert_eq!(s.starts[&cid(0, 0, 0)][5..], [42.0, 52.0]);
    assert_eq!(s.members(0), [("198.51.100.11:80".to_string(), 1)]);
    assert_eq!(s.pool_log.last().unwrap().0, 42.0);
}

#[test]
fn dead_server_leaves_within_the_bound() {
    // The bound: delay_loop + connect_timeout × (retry + 1), plus the
    // delay_before_retry pauses between retries.
    for (dl, ct, retry, dbr) in [(6, 2, 1, 0), (10, 3, 2, 1), (5, 1, 0, 1), (3, 5, 3, 2)] {
        let mut s = Sim::new(vss(&tcp_vs(dl, ct, retry, dbr)));
        // Dies right after the second passing probe (at 1 + dl).
        let death = Duration::from_secs(1 + dl);
        s.run(200.0, &mut |_, _, at| {
            if at <= death {
                (OK, Duration::ZERO)
            } else {
                (FAIL, Duration::from_secs(ct))
            }
        });
        let bound = (1 + dl) + dl + ct * (u64::from(retry) + 1) + dbr * u64::from(retry);
        assert_eq!(
            removal_time(&s),
            Some(bound as f64),
            "dl={dl} ct={ct} retry={retry}"
        );
    }
}

#[test]
fn refused_connections_count_as_failures_without_waiting() {
    let mut s = Sim::new(vss(&tcp_vs(10, 3, 1, 2)));
    s.run(30.0, &mut |_, _, at| {
        (
            if at < Duration::from_secs(5) {
                OK
            } else {
                FAIL
            },
            Duration::ZERO,
        )
    });
    // 11 refused → retry at 13 refused → down at 13.
    assert_eq!(removal_time(&s), Some(13.0));
}

#[test]
fn alpha_starts_down_until_first_success() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.11 80 {
            notify_up \"/bin/echo up\"
            TCP_CHECK { alpha
                retry 0 }
        }
        real_server 198.51.100.12 80 {
            notify_down \"/bin/echo down\"
            TCP_CHECK { alpha
                retry 0 }
        }
    }";
    let mut s = Sim::new(vss(conf));
    assert!(s.members(0).is_empty());
    // Sorry-less VS with no alive RS: quorum starts down, silently.
    assert!(s.notes.is_empty());
    s.run(5.0, &mut |id, _, _| {
        (if id.rs == 0 { OK } else { FAIL }, Duration::ZERO)
    });
    assert_eq!(s.members(0), [("198.51.100.11:80".to_string(), 1)]);
    let got: Vec<_> = s
        .notes
        .iter()
        .map(|(_, n)| {
            (
                n.kind.clone(),
                n.rs,
                n.script.as_ref().map(|x| x.command.clone()),
            )
        })
        .collect();
    assert!(got.contains(&(NotifyKind::RsUp, Some(0), Some("/bin/echo up".into()))));
    // keepalived announces an alpha checker's first failure as a down notification.
    assert!(got.contains(&(NotifyKind::RsDown, Some(1), Some("/bin/echo down".into()))));
    assert!(got.contains(&(NotifyKind::QuorumUp, None, None)));
}

#[test]
fn inhibit_on_failure_keeps_weight_zero() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        inhibit_on_failure
        real_server 198.51.100.11 80 { weight 3
            TCP_CHECK { retry 0 } }
        real_server 198.51.100.12 80 { weight 2
            TCP_CHECK { retry 0 } }
    }";
    let mut s = Sim::new(vss(conf));
    s.run(15.0, &mut |id, _, at| {
        (
            if id.rs == 1 && at > Duration::from_secs(5) {
                FAIL
            } else {
                OK
            },
            Duration::ZERO,
        )
    });
    assert_eq!(
        s.members(0),
        [
            ("198.51.100.11:80".to_string(), 3),
            ("198.51.100.12:80".to_string(), 0)
        ]
    );
    s.run(25.0, &mut |_, _, _| (OK, Duration::ZERO));
    assert_eq!(s.members(0)[1], ("198.51.100.12:80".to_string(), 2));
}

fn three_rs(extra: &str) -> String {
    format!(
        "virtual_server 203.0.113.10 80 {{
            delay_loop 10
            protocol TCP
            {extra}
            real_server 198.51.100.11 80 {{ TCP_CHECK {{ retry 0 }} }}
            real_server 198.51.100.12 80 {{ TCP_CHECK {{ retry 0 }} }}
            real_server 198.51.100.13 80 {{ TCP_CHECK {{ retry 0 }} }}
        }}"
    )
}

#[test]
fn quorum_with_hysteresis() {
    let conf = three_rs(
        "quorum 2\n hysteresis 1\n quorum_up \"/bin/echo qu\"\n quorum_down \"/bin/echo qd\"",
    );
    let mut s = Sim::new(vss(&conf));
    // RS i is down from 11 + 10 i until 41 + 10 i.
    s.run(70.0, &mut |id, _, at| {
        let t = at.as_secs();
        let down_from = 11 + 10 * id.rs as u64;
        (
            if t >= down_from && t < down_from + 30 {
                FAIL
            } else {
                OK
            },
            Duration::ZERO,
        )
    });
    let q: Vec<_> = s
        .notes
        .iter()
        .filter(|(_, n)| n.rs.is_none())
        .map(|(t, n)| {
            (
                *t,
                n.kind.clone(),
                n.script.as_ref().map(|x| x.command.clone()),
            )
        })
        .collect();
    // Up needs 2+1 = 3, down comes below 2-1 = 1 (or at 0).
    assert_eq!(
        q,
        [
            (31.0, NotifyKind::QuorumDown, Some("/bin/echo qd".into())),
            (61.0, NotifyKind::QuorumUp, Some("/bin/echo qu".into()))
        ]
    );
}

#[test]
fn sorry_server_replaces_pool_when_quorum_lost() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        quorum 2
        sorry_server 203.0.113.99 8080
        real_server 198.51.100.11 80 { TCP_CHECK { retry 0 } }
        real_server 198.51.100.12 80 { TCP_CHECK { retry 0 } }
    }";
    let mut s = Sim::new(vss(conf));
    assert_eq!(s.members(0).len(), 2);
    s.run(15.0, &mut |id, _, at| {
        (
            if id.rs == 0 && at > Duration::from_secs(5) {
                FAIL
            } else {
                OK
            },
            Duration::ZERO,
        )
    });
    // One left (weight 1 < quorum 2): everything out, sorry server in.
    assert_eq!(s.members(0), [("203.0.113.99:8080".to_string(), 1)]);
    assert!(s.pools[&0].destinations[0].sorry);
    s.run(25.0, &mut |_, _, _| (OK, Duration::ZERO));
    assert_eq!(
        s.members(0),
        [
            ("198.51.100.11:80".to_string(), 1),
            ("198.51.100.12:80".to_string(), 1)
        ]
    );
}

#[test]
fn sorry_server_inhibit_keeps_it_at_weight_zero_and_starts_with_it_when_all_alpha() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        sorry_server 203.0.113.99 0
        sorry_server_inhibit
        real_server 198.51.100.11 80 { TCP_CHECK { retry 0 } }
    }";
    let s = Sim::new(vss(conf));
    assert_eq!(
        s.members(0),
        [
            ("198.51.100.11:80".to_string(), 1),
            ("203.0.113.99:80".to_string(), 0)
        ]
    );
    let alpha = conf.replace("retry 0", "retry 0\n alpha");
    let s = Sim::new(vss(&alpha));
    // Starting with quorum down and a sorry server: it is used at once, quorum_down runs.
    assert_eq!(s.members(0), [("203.0.113.99:80".to_string(), 1)]);
    assert_eq!(s.notes.len(), 1);
    assert_eq!(s.notes[0].1.kind, NotifyKind::QuorumDown);
}

#[test]
fn misc_dynamic_weights_and_exit_codes() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.11 80 {
            weight 10
            MISC_CHECK { misc_path \"/bin/true\"
                misc_dynamic }
        }
    }";
    let mut s = Sim::new(vss(conf));
    let codes = [7u8, 0, 1, 4, 255];
    // Each run takes 2 s; the next starts delay_loop after the previous start.
    s.run(50.0, &mut |_, _, at| {
        let i = ((at.as_secs() - 1) / 10) as usize;
        (ProbeResult::Exited(codes[i.min(4)]), Duration::from_secs(2))
    });
    assert_eq!(s.starts[&cid(0, 0, 0)], [1.0, 11.0, 21.0, 31.0, 41.0]);
    let w: Vec<_> = s
        .pool_log
        .iter()
        .map(|(t, _, p)| (*t, p.destinations.first().map(|d| d.weight)))
        .collect();
    assert_eq!(
        w,
        [
            (0.0, Some(10)),
            (3.0, Some(5)),   // exit 7 → weight 5
            (13.0, Some(10)), // exit 0 → configured weight
            (23.0, None),     // exit 1 → down (MISC retry default 0)
            (33.0, Some(2)),  // exit 4 → up, weight 2
            (43.0, Some(253)),
        ]
    );
}

#[test]
fn misc_without_dynamic_treats_2_as_failure_and_kill_as_failure() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.11 80 { MISC_CHECK { misc_path \"/bin/true\" } }
    }";
    let mut s = Sim::new(vss(conf));
    s.run(5.0, &mut |_, _, _| (ProbeResult::Exited(2), Duration::ZERO));
    assert!(s.members(0).is_empty());
    s.run(15.0, &mut |_, _, _| {
        (ProbeResult::Exited(0), Duration::ZERO)
    });
    assert_eq!(s.members(0).len(), 1);
    s.run(25.0, &mut |_, _, _| (ProbeResult::Killed, Duration::ZERO));
    assert!(s.members(0).is_empty());
}

#[test]
fn all_checkers_must_pass() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.11 80 {
            TCP_CHECK { retry 0 }
            TCP_CHECK { retry 0
                connect_port 8080 }
        }
    }";
    let mut s = Sim::new(vss(conf));
    // checker 0 down [11, 31), checker 1 down [21, 41).
    s.run(50.0, &mut |id, _, at| {
        let t = at.as_secs();
        let from = 11 + 10 * id.checker as u64;
        (
            if t >= from && t < from + 20 { FAIL } else { OK },
            Duration::ZERO,
        )
    });
    let w: Vec<_> = s
        .pool_log
        .iter()
        .map(|(t, _, p)| (*t, p.destinations.len()))
        .collect();
    assert_eq!(w, [(0.0, 1), (11.0, 0), (41.0, 1)]);
}

#[test]
fn http_urls_checked_in_turn_and_all_must_pass() {
    let conf = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.11 80 {
            HTTP_GET {
                url { path /a }
                url { path /b }
                connect_timeout 2
                retry 1
            }
        }
    }";
    let mut s = Sim::new(vss(conf));
    let mut steps = Vec::new();
    s.run(70.0, &mut |_, step, at| {
        steps.push((at.as_secs(), step));
        let t = at.as_secs();
        if step == 1 && (25..45).contains(&t) {
            (FAIL, Duration::from_secs(2))
        } else {
            (OK, Duration::ZERO)
        }
    });
    assert_eq!(
        steps,
        [
            (1, 0),
            (11, 1),
            (21, 0),
            (31, 1),
            (36, 1),
            (48, 1),
            (58, 0),
            (68, 1)
        ]
    );
    let w: Vec<_> = s
        .pool_log
        .iter()
        .map(|(t, _, p)| (*t, p.destinations.len()))
        .collect();
    assert_eq!(w, [(0.0, 1), (38.0, 0), (68.0, 1)]);
}

#[test]
fn dns_check_retries_three_times_delay_loop_apart() {
    let conf = "virtual_server 203.0.113.10 53 {
        delay_loop 10
        protocol UDP
        real_server 198.51.100.11 53 { DNS_CHECK { connect_timeout 1 } }
    }";
    let mut s = Sim::new(vss(conf));
    s.run(60.0, &mut |_, _, at| {
        if at < Duration::from_secs(5) {
            (OK, Duration::ZERO)
        } else {
            (FAIL, Duration::from_secs(1))
        }
    });
    assert_eq!(s.starts[&cid(0, 0, 0)][..5], [1.0, 11.0, 22.0, 33.0, 44.0]);
    assert_eq!(removal_time(&s), Some(45.0));
}

#[test]
fn omega_runs_down_scripts_on_shutdown() {
    let base = |omega: &str| {
        format!(
            "virtual_server 203.0.113.10 80 {{
                delay_loop 10
                protocol TCP
                {omega}
                quorum_down \"/bin/echo qd\"
                real_server 198.51.100.11 80 {{ notify_down \"/bin/echo d\"
                    TCP_CHECK {{ }} }}
            }}"
        )
    };
    let mut s = Sim::new(vss(&base("omega")));
    s.e.shutdown();
    s.drain();
    assert!(s.members(0).is_empty());
    let got: Vec<_> = s
        .notes
        .iter()
        .map(|(_, n)| (n.kind.clone(), n.stopping))
        .collect();
    assert_eq!(
        got,
        [(NotifyKind::RsDown, true), (NotifyKind::QuorumDown, true)]
    );
    assert_eq!(s.e.poll_timeout(), None);

    let mut s = Sim::new(vss(&base("")));
    s.e.shutdown();
    s.drain();
    assert!(s.members(0).is_empty());
    assert!(s.notes.is_empty());
}

#[test]
fn reload_keeps_states_and_diffs() {
    let before = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.11 80 { notify_down \"/bin/echo gone\"
            TCP_CHECK { retry 0 } }
        real_server 198.51.100.12 80 { TCP_CHECK { retry 0 } }
    }
    virtual_server 203.0.113.20 80 {
        protocol TCP
        real_server 198.51.100.21 80 { TCP_CHECK { } }
    }";
    let after = "virtual_server 203.0.113.10 80 {
        delay_loop 10
        protocol TCP
        real_server 198.51.100.12 80 { TCP_CHECK { retry 0 } }
        real_server 198.51.100.13 80 { TCP_CHECK { retry 0
            alpha } }
        real_server 198.51.100.14 80 { TCP_CHECK { retry 0 } }
    }
    virtual_server 203.0.113.30 80 {
        protocol TCP
        real_server 198.51.100.31 80 { TCP_CHECK { } }
    }";
    let mut s = Sim::new(vss(before));
    // .12 goes down at 11.
    s.run(15.0, &mut |id, _, at| {
        (
            if id.vs == 0 && id.rs == 1 && at > Duration::from_secs(5) {
                FAIL
            } else {
                OK
            },
            Duration::ZERO,
        )
    });
    assert_eq!(s.members(0), [("198.51.100.11:80".to_string(), 1)]);
    s.notes.clear();
    let now = s.now;
    s.e.reload(vss(after), now, &mut || 0.0);
    s.drain();
    assert_eq!(s.e.epoch(), 1);
    // .11 removed (its notify_down runs); .12 stays down without a new failure; new .13 is
    // alpha (starts down); new .14 starts alive.
    assert_eq!(s.members(0), [("198.51.100.14:80".to_string(), 1)]);
    // The removed service's alive RS and its quorum go down too (indexes of the old
    // configuration), as keepalived's clear_service_vs does.
    let got: Vec<_> = s
        .notes
        .iter()
        .map(|(_, n)| (n.kind.clone(), n.vs, n.rs))
        .collect();
    assert_eq!(
        got,
        [
            (NotifyKind::RsDown, 0, Some(0)),
            (NotifyKind::RsDown, 1, Some(0)),
            (NotifyKind::QuorumDown, 1, None)
        ]
    );
    assert_eq!(
        s.notes[0].1.script.as_ref().unwrap().command,
        "/bin/echo gone"
    );
    assert_eq!(s.removed.len(), 1);
    assert_eq!(
        format!("{:?}", s.removed[0].key),
        "Addr { addr: 203.0.113.20, port: 80 }"
    );
    assert_eq!(s.members(1), [("198.51.100.31:80".to_string(), 1)]);
    // Results of probes of the old epoch are ignored.
    s.e.on_probe_result(cid(0, 0, 0), FAIL, now);
    s.drain();
    assert_eq!(s.members(0).len(), 1);
    // One success brings .12 back.
    s.run(30.0, &mut |_, _, _| (OK, Duration::ZERO));
    assert_eq!(s.members(0).len(), 3);
}
