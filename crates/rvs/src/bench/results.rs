//! From the repetitions to the figures: a median and range per path and figure, the ratios to
//! each path's baseline, and the targets checked against them.

use serde::Serialize;

use super::measure::PathRun;
use super::paths::PathKind;
use super::stats::{Summary, ratio};

/// The summarised figures of one path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathSummary {
    /// The path.
    pub path: PathKind,
    /// What its ratios are taken against.
    pub baseline: PathKind,
    /// Keep-alive requests per second.
    pub ka_rps: Option<Summary>,
    /// Keep-alive median latency, µs.
    pub ka_p50_us: Option<Summary>,
    /// Keep-alive 99th percentile latency, µs.
    pub ka_p99_us: Option<Summary>,
    /// CPU (all cores) per keep-alive request, µs.
    pub ka_cpu_us: Option<Summary>,
    /// Generator core busy % during the keep-alive runs.
    pub ka_gen_pct: Option<Summary>,
    /// SUT core busy % during the keep-alive runs.
    pub ka_sut_pct: Option<Summary>,
    /// CPU of everything else on the machine during the keep-alive runs, % of one core.
    pub ka_other_pct: Option<Summary>,
    /// New connections per second (`Connection: close`).
    pub close_cps: Option<Summary>,
    /// 99th percentile latency with `Connection: close`, µs.
    pub close_p99_us: Option<Summary>,
    /// Busy CPU (all cores) per new connection, µs.
    pub close_cpu_us: Option<Summary>,
    /// 64-byte datagrams per second counted at the sinks.
    pub udp_pps: Option<Summary>,
    /// 64-byte datagrams per second the generator sent.
    pub udp_sent_pps: Option<Summary>,
    /// Busy CPU (all cores) per million datagrams received, ms.
    pub udp_cpu_ms: Option<Summary>,
    /// Why runs failed (each distinct reason once).
    pub failures: Vec<String>,
    /// wrk socket errors and non-2xx answers over all runs.
    pub http_errors: u64,
}

/// Summarises `runs` per path, in the order of `paths`.
pub fn summarise(
    runs: &[PathRun],
    paths: &[PathKind],
    gen_core: usize,
    sut_core: usize,
) -> Vec<PathSummary> {
    paths
        .iter()
        .map(|&path| {
            let mine: Vec<&PathRun> = runs.iter().filter(|r| r.path == path).collect();
            let ka: Vec<_> = mine
                .iter()
                .filter_map(|r| r.keepalive.as_ref().ok())
                .collect();
            let cl: Vec<_> = mine.iter().filter_map(|r| r.close.as_ref().ok()).collect();
            let udp: Vec<_> = mine
                .iter()
                .filter_map(|r| r.udp.as_ref().and_then(|u| u.as_ref().ok()))
                .collect();
            let of = |v: Vec<f64>| Summary::of(&v);
            let mut failures = Vec::new();
            for r in &mine {
                let errs = [r.keepalive.as_ref().err(), r.close.as_ref().err()];
                let udp_err = r.udp.as_ref().and_then(|u| u.as_ref().err());
                for e in errs.into_iter().chain([udp_err]).flatten() {
                    if !failures.contains(e) {
                        failures.push(e.clone());
                    }
                }
            }
            PathSummary {
                path,
                baseline: path.baseline(paths),
                ka_rps: of(ka.iter().map(|s| s.wrk.rps).collect()),
                ka_p50_us: of(ka.iter().map(|s| s.wrk.p50_us).collect()),
                ka_p99_us: of(ka.iter().map(|s| s.wrk.p99_us).collect()),
                ka_cpu_us: of(ka.iter().map(|s| s.cpu_us_per_req).collect()),
                ka_gen_pct: of(ka.iter().filter_map(|s| s.cpu.core_pct(gen_core)).collect()),
                ka_sut_pct: of(ka.iter().filter_map(|s| s.cpu.core_pct(sut_core)).collect()),
                ka_other_pct: of(ka.iter().filter_map(|s| s.cpu.other_pct()).collect()),
                close_cps: of(cl.iter().map(|s| s.wrk.rps).collect()),
                close_p99_us: of(cl.iter().map(|s| s.wrk.p99_us).collect()),
                close_cpu_us: of(cl.iter().map(|s| s.cpu_us_per_req).collect()),
                udp_pps: of(udp.iter().map(|s| s.pps).collect()),
                udp_sent_pps: of(udp.iter().map(|s| s.sent_pps).collect()),
                udp_cpu_ms: of(udp.iter().map(|s| s.cpu_ms_per_mpkt).collect()),
                failures,
                http_errors: ka.iter().chain(&cl).map(|s| s.wrk.errors).sum(),
            }
        })
        .collect()
}

