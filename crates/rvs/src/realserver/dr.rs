//! `rvs realserver dr --vip VIP`: VIP on lo, hidden from ARP (the article's §10 real server).

use std::net::IpAddr;

use super::{add_vip, any_vip_left, hide_vips_from_arp, remove_vip};
use crate::error::Result;

/// Configures this host to accept `vips` forwarded by a DR director.
pub fn setup(vips: &[IpAddr]) -> Result<()> {
    // ARP first: the VIP must never be announced, not even for a moment.
    hide_vips_from_arp(true)?;
    for &vip in vips {
        add_vip("lo", vip)?;
    }
    Ok(())
}

/// Removes `vips` from lo; once no VIP is left, gives back the ARP sysctls the host had.
pub fn undo(vips: &[IpAddr]) -> Result<()> {
    for &vip in vips {
        remove_vip("lo", vip)?;
    }
    if !any_vip_left()? {
        hide_vips_from_arp(false)?;
    }
    Ok(())
}
