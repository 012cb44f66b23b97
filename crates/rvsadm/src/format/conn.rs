//! `-L -c`: the connection table (with `--persistent-conn`: persistence-engine columns).

use core::fmt::Write as _;
use core::net::SocketAddr;

use rvs_api::ConnEntry;

use super::{Format, addrport};
use crate::names::Names;

fn protocol_number(name: &str) -> u8 {
    match name {
        "TCP" => 6,
        "UDP" => 17,
        "SCTP" => 132,
        _ => 0,
    }
}

/// The connection listing.
pub fn list_connections(conns: &[ConnEntry], format: Format, names: &dyn Names) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if format.has(Format::PERSISTENTCONN) {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        );
    } else {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        );
    }
    for c in conns {
        let proto = protocol_number(&c.protocol);
        let name = |a: SocketAddr| addrport(a.ip(), a.port(), proto, format, names);
        let (cname, vname, dname) = (name(c.client), name(c.vaddr), name(c.dest));
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        let pe = match (&c.pe_name, &c.pe_data) {
            (Some(n), Some(d)) if !n.is_empty() && !d.is_empty() => Some((n, d)),
            _ => None,
        };
        match pe {
            Some((pe_name, pe_data)) if format.has(Format::PERSISTENTCONN) => {
                let _ = writeln!(
                    out,
                    "{:<3} {expire:<6} {:<11} {cname:<18} {vname:<18} {dname:<16} {pe_name:<18} {pe_data}",
                    c.protocol, c.state
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{:<3} {expire:<6} {:<11} {cname:<18} {vname:<18} {dname}",
                    c.protocol, c.state
                );
            }
        }
    }
    out
}