/// Finds a path's summary.
pub fn find(summaries: &[PathSummary], path: PathKind) -> Option<&PathSummary> {
    summaries.iter().find(|s| s.path == path)
}

/// The median of `figure` of `path` over that of its baseline.
pub fn ratio_of(
    summaries: &[PathSummary],
    path: PathKind,
    figure: impl Fn(&PathSummary) -> Option<Summary>,
) -> Option<f64> {
    let me = find(summaries, path)?;
    let base = find(summaries, me.baseline)?;
    ratio(figure(me)?.median, figure(base)?.median)
}

/// One of the targets and how this run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetCheck {
    /// The target as the issue states it.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// Met, missed, or not measured (`None`).
    pub met: Option<bool>,
}

fn ratio_target(s: &[PathSummary], path: PathKind, what: &str, goal: f64, fig: Fig) -> TargetCheck {
    let base = find(s, path).map_or(PathKind::Direct, |p| p.baseline);
    let target = format!("{} {what} ≥ {goal:.2}× {}", path.name(), base.name());
    match ratio_of(s, path, fig) {
        Some(r) => TargetCheck {
            target,
            measured: if r >= goal {
                format!("{r:.2}×")
            } else {
                format!("{r:.2}× (short by {:.2}×)", goal - r)
            },
            met: Some(r >= goal),
        },
        None => not_measured(target),
    }
}

fn not_measured(target: String) -> TargetCheck {
    TargetCheck {
        target,
        measured: "not measured".into(),
        met: None,
    }
}

type Fig = fn(&PathSummary) -> Option<Summary>;

/// The added CPU of `path` per unit over its baseline's (µs per request).
fn added_cpu(s: &[PathSummary], path: PathKind, fig: Fig) -> Option<f64> {
    let me = find(s, path)?;
    let base = find(s, me.baseline)?;
    Some(fig(me)?.median - fig(base)?.median)
}

