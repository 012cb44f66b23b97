//! The paths the benchmark compares: which lab each runs on, what balances it, what it is
//! compared with.
//!
//! Every "direct" path has the same shape as the balanced ones it is compared with: the client,
//! one Linux forwarding hop (the NAT director, or the DR/TUN router) and the LAN bridge to
//! rs1 — only the balancer is missing. In the NAT lab the direct path also is the kernel's
//! own IP forwarding for the UDP figure.

use serde::Serialize;

use crate::lab::Topology;

/// One way from the client to the real servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PathKind {
    /// NAT lab, no balancer: the client reaches rs1's RIP through the director's kernel IP
    /// forwarding (a route on the client via the director's external address).
    Direct,
    /// NAT lab: rvsd on both director legs, `-m` to rs1 and rs2 (its default on veth:
    /// every packet through AF_XDP and the core).
    RvsdNat,
    /// As `RvsdNat` with `--fast-path`: established flows forwarded by the XDP program.
    RvsdNatFast,
    /// NAT lab, rvsd stopped: nftables DNAT `numgen inc mod 2` to rs1/rs2 in the director.
    NftDnat,
    /// NAT lab, rvsd stopped: HAProxy `mode tcp` on the VIP in the director, one thread.
    Haproxy,
    /// DR lab, no balancer: client → router → rs1's RIP.
    DirectDr,
    /// DR lab: rvsd on the director, `-g` to rs1 and rs2 (AF_XDP, as `RvsdNat`).
    RvsdDr,
    /// As `RvsdDr` with `--fast-path`.
    RvsdDrFast,
    /// TUN lab, no balancer: client → router → rs1's RIP on the real servers' subnet.
    DirectTun,
    /// TUN lab: rvsd on the director, `-i` (IP-in-IP) to rs1 and rs2.
    RvsdTun,
}

impl PathKind {
    /// Every path, in the order a repetition runs them (before rotation).
    pub const ALL: [PathKind; 10] = [
        PathKind::Direct,
        PathKind::RvsdNat,
        PathKind::RvsdNatFast,
        PathKind::NftDnat,
        PathKind::Haproxy,
        PathKind::DirectDr,
        PathKind::RvsdDr,
        PathKind::RvsdDrFast,
        PathKind::DirectTun,
        PathKind::RvsdTun,
    ];

