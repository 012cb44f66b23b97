//! Netlink (rtnetlink), synchronous: one-destination route lookups, the neighbour cache,
//! links and local addresses, XDP attachment, and the event groups that keep caches fresh.

mod query;
mod socket;

pub use query::{
    Link, LocalAddress, Neighbour, Route, address_from, addresses, link, link_from, links,
    neighbour_from, neighbours, resolve_neighbour, route_get, set_xdp_fd,
};
pub use socket::{NlSocket, Overrun};

/// RTNLGRP_LINK: link changes.
pub const RTNLGRP_LINK: u32 = 1;
/// RTNLGRP_NEIGH: neighbour changes.
pub const RTNLGRP_NEIGH: u32 = 3;
/// RTNLGRP_IPV4_IFADDR: IPv4 address changes.
pub const RTNLGRP_IPV4_IFADDR: u32 = 5;
/// RTNLGRP_IPV4_ROUTE: IPv4 route changes.
pub const RTNLGRP_IPV4_ROUTE: u32 = 7;
/// RTNLGRP_IPV6_IFADDR: IPv6 address changes.
pub const RTNLGRP_IPV6_IFADDR: u32 = 9;
/// RTNLGRP_IPV6_ROUTE: IPv6 route changes.
pub const RTNLGRP_IPV6_ROUTE: u32 = 11;

/// Every group the next-hop monitor listens to.
pub const MONITOR_GROUPS: [u32; 6] = [
    RTNLGRP_LINK,
    RTNLGRP_NEIGH,
    RTNLGRP_IPV4_IFADDR,
    RTNLGRP_IPV4_ROUTE,
    RTNLGRP_IPV6_IFADDR,
    RTNLGRP_IPV6_ROUTE,
];
