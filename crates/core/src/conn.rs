//! Connection table: entries, IPVS TCP/UDP/SCTP state machines, timeouts, persistence templates.
