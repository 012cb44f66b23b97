//! Shape checks on a decoded request, before any backend sees it: the limits the kernel's
//! netlink policy enforces (name lengths, a non-zero mark, flag values). Rules that need
//! the table (exists, no such service, scheduler names) are the backend's.

use rvs_core::model::{DestConfig, Family, ServiceConfig, ServiceKey};

use crate::entries::SyncDaemon;
use crate::error::ApiError;
use crate::op::{Mutation, Op, Query};

/// Longest scheduler, persistence-engine or interface name (IPVS: 16 bytes with the NUL).
pub(crate) const MAX_NAME_LEN: usize = 15;

/// Highest tunnel flag value (IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM).
const MAX_TUN_FLAGS: u16 = 2;

/// Check the shape of a whole operation.
pub(crate) fn op(op: &Op) -> Result<(), ApiError> {
    match op {
        Op::Mutate(m) => mutation(m),
        Op::Apply(ops) => ops
            .iter()
            .enumerate()
            .try_for_each(|(i, m)| mutation(m).map_err(|e| e.at(i))),
        Op::Query(q) => match q {
            Query::GetService { service } => key(service),
            Query::StartDaemon { daemon } => sync_daemon(daemon),
            Query::ListServices
            | Query::ListConnections
            | Query::GetTimeouts
            | Query::Info
            | Query::DaemonStatus
            | Query::Counters
            | Query::StopDaemon { .. } => Ok(()),
        },
    }
}

fn mutation(m: &Mutation) -> Result<(), ApiError> {
    match m {
        Mutation::AddService { service } | Mutation::EditService { service } => {
            service_config(service)
        }
        Mutation::DelService { service } => key(service),
        Mutation::AddDest { service, dest } | Mutation::EditDest { service, dest } => {
            key(service)?;
            dest_config(dest)
        }
        Mutation::DelDest { service, .. } => key(service),
        Mutation::Zero { service } => service.as_ref().map_or(Ok(()), key),
        Mutation::Flush | Mutation::SetTimeouts { .. } => Ok(()),
    }
}

fn key(k: &ServiceKey) -> Result<(), ApiError> {
    match k {
        ServiceKey::Fwmark { mark: 0, .. } => {
            Err(ApiError::bad_request("firewall mark must not be 0"))
        }
        _ => Ok(()),
    }
}

fn name(what: &str, s: &str) -> Result<(), ApiError> {
    if s.len() > MAX_NAME_LEN || s.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "{what} name {s:?} is longer than {MAX_NAME_LEN} bytes or contains NUL"
        )));
    }
    Ok(())
}

fn service_config(s: &ServiceConfig) -> Result<(), ApiError> {
    key(&s.key)?;
    if s.scheduler.is_empty() {
        return Err(ApiError::bad_request("scheduler name is empty"));
    }
    name("scheduler", &s.scheduler)?;
    if let Some(pe) = &s.pe_name {
        name("persistence engine", pe)?;
    }
    if let Some(p) = s.persistence {
        let family = match s.key {
            ServiceKey::Addr { addr, .. } if addr.is_ipv4() => Family::Inet,
            ServiceKey::Addr { .. } => Family::Inet6,
            ServiceKey::Fwmark { family, .. } => family,
        };
        let max = if family == Family::Inet { 32 } else { 128 };
        if p.netmask > max {
            return Err(ApiError::bad_request(format!(
                "persistence netmask /{} is longer than /{max}",
                p.netmask
            )));
        }
    }
    Ok(())
}

fn dest_config(d: &DestConfig) -> Result<(), ApiError> {
    if d.tun_flags > MAX_TUN_FLAGS {
        return Err(ApiError::bad_request(format!(
            "tunnel flags {} are not one of 0, 1, 2",
            d.tun_flags
        )));
    }
    Ok(())
}

fn sync_daemon(d: &SyncDaemon) -> Result<(), ApiError> {
    name("interface", &d.mcast_ifn)
}
