//! Grammar features checked through the typed result: parameters, conditional lines,
//! include globs, braces on one line, defaults.

use std::collections::HashSet;
use std::path::Path;

use rvs_kaconf::*;

fn opts() -> CheckOptions {
    CheckOptions {
        config_id: Some("lb1".into()),
        interfaces: Some(HashSet::from(["eth0".to_string()])),
    }
}

fn corpus(name: &str) -> Parsed {
    parse_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(name),
        &opts(),
    )
}

#[test]
fn parameters_expand_including_multiline_values() {
    let p = corpus("vars.conf");
    assert!(p.diagnostics.is_empty(), "{}", p.render());
    let vs = &p.config.virtual_servers[0];
    assert_eq!(
        vs.key,
        VsKey::Addr {
            addr: "203.0.113.110".parse().unwrap(),
            port: 80
        }
    );
    assert_eq!(vs.real_servers.len(), 2);
    for rs in &vs.real_servers {
        assert_eq!(rs.port, 80);
        assert_eq!(
            rs.checkers.len(),
            1,
            "multi-line $CHECK expands to a TCP_CHECK block"
        );
        assert_eq!(rs.checkers[0].timing.connect_timeout.as_secs(), 3);
    }
}

#[test]
fn conditional_lines_follow_config_id() {
    let p = corpus("host_cond.conf");
    let vi = &p.config.vrrp_instances[0];
    assert_eq!((vi.state, vi.priority), (VrrpState::Master, 150));
    let other = parse_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/host_cond.conf"),
        &CheckOptions {
            config_id: Some("lb2".into()),
            interfaces: None,
        },
    );
    let vi = &other.config.vrrp_instances[0];
    assert_eq!((vi.state, vi.priority), (VrrpState::Backup, 100));
    // On lb2 the @lb2 line is kept and its keyword is unknown.
    assert!(
        other.render().contains("this_line_is_only_for_lb2"),
        "{}",
        other.render()
    );
}

#[test]
fn include_glob_reads_subdirectory_in_order() {
    let p = corpus("include_glob.conf");
    assert_eq!(p.sources.len(), 3);
    assert!(p.sources[1].display.ends_with("conf.d/10-vrrp.conf"));
    assert_eq!(p.config.vrrp_instances[0].name, "VI_INC");
    assert_eq!(p.config.virtual_servers.len(), 1);
    assert_eq!(p.config.global.router_id.as_deref(), Some("inc1"));
}

#[test]
fn keepalived_defaults_apply() {
    let text = "vrrp_instance V {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  203.0.113.5\n }\n}\n\
                virtual_server 203.0.113.5 443 {\n lb_algo wrr\n lb_kind DR\n protocol TCP\n real_server 198.51.100.9 443 {\n  HTTP_GET {\n   url {\n    path /\n   }\n  }\n  DNS_CHECK {\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n";
    let p = parse_str("t.conf", text, &opts());
    let vi = &p.config.vrrp_instances[0];
    assert_eq!(
        (vi.priority, vi.state, vi.advert_int.as_secs()),
        (100, VrrpState::Backup, 1)
    );
    assert_eq!(vi.virtual_ipaddresses[0].prefix.len, 32);
    assert_eq!(vi.garp_master_delay.as_secs(), 5);
    let rs = &p.config.virtual_servers[0].real_servers[0];
    assert_eq!(rs.weight, 1);
    let [http, dns, misc] = &rs.checkers[..] else {
        panic!("three checkers")
    };
    assert_eq!(
        (http.timing.retry, http.timing.delay_before_retry.as_secs()),
        (1, 3)
    );
    assert_eq!(
        (dns.timing.retry, dns.timing.delay_before_retry.as_secs()),
        (3, 60)
    );
    assert_eq!(misc.timing.retry, 0);
    assert_eq!(http.timing.connect_timeout.as_secs(), 5);
    assert_eq!(http.timing.warmup.as_secs(), 60);
    let CheckerKind::Http(h) = &http.kind else {
        panic!("http")
    };
    assert_eq!(h.urls[0].status_codes, vec![200..=299]);
    let CheckerKind::Misc(m) = &misc.kind else {
        panic!("misc")
    };
    assert_eq!(m.timeout.as_secs(), 60);
}

#[test]
fn priority_255_when_state_master_without_priority() {
    let p = parse_str(
        "t.conf",
        "vrrp_instance V {\nstate MASTER\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\n203.0.113.1\n}\n}\n",
        &opts(),
    );
    assert_eq!(p.config.vrrp_instances[0].priority, 255);
}

#[test]
fn v3_advert_int_keeps_centiseconds() {
    let p = corpus("unicast_v3.conf");
    let vi = &p.config.vrrp_instances[0];
    assert_eq!(vi.version, 3);
    assert_eq!(vi.advert_int.as_millis(), 250);
    assert_eq!(vi.unicast_peers.len(), 2);
}

#[test]
fn braces_and_quotes_on_one_line() {
    let p = parse_str("t.conf", "global_defs { router_id \"a { b\" }\n", &opts());
    assert!(p.diagnostics.is_empty(), "{}", p.render());
    assert_eq!(p.config.global.router_id.as_deref(), Some("a { b"));
}

#[test]
fn missing_file_cannot_run() {
    let (d, code) = check_with(Path::new("/nonexistent/keepalived.conf"), &opts());
    assert_eq!(code, 4);
    assert!(d[0].is_error());
}

#[test]
fn error_rendering_has_position_line_and_caret() {
    let p = parse_str(
        "k.conf",
        "virtual_server 203.0.113.1 80 {\n    delay_loop x1\n}\n",
        &opts(),
    );
    let out = p.render();
    assert!(
        out.starts_with("k.conf:2:16: error: invalid number 'x1'"),
        "{out}"
    );
    assert!(
        out.contains("\n2 |     delay_loop x1\n  |                ^^\n"),
        "{out}"
    );
}

#[test]
fn deep_nesting_is_bounded() {
    let text = "a {\n".repeat(100_000);
    let p = parse_str("deep.conf", &text, &opts());
    assert!(p.has_errors());
    assert!(
        p.render().contains("nested deeper than"),
        "{}",
        &p.render()[..200.min(p.render().len())]
    );
}
