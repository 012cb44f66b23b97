//! The keepalived.conf of the HA step: the article's §11 excerpt, put right (the
//! `virtual_server` block at the top level, DR forwarding) and made quick (one-second
//! checks), so a dead real server leaves the pool within a couple of seconds.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// What differs between the two directors' files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Starts as master, priority 150.
    Master,
    /// Starts as backup, priority 100.
    Backup,
}

/// One director's keepalived.conf.
#[derive(Clone, Debug)]
pub struct HaConf<'a> {
    /// MASTER or BACKUP.
    pub role: Role,
    /// `router_id` in global_defs.
    pub router_id: &'a str,
    /// The VRRP interface (the director's LAN leg).
    pub interface: &'a str,
    /// The shared virtual IP.
    pub vip: Ipv4Addr,
    /// The service port.
    pub port: u16,
    /// The real servers' addresses.
    pub real_servers: &'a [Ipv4Addr],
}

impl HaConf<'_> {
    /// The file's text.
    pub fn render(&self) -> String {
        let (state, priority) = match self.role {
            Role::Master => ("MASTER", 150),
            Role::Backup => ("BACKUP", 100),
        };
        let mut s = String::new();
        // Writing to a String cannot fail; the results are ignored on purpose.
        let _ = writeln!(s, "global_defs {{\n    router_id {}\n}}\n", self.router_id);
        let _ = writeln!(
            s,
            "vrrp_instance VI_1 {{
    state {state}
    interface {}
    virtual_router_id 51
    priority {priority}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass 1111
    }}
    virtual_ipaddress {{
        {}/32 dev {}
    }}
}}
",
            self.interface, self.vip, self.interface
        );
        let _ = writeln!(
            s,
            "virtual_server {} {} {{
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP",
            self.vip, self.port
        );
        for rs in self.real_servers {
            let _ = writeln!(
                s,
                "    real_server {rs} {} {{
        weight 1
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}",
                self.port
            );
        }
        s.push_str("}\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(role: Role) -> String {
        HaConf {
            role,
            router_id: "demo-director",
            interface: "eth0",
            vip: Ipv4Addr::new(198, 51, 100, 10),
            port: 80,
            real_servers: &[
                Ipv4Addr::new(198, 51, 100, 11),
                Ipv4Addr::new(198, 51, 100, 12),
            ],
        }
        .render()
    }

    #[test]
    fn master_and_backup_differ_in_state_and_priority_only() {
        let (m, b) = (conf(Role::Master), conf(Role::Backup));
        assert!(m.contains("state MASTER") && m.contains("priority 150"));
        assert!(b.contains("state BACKUP") && b.contains("priority 100"));
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("state ") && !l.contains("priority "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&m), strip(&b));
    }

    #[test]
    fn the_virtual_server_sits_at_the_top_level_with_both_real_servers() {
        let m = conf(Role::Master);
        assert!(m.contains("\nvirtual_server 198.51.100.10 80 {"));
        assert!(m.contains("real_server 198.51.100.11 80 {"));
        assert!(m.contains("real_server 198.51.100.12 80 {"));
        assert_eq!(m.matches('{').count(), m.matches('}').count());
    }

    #[test]
    fn both_files_parse_without_errors_or_warnings() {
        for role in [Role::Master, Role::Backup] {
            let opts = rvs_kaconf::CheckOptions {
                config_id: None,
                interfaces: None,
            };
            let parsed = rvs_kaconf::parse_str("keepalived.conf", &conf(role), &opts);
            let findings: Vec<String> = parsed
                .diagnostics
                .iter()
                .filter(|d| d.severity != rvs_kaconf::Severity::Note)
                .map(|d| format!("{d:?}"))
                .collect();
            assert!(findings.is_empty(), "{role:?}: {findings:#?}");
        }
    }
}
