//! Receiving: demultiplexing a packet to its instance and keepalived's checks
//! (`vrrp_check_packet`) before the state machine sees it.

use std::net::IpAddr;
use std::time::Instant;

use super::{Engine, Received};
use crate::action::State;
use crate::debug::Debug;
use crate::error::RxError;
use crate::instance::MasterRx;
use crate::packet::{self, Advert, Auth, Version};

impl Engine {
    pub(super) fn dispatch(&mut self, now: Instant, rx: &Received<'_>) -> Result<(), RxError> {
        let vrid = packet::peek_vrid(rx.payload).map(|(_, v)| v).unwrap_or(0);
        let candidates: Vec<usize> = (0..self.instances.len())
            .filter(|&i| {
                let c = &self.instances[i].cfg;
                c.interface == rx.interface
                    && c.virtual_router_id == vrid
                    && c.is_ipv6() == rx.src.is_ipv6()
            })
            .collect();
        // Several instances share a VRID only with disjoint unicast peers: pick by source.
        let Some(&i) = candidates
            .iter()
            .find(|&&i| {
                self.instances[i]
                    .cfg
                    .unicast_peers
                    .iter()
                    .any(|p| p.addr == rx.src)
            })
            .or(candidates.first())
        else {
            self.unmatched += 1;
            return match Advert::decode(rx.payload, &rx.src, &rx.dst) {
                Err(e) => Err(e.into()),
                Ok(_) => Err(RxError::UnknownVrid(vrid)),
            };
        };
        let adv = match Advert::decode(rx.payload, &rx.src, &rx.dst) {
            Ok(a) => a,
            Err(e) => {
                self.unmatched += 1;
                return Err(e.into());
            }
        };
        if let Err(e) = self.validate(i, &adv, rx) {
            let s = &mut self.instances[i].stats;
            match e {
                RxError::Ttl(_) => s.ttl_errors += 1,
                RxError::Version(_) => s.version_errors += 1,
                RxError::AuthType { .. } | RxError::Password => s.auth_errors += 1,
                RxError::Interval { .. } => s.interval_errors += 1,
                _ => s.other_drops += 1,
            }
            return Err(e);
        }
        let mut out = Vec::new();
        let inst = &mut self.instances[i];
        inst.stats.adverts_received += 1;
        if adv.priority == 0 {
            inst.stats.priority_zero_received += 1;
        }
        let ours: Vec<IpAddr> = inst
            .cfg
            .virtual_ipaddresses
            .iter()
            .map(|v| v.addr)
            .collect();
        if adv.priority != 0
            && (ours.len() != adv.addrs.len() || ours.iter().any(|a| !adv.addrs.contains(a)))
        {
            inst.stats.address_list_errors += 1;
            Debug::AddressList {
                instance: inst.name(),
                src: &rx.src,
                ours: ours.len(),
                theirs: adv.addrs.len(),
            }
            .log();
        }
        match inst.state {
            State::Backup => inst.rx_backup(now, &adv, &rx.src),
            State::Master => {
                if inst.rx_master(now, &adv, &rx.src, &mut out) == MasterRx::Yielded
                    && let Some(g) = inst.group
                {
                    self.sync_backup(g, i, now, &mut out);
                }
            }
            State::Init | State::Fault | State::Stop => {}
        }
        self.actions.extend(out);
        Ok(())
    }

    /// keepalived `vrrp_check_packet`, after decoding.
    fn validate(&self, i: usize, adv: &Advert, rx: &Received<'_>) -> Result<(), RxError> {
        let inst = &self.instances[i];
        let cfg = &inst.cfg;
        if matches!(inst.state, State::Init | State::Fault | State::Stop) {
            return Err(RxError::NotListening);
        }
        if inst.src == Some(rx.src) {
            return Err(RxError::OwnPacket);
        }
        let multicast = rx.dst.is_multicast();
        if multicast && rx.ttl != packet::TTL {
            return Err(RxError::Ttl(rx.ttl));
        }
        if !multicast
            && let Some(p) = cfg.unicast_peers.iter().find(|p| p.addr == rx.src)
            && (p.min_ttl.is_some_and(|m| rx.ttl < m) || p.max_ttl.is_some_and(|m| rx.ttl > m))
        {
            return Err(RxError::Ttl(rx.ttl));
        }
        if adv.version != cfg.version {
            return Err(RxError::Version(adv.version.number()));
        }
        if cfg.version == Version::V2 {
            let want = match &cfg.auth_pass {
                Some(p) => Auth::pass(p),
                None => Auth::None,
            };
            if adv.auth.type_byte() != want.type_byte() {
                return Err(RxError::AuthType {
                    got: adv.auth.type_byte(),
                    want: want.type_byte(),
                });
            }
            if let (Auth::Pass(got), Auth::Pass(want)) = (adv.auth, want)
                && !constant_time_eq(&got, &want)
            {
                return Err(RxError::Password);
            }
            let mine = cfg.adver_int_field();
            if adv.adver_int != mine {
                return Err(RxError::Interval {
                    mine,
                    got: adv.adver_int,
                });
            }
        }
        if multicast == inst.is_unicast() {
            return Err(RxError::UnicastMismatch);
        }
        if cfg.check_unicast_src && !cfg.unicast_peers.iter().any(|p| p.addr == rx.src) {
            return Err(RxError::UnknownPeer);
        }
        Ok(())
    }
}

/// Compares two passwords without an early exit.
fn constant_time_eq(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
