//! rvs-keepalived: VRRP and health checks driven by keepalived.conf, programming rvsd.

fn main() {}
