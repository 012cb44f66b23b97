//! Line-oriented VRRP values: VIP lines, route lines, tracked interfaces and scripts.

use crate::cx::{Cx, parse_prefix};
use crate::model::*;
use crate::tree::Stmt;

/// Parses one VIP line.
pub fn vip_line(cx: &mut Cx<'_>, line: &Stmt) -> Option<VirtualIp> {
    let words: Vec<_> = line.words().cloned().collect();
    let first = &words[0];
    let Some(prefix) = parse_prefix(&first.text) else {
        cx.error(
            line.loc,
            format!("VRRP parsed invalid IP {}. skipping IP...", first.text),
        );
        return None;
    };
    let mut vip = VirtualIp {
        prefix,
        broadcast: None,
        dev: None,
        scope: None,
        label: None,
        peer: None,
        no_track: false,
        loc: line.loc,
    };
    let mut i = 1;
    while i < words.len() {
        let w = words[i].text.as_str();
        let val = words.get(i + 1).map(|t| t.text.clone());
        let wloc = line.arg_loc(i - 1);
        let takes_value = matches!(
            w,
            "brd" | "broadcast" | "dev" | "scope" | "label" | "peer" | "preferred_lft"
        );
        if takes_value && val.is_none() {
            cx.error(wloc, format!("'{w}' needs a value in an ip address line"));
            break;
        }
        match w {
            "brd" | "broadcast" => match val.as_deref().and_then(|v| v.parse().ok()) {
                Some(a) => vip.broadcast = Some(a),
                None => cx.error(
                    line.arg_loc(i),
                    format!("invalid broadcast address '{}'", val.unwrap_or_default()),
                ),
            },
            "dev" => vip.dev = val,
            "scope" => {
                let v = val.unwrap_or_default();
                if matches!(v.as_str(), "site" | "link" | "host" | "nowhere" | "global")
                    || v.parse::<u8>().is_ok()
                {
                    vip.scope = Some(v);
                } else {
                    cx.error(
                        line.arg_loc(i),
                        format!(
                            "Invalid scope '{v}' specified for {} - ignoring",
                            first.text
                        ),
                    );
                }
            }
            "label" => vip.label = val,
            "peer" => match val.as_deref().and_then(parse_prefix) {
                Some(p) => vip.peer = Some(p.addr),
                None => cx.error(
                    line.arg_loc(i),
                    format!("invalid peer address '{}'", val.unwrap_or_default()),
                ),
            },
            "preferred_lft" => {}
            "no_track" | "home" | "-nodad" | "nodad" | "noprefixroute" | "autojoin"
            | "mngtmpaddr" | "use_vmac" => {
                if w == "no_track" {
                    vip.no_track = true;
                }
                i += 1;
                continue;
            }
            _ => {
                cx.warn(
                    wloc,
                    format!("Unknown configuration entry '{w}' for ip address - ignoring"),
                );
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Some(vip)
}

/// Parses one `virtual_routes` line.
pub fn route_line(cx: &mut Cx<'_>, line: &Stmt) -> Option<VirtualRoute> {
    let words: Vec<String> = line.words().map(|t| t.text.clone()).collect();
    let mut r = VirtualRoute {
        to: Prefix {
            addr: std::net::Ipv4Addr::UNSPECIFIED.into(),
            len: 0,
        },
        src: None,
        via: None,
        dev: None,
        table: None,
        metric: None,
        kind: None,
        options: Vec::new(),
    };
    let mut have_to = false;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let v = words.get(i + 1).cloned();
        let addr = |v: &Option<String>| v.as_deref().and_then(|s| s.parse().ok());
        match w {
            "src" => r.src = addr(&v),
            "via" | "gw" => r.via = addr(&v),
            "dev" | "oif" => r.dev = v,
            "table" => r.table = v.as_deref().and_then(|s| s.parse().ok()),
            "metric" | "preference" | "priority" => {
                r.metric = v.as_deref().and_then(|s| s.parse().ok())
            }
            "to" => {
                i += 1;
                continue;
            }
            "blackhole" | "unreachable" | "prohibit" | "throw" => {
                r.kind = Some(w.to_string());
                i += 1;
                continue;
            }
            "no_track" | "onlink" => {
                r.options.push(w.to_string());
                i += 1;
                continue;
            }
            _ if !have_to && parse_prefix(w).is_some() => {
                r.to = parse_prefix(w).expect("checked");
                have_to = true;
                i += 1;
                continue;
            }
            _ => {
                r.options.push(w.to_string());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    if !have_to {
        cx.error(line.loc, "virtual route without a destination prefix");
        return None;
    }
    Some(r)
}

/// `weight N [reverse|noreverse]` after a tracked name.
pub fn weight_tail(cx: &mut Cx<'_>, line: &Stmt) -> (Option<i32>, bool) {
    let mut weight = None;
    let mut reverse = false;
    let mut i = 0;
    while let Some(w) = line.arg(i).map(|t| t.text.clone()) {
        match w.as_str() {
            "weight" => {
                weight = cx.int(line, i + 1, -253, 253).map(|v| v as i32);
                i += 2;
            }
            "reverse" => {
                reverse = true;
                i += 1;
            }
            "noreverse" => i += 1,
            _ => {
                cx.warn(
                    line.arg_loc(i),
                    format!("Unknown option '{w}' for '{}'", line.name()),
                );
                i += 1;
            }
        }
    }
    (weight, reverse)
}

/// `track_interface { IF [weight N [reverse]] }`.
pub fn track_interfaces(cx: &mut Cx<'_>, st: &Stmt) -> Vec<TrackInterface> {
    let mut out = Vec::new();
    for l in cx.body(st) {
        let (w, reverse) = weight_tail(cx, l);
        out.push(TrackInterface {
            name: l.name().to_string(),
            weight: w.unwrap_or(0),
            reverse,
        });
    }
    out
}

/// `track_script { NAME [weight N [reverse]] }`.
pub fn track_scripts(cx: &mut Cx<'_>, st: &Stmt) -> Vec<TrackScript> {
    let mut out = Vec::new();
    for l in cx.body(st) {
        let (weight, reverse) = weight_tail(cx, l);
        out.push(TrackScript {
            name: l.name().to_string(),
            weight,
            reverse,
        });
    }
    out
}
