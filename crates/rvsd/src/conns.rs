//! The connection table as the control protocol lists it (`ipvsadm -L -c`).

use rvs_api::ConnEntry;
use rvs_core::Instant;
use rvs_core::director::Director;

/// Every connection and template of one worker, as protocol entries.
pub fn entries(d: &Director, now: Instant) -> Vec<ConnEntry> {
    d.connections()
        .map(|c| ConnEntry {
            protocol: c.protocol_name().to_string(),
            client: c.client(),
            vaddr: c.virtual_addr(),
            dest: c.dest_addr(),
            state: c.state().name().to_string(),
            // ipvsadm prints whole seconds, rounded up like the kernel's jiffies-to-seconds.
            expires: c.expires_in_ms(now).div_ceil(1000).min(u64::from(u32::MAX)) as u32,
            template: c.is_template(),
            pe_name: None,
            pe_data: None,
        })
        .collect()
}