    /// The name on the command line (`--only`) and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::RvsdNat => "rvsd-nat",
            Self::RvsdNatFast => "rvsd-nat-fast",
            Self::NftDnat => "nft-dnat",
            Self::Haproxy => "haproxy",
            Self::DirectDr => "direct-dr",
            Self::RvsdDr => "rvsd-dr",
            Self::RvsdDrFast => "rvsd-dr-fast",
            Self::DirectTun => "direct-tun",
            Self::RvsdTun => "rvsd-tun",
        }
    }

    /// The lab the path runs on.
    pub fn lab(self) -> Topology {
        match self {
            Self::Direct | Self::RvsdNat | Self::RvsdNatFast | Self::NftDnat | Self::Haproxy => {
                Topology::Nat
            }
            Self::DirectDr | Self::RvsdDr | Self::RvsdDrFast => Topology::Dr,
            Self::DirectTun | Self::RvsdTun => Topology::Tun,
        }
    }

    /// Whether the path is a balancer-less reference.
    pub fn is_direct(self) -> bool {
        matches!(self, Self::Direct | Self::DirectDr | Self::DirectTun)
    }

    /// Whether rvsd is the balancer.
    pub fn is_rvsd(self) -> bool {
        matches!(
            self,
            Self::RvsdNat | Self::RvsdNatFast | Self::RvsdDr | Self::RvsdDrFast | Self::RvsdTun
        )
    }

    /// Whether rvsd runs with `--fast-path` (established flows forwarded in XDP).
    pub fn fast_path(self) -> bool {
        matches!(self, Self::RvsdNatFast | Self::RvsdDrFast)
    }

    /// Whether the 64-byte UDP figure applies (HAProxy `mode tcp` carries no UDP).
    pub fn carries_udp(self) -> bool {
        self != Self::Haproxy
    }

    /// The path this one's ratios are taken against: the direct path of its own lab when it
    /// was measured, else the NAT lab's `direct`.
    pub fn baseline(self, measured: &[PathKind]) -> PathKind {
        let own = match self.lab() {
            Topology::Dr => Self::DirectDr,
            Topology::Tun => Self::DirectTun,
            Topology::Nat | Topology::Ha => Self::Direct,
        };
        if measured.contains(&own) {
            own
        } else {
            Self::Direct
        }
    }

    /// One line saying how the path is built, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Direct => {
                "NAT lab, no balancer: client → director (kernel IP forwarding, no rules) → rs1"
            }
            Self::RvsdNat => {
                "NAT lab: rvsd on eth0+eth1 of the director, rr, `-m` to rs1, rs2 (default: AF_XDP on veth)"
            }
            Self::RvsdNatFast => {
                "as rvsd-nat with `--fast-path`: established flows forwarded by the XDP program"
            }
            Self::NftDnat => {
                "NAT lab, rvsd stopped: nftables `dnat to numgen inc mod 2 map { rs1, rs2 }`"
            }
            Self::Haproxy => "NAT lab, rvsd stopped: HAProxy `mode tcp`, nbthread 1, rr",
            Self::DirectDr => "DR lab, no balancer: client → router → rs1",
            Self::RvsdDr => {
                "DR lab: rvsd on the director's eth0, rr, `-g` to rs1, rs2 (default: AF_XDP on veth)"
            }
            Self::RvsdDrFast => {
                "as rvsd-dr with `--fast-path`: established flows forwarded by the XDP program"
            }
            Self::DirectTun => "TUN lab, no balancer: client → router → rs1",
            Self::RvsdTun => {
                "TUN lab: rvsd on the director's eth0, rr, `-i` to rs1, rs2 (TUN is not fast-pathed)"
            }
        }
    }
}

/// The paths to run: `only` (deduplicated, in [`PathKind::ALL`] order), or all of them.
pub fn selected(only: &[PathKind]) -> Vec<PathKind> {
    PathKind::ALL
        .into_iter()
        .filter(|p| only.is_empty() || only.contains(p))
        .collect()
}

/// The order of repetition `rep` (0-based): `paths` rotated by `rep`, so no path always runs
/// first (right after the labs are built) or always after the same neighbour.
pub fn rotation(paths: &[PathKind], rep: usize) -> Vec<PathKind> {
    if paths.is_empty() {
        return Vec::new();
    }
    let k = rep % paths.len();
    paths[k..].iter().chain(&paths[..k]).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_prefer_the_paths_own_lab() {
        let all = PathKind::ALL.to_vec();
        assert_eq!(PathKind::RvsdDr.baseline(&all), PathKind::DirectDr);
        assert_eq!(PathKind::RvsdTun.baseline(&all), PathKind::DirectTun);
        assert_eq!(PathKind::NftDnat.baseline(&all), PathKind::Direct);
        let some = [PathKind::Direct, PathKind::RvsdDr];
        assert_eq!(PathKind::RvsdDr.baseline(&some), PathKind::Direct);
    }

    #[test]
    fn selection_keeps_the_canonical_order_and_rotation_covers_every_path() {
        let only = [PathKind::RvsdNat, PathKind::Direct, PathKind::RvsdNat];
        assert_eq!(selected(&only), vec![PathKind::Direct, PathKind::RvsdNat]);
        assert_eq!(selected(&[]).len(), PathKind::ALL.len());
        let paths = selected(&[]);
        for rep in 0..3 {
            let mut order = rotation(&paths, rep);
            assert_eq!(order[0], paths[rep]);
            order.sort();
            assert_eq!(order, paths);
        }
        assert!(rotation(&[], 2).is_empty());
    }
}
