//! Per-worker next-hop cache: next-hop IP → (egress interface, destination MAC, source MAC).
//!
//! A hit costs a hash lookup and two atomic loads (the generations). The route part is
//! refreshed by one RTM_GETROUTE when routes, links or addresses changed (rare); the
//! neighbour part by re-reading the published neighbour table (no syscall). A missing
//! neighbour is handed to the monitor for resolution at most once a second per next hop.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::monitor::{NetState, Resolver};
use crate::netlink::{self, NlSocket, Route};

/// Bound on cached next hops; the cache is cleared when it is exceeded.
const MAX_ENTRIES: usize = 65_536;
/// Minimum time between two resolution requests for the same next hop.
const RESOLVE_INTERVAL_MS: u64 = 1_000;

/// Where a frame for a next hop leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    /// Index of the egress interface in the data plane's interface list.
    pub slot: usize,
    /// Destination MAC (the next hop's or its gateway's).
    pub dst_mac: [u8; 6],
    /// Source MAC (the egress interface's).
    pub src_mac: [u8; 6],
}

/// Why a next hop cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// No route (or an unreachable/blackhole/local one).
    NoRoute,
    /// The route leaves through an interface the data plane does not serve.
    NotManaged,
    /// The neighbour's MAC is not known yet (resolution was requested).
    NoNeighbour,
}

#[derive(Debug)]
struct Entry {
    route_gen: u64,
    neigh_gen: u64,
    route: Option<Route>,
    result: Result<Egress, Miss>,
    last_resolve_ms: Option<u64>,
}

/// The cache one worker owns.
#[derive(Debug)]
pub(crate) struct NextHopCache {
    state: Arc<NetState>,
    resolver: Resolver,
    sock: Option<NlSocket>,
    /// ifindex → slot of the interfaces the data plane serves.
    managed: HashMap<u32, usize>,
    entries: HashMap<IpAddr, Entry>,
}

impl NextHopCache {
    pub(crate) fn new(
        state: Arc<NetState>,
        resolver: Resolver,
        managed: HashMap<u32, usize>,
    ) -> Self {
        NextHopCache {
            state,
            resolver,
            sock: None,
            managed,
            entries: HashMap::new(),
        }
    }

    /// Resolve `next_hop`; `now_ms` rate-limits resolution requests.
    pub(crate) fn lookup(&mut self, next_hop: IpAddr, now_ms: u64) -> Result<Egress, Miss> {
        // Read generations before the tables: a change published after this read bumps them
        // again, so it is seen on the next lookup at the latest.
        let route_gen = self.state.route_generation();
        let neigh_gen = self.state.neigh_generation();
        if let Some(e) = self.entries.get(&next_hop)
            && e.route_gen == route_gen
            && e.neigh_gen == neigh_gen
            && !matches!(e.result, Err(Miss::NoNeighbour))
        {
            return e.result;
        }
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&next_hop) {
            self.entries.clear();
        }
        let stale_route = self
            .entries
            .get(&next_hop)
            .is_none_or(|e| e.route_gen != route_gen);
        let route = if stale_route {
            self.route(next_hop)
        } else {
            self.entries.get(&next_hop).and_then(|e| e.route)
        };
        let result = self.egress(next_hop, route);
        let entry = self.entries.entry(next_hop).or_insert(Entry {
            route_gen,
            neigh_gen,
            route,
            result,
            last_resolve_ms: None,
        });
        entry.route_gen = route_gen;
        entry.neigh_gen = neigh_gen;
        entry.route = route;
        entry.result = result;
        if result == Err(Miss::NoNeighbour)
            && let Some(r) = route
        {
            let due = entry
                .last_resolve_ms
                .is_none_or(|t| now_ms.saturating_sub(t) >= RESOLVE_INTERVAL_MS);
            if due {
                entry.last_resolve_ms = Some(now_ms);
                self.resolver.request(r.oif, r.neighbour_for(next_hop));
            }
        }
        result
    }

    fn route(&mut self, dst: IpAddr) -> Option<Route> {
        if self.sock.is_none() {
            self.sock = NlSocket::new().ok();
        }
        let sock = self.sock.as_mut()?;
        match netlink::route_get(sock, dst) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%dst, error = %e, "route lookup failed");
                // A broken socket is reopened on the next miss.
                self.sock = None;
                None
            }
        }
    }

    fn egress(&self, next_hop: IpAddr, route: Option<Route>) -> Result<Egress, Miss> {
        let route = route.ok_or(Miss::NoRoute)?;
        if route.local {
            return Err(Miss::NoRoute);
        }
        let slot = *self.managed.get(&route.oif).ok_or(Miss::NotManaged)?;
        let src_mac = self.state.link_mac(route.oif).ok_or(Miss::NotManaged)?;
        let dst_mac = self
            .state
            .neighbour(route.oif, route.neighbour_for(next_hop))
            .ok_or(Miss::NoNeighbour)?;
        Ok(Egress {
            slot,
            dst_mac,
            src_mac,
        })
    }
}
