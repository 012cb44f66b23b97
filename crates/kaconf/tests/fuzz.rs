//! Random input never panics the reader, lexer, tree builder or typed builders.

use proptest::prelude::*;
use rvs_kaconf::{CheckOptions, parse_str};

const WORDS: &[&str] = &[
    "{",
    "}",
    "\"",
    "!",
    "#",
    "\\",
    "$X=",
    "$X",
    "${X}",
    "@lb1 ",
    "@^lb1 ",
    "include ",
    "vrrp_instance",
    "virtual_server",
    "real_server",
    "TCP_CHECK",
    "HTTP_GET",
    "url",
    "path",
    "virtual_ipaddress",
    "203.0.113.1/24",
    "2001:db8::1",
    "80",
    "weight",
    "-3",
    "0.5",
    "priority",
    "state",
    "MASTER",
    "\n",
    " ",
    "\t",
    "virtual_server_group",
    "fwmark",
    "group",
    "authentication",
    "auth_pass",
    "lb_kind",
    "TUN",
    "type",
    "gue",
    "port",
    "status_code",
    "200-299",
    "digest",
    "~SEQ",
    "$A=$A",
    "$M=a \\",
    "track_script",
    "vrrp_script",
    "script",
    "vrrp_sync_group",
    "global_defs",
    "persistence_timeout",
    "~LST",
    "~SEQx",
    "(",
    ")",
    ",",
    "~SEQ(i,1,3)",
    "~SEQ(i, 5, -2, 0)",
    "~SEQx(i, 0x0, 0xa)",
    "~SEQ(i,",
    "~LST({a,b},{1,2},3)",
    "~LST(a, x, {y})",
    "~LST({a",
    "$i",
    "${a}",
    "~SEQ(i,$X)",
    "$L=~SEQ(i,1,2) $L",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let p = parse_str("/nonexistent-dir/fuzz.conf", &text, &CheckOptions::default());
        let _ = p.render();
        let _ = p.exit_code();
    }

    #[test]
    fn random_keyword_soup_never_panics(idx in proptest::collection::vec(0..WORDS.len(), 0..120)) {
        let text: String = idx.iter().map(|&i| WORDS[i]).collect::<Vec<_>>().join(" ");
        let p = parse_str("/nonexistent-dir/fuzz.conf", &text, &CheckOptions { config_id: Some("lb1".into()), interfaces: None });
        let _ = p.render();
    }
}