/// Checks the targets; `idle_pct` is rvsd's idle CPU in % of a core.
pub fn check_targets(s: &[PathSummary], idle_pct: Option<f64>) -> Vec<TargetCheck> {
    let mut checks = vec![
        ratio_target(s, PathKind::RvsdNat, "keep-alive req/s", 0.95, |p| p.ka_rps),
        ratio_target(s, PathKind::RvsdNat, "new conn/s", 0.90, |p| p.close_cps),
        ratio_target(s, PathKind::RvsdDr, "keep-alive req/s", 0.97, |p| p.ka_rps),
        ratio_target(s, PathKind::RvsdDr, "new conn/s", 0.97, |p| p.close_cps),
    ];
    let figures: [(&str, Fig); 2] = [
        ("per keep-alive request", |p| p.ka_cpu_us),
        ("per new connection", |p| p.close_cpu_us),
    ];
    for path in [PathKind::RvsdNat, PathKind::RvsdDr, PathKind::RvsdTun] {
        for (what, fig) in figures {
            let target = format!(
                "{} CPU {what} over {} ≤ nft-dnat's over direct",
                path.name(),
                find(s, path)
                    .map_or(PathKind::Direct, |p| p.baseline)
                    .name()
            );
            let (Some(mine), Some(nft)) = (
                added_cpu(s, path, fig),
                added_cpu(s, PathKind::NftDnat, fig),
            ) else {
                if find(s, path).is_some() {
                    checks.push(not_measured(target));
                }
                continue;
            };
            checks.push(TargetCheck {
                target,
                measured: format!("{mine:+.2} µs vs {nft:+.2} µs"),
                met: Some(mine <= nft),
            });
        }
    }
    for path in [PathKind::RvsdDr, PathKind::RvsdNat] {
        checks.push(ratio_target(s, path, "64-byte UDP pps", 1.5, |p| p.udp_pps));
    }
    let idle = "rvsd idle (services configured, no traffic) < 1 % of a core".to_string();
    checks.push(match idle_pct {
        Some(pct) => TargetCheck {
            target: idle,
            measured: format!("{pct:.2} %"),
            met: Some(pct < 1.0),
        },
        None => not_measured(idle),
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::cpu::CpuUse;
    use crate::bench::measure::HttpSample;
    use crate::bench::wrk::WrkReport;

    fn http(rps: f64, cpu_us: f64) -> HttpSample {
        HttpSample {
            wrk: WrkReport {
                requests: (rps * 10.0) as u64,
                secs: 10.0,
                rps,
                p50_us: 400.0,
                p99_us: 900.0,
                errors: 1,
            },
            cpu: CpuUse {
                busy_s: vec![10.0, 5.0],
                own_s: None,
                wall_s: 10.0,
            },
            cpu_us_per_req: cpu_us,
        }
    }

    fn run(path: PathKind, rep: usize, rps: f64, cpu_us: f64) -> PathRun {
        PathRun {
            path,
            rep,
            keepalive: Ok(http(rps, cpu_us)),
            close: Err("wrk failed".into()),
            udp: None,
        }
    }

    #[test]
    fn medians_ratios_and_targets_over_interleaved_runs() {
        let runs = vec![
            run(PathKind::Direct, 0, 100e3, 15.0),
            run(PathKind::RvsdNat, 0, 97e3, 16.0),
            run(PathKind::NftDnat, 0, 90e3, 18.0),
            run(PathKind::Direct, 1, 110e3, 15.0),
            run(PathKind::RvsdNat, 1, 93e3, 16.5),
            run(PathKind::NftDnat, 1, 91e3, 18.5),
            run(PathKind::Direct, 2, 90e3, 15.5),
            run(PathKind::RvsdNat, 2, 95e3, 17.0),
            run(PathKind::NftDnat, 2, 92e3, 19.0),
        ];
        let paths = [PathKind::Direct, PathKind::RvsdNat, PathKind::NftDnat];
        let s = summarise(&runs, &paths, 0, 1);
        let nat = find(&s, PathKind::RvsdNat).unwrap();
        assert_eq!(nat.ka_rps.unwrap().median, 95e3);
        assert_eq!(nat.ka_rps.unwrap().min, 93e3);
        assert_eq!(nat.ka_gen_pct.unwrap().median, 100.0);
        assert_eq!(nat.ka_sut_pct.unwrap().median, 50.0);
        assert_eq!(nat.close_cps, None);
        assert_eq!(nat.failures, vec!["wrk failed".to_string()]);
        assert_eq!(nat.http_errors, 3);
        let r = ratio_of(&s, PathKind::RvsdNat, |p| p.ka_rps).unwrap();
        assert!((r - 0.95).abs() < 1e-12);

        let checks = check_targets(&s, Some(0.4));
        let ka = &checks[0];
        assert!(ka.target.starts_with("rvsd-nat keep-alive"));
        assert_eq!(ka.met, Some(true));
        assert_eq!(checks[1].met, None, "no new-conn figure was measured");
        assert_eq!(checks[2].met, None, "no DR path ran");
        let cpu = checks
            .iter()
            .find(|c| c.target.starts_with("rvsd-nat CPU per keep-alive"))
            .unwrap();
        // Medians: direct 15.0, rvsd 16.5, nft 18.5: rvsd adds 1.5 µs, nft 3.5 µs.
        assert_eq!(cpu.met, Some(true));
        assert_eq!(cpu.measured, "+1.50 µs vs +3.50 µs");
        assert_eq!(checks.last().unwrap().met, Some(true));
        assert_eq!(
            check_targets(&s, Some(1.5)).last().unwrap().met,
            Some(false)
        );
    }

    #[test]
    fn a_missed_ratio_says_by_how_much() {
        let runs = vec![
            run(PathKind::Direct, 0, 100e3, 15.0),
            run(PathKind::RvsdNat, 0, 80e3, 16.0),
        ];
        let s = summarise(&runs, &[PathKind::Direct, PathKind::RvsdNat], 0, 1);
        let c = &check_targets(&s, None)[0];
        assert_eq!(c.met, Some(false));
        assert_eq!(c.measured, "0.80× (short by 0.15×)");
    }
}
