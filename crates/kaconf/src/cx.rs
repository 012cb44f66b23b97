//! The builder context: diagnostics with positions, and the value readers every block uses
//! (numbers, timers, booleans, addresses, scripts), worded like keepalived's messages.

use std::net::IpAddr;
use std::time::Duration;

use crate::diag::{Diagnostics, KaClass, Severity};
use crate::model::{Prefix, Script};
use crate::source::SourceFile;
use crate::tree::{self, Loc, Stmt};

/// Top-level keywords: a block with one of these names inside another block is misplaced.
pub const TOP_LEVEL: &[&str] = &[
    "global_defs",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "linkbeat_interfaces",
    "track_group",
    "track_file",
    "vrrp_track_file",
    "vrrp_track_process",
    "bfd_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "garp_group",
    "vrrp_instance",
    "virtual_server_group",
    "virtual_server",
    "SSL",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "child_wait_time",
    "interface_up_down_delays",
];

/// Shared state while turning statements into typed configuration.
pub struct Cx<'a> {
    /// Files, for positions.
    pub sources: &'a [SourceFile],
    /// Output.
    pub diags: &'a mut Diagnostics,
}

impl Cx<'_> {
    /// Reports at a location.
    pub fn report(
        &mut self,
        sev: Severity,
        class: KaClass,
        loc: Loc,
        msg: impl Into<String>,
        help: Option<String>,
    ) {
        tree::report(self.diags, self.sources, sev, class, loc, msg.into(), help);
    }

    /// An error that stops rvs-keepalived (keepalived: a config error it fixes up).
    pub fn error(&mut self, loc: Loc, msg: impl Into<String>) {
        self.report(Severity::Error, KaClass::Config, loc, msg, None);
    }

    /// A warning keepalived also reports (exit 5 with `-t`).
    pub fn warn(&mut self, loc: Loc, msg: impl Into<String>) {
        self.report(Severity::Warning, KaClass::Config, loc, msg, None);
    }

    /// A note of ours that keepalived would not print.
    pub fn note(&mut self, loc: Loc, msg: impl Into<String>) {
        self.report(Severity::Note, KaClass::Silent, loc, msg, None);
    }

    /// Unknown keyword in block `ctx` (`""` = top level). Misplaced top-level blocks get one error.
    pub fn unknown(&mut self, st: &Stmt, ctx: &str, parent: Option<&Stmt>) {
        let name = st.name();
        if !ctx.is_empty() && TOP_LEVEL.contains(&name) {
            let what = std::iter::once(name)
                .chain(st.args.iter().map(|a| a.text.as_str()))
                .collect::<Vec<_>>()
                .join(" ");
            let (pname, close) = match parent {
                Some(p) => (
                    std::iter::once(p.name())
                        .chain(p.args.iter().map(|a| a.text.as_str()))
                        .collect::<Vec<_>>()
                        .join(" "),
                    p.block.as_ref().map(|b| b.close.line),
                ),
                None => (ctx.to_string(), None),
            };
            let end = st
                .block
                .as_ref()
                .map(|b| b.close.line)
                .unwrap_or(st.loc.line);
            let help = match close {
                Some(l) => format!(
                    "move the whole '{what}' block (lines {}-{end}) to the top level, after the '}}' on line {l} that closes '{pname}'",
                    st.loc.line
                ),
                None => {
                    format!("move the whole '{what}' block to the top level, outside '{pname}'")
                }
            };
            self.report(
                Severity::Error,
                KaClass::Config,
                st.loc,
                format!("'{name}' is a top-level block and cannot be nested inside '{ctx}'; keepalived ignores it and everything in it"),
                Some(help),
            );
            return;
        }
        let msg = if name == "}" {
            "Unknown keyword '}'".to_string()
        } else if ctx.is_empty() {
            format!("Unknown keyword '{name}'")
        } else {
            format!("Unknown keyword '{name}' in '{ctx}'")
        };
        let help = st
            .block
            .as_ref()
            .map(|_| "the whole block is ignored".to_string());
        self.report(Severity::Warning, KaClass::Config, st.loc, msg, help);
    }

    /// Complains if a value keyword has a block or a block keyword lacks one; returns the body.
    pub fn body<'s>(&mut self, st: &'s Stmt) -> &'s [Stmt] {
        match &st.block {
            Some(b) => &b.body,
            None => {
                self.report(
                    Severity::Error,
                    KaClass::Config,
                    st.loc,
                    format!(
                        "Missing '{{' at beginning of configuration block '{}'",
                        st.name()
                    ),
                    Some("add '{' after the keyword and '}' after the block's lines".into()),
                );
                &[]
            }
        }
    }

    /// Argument `i` as text, or an error naming the keyword.
    pub fn text(&mut self, st: &Stmt, i: usize) -> Option<String> {
        match st.arg(i) {
            Some(t) => Some(t.text.clone()),
            None => {
                self.error(st.loc, format!("'{}' needs a value", st.name()));
                None
            }
        }
    }

    /// Argument `i` as an unsigned number in `min..=max`.
    pub fn uint(&mut self, st: &Stmt, i: usize, min: u64, max: u64) -> Option<u64> {
        let t = st.arg(i)?.text.clone();
        let loc = st.arg_loc(i);
        match parse_uint(&t) {
            None => {
                self.error(loc, format!("invalid number '{t}' for '{}'", st.name()));
                None
            }
            Some(v) if v < min || v > max => {
                self.error(
                    loc,
                    format!(
                        "number '{t}' outside range [{min}, {max}] for '{}'",
                        st.name()
                    ),
                );
                None
            }
            Some(v) => Some(v),
        }
    }

    /// Like [`Cx::uint`] but reports a missing value.
    pub fn need_uint(&mut self, st: &Stmt, i: usize, min: u64, max: u64) -> Option<u64> {
        if st.arg(i).is_none() {
            self.error(st.loc, format!("'{}' needs a number", st.name()));
            return None;
        }
        self.uint(st, i, min, max)
    }

    /// Argument `i` as a signed number in `min..=max`.
    pub fn int(&mut self, st: &Stmt, i: usize, min: i64, max: i64) -> Option<i64> {
        let Some(t) = st.arg(i).map(|t| t.text.clone()) else {
            self.error(st.loc, format!("'{}' needs a number", st.name()));
            return None;
        };
        let loc = st.arg_loc(i);
        let v = match t.strip_prefix('-') {
            Some(r) => parse_uint(r)
                .and_then(|v| i64::try_from(v).ok())
                .map(|v| -v),
            None => {
                parse_uint(t.strip_prefix('+').unwrap_or(&t)).and_then(|v| i64::try_from(v).ok())
            }
        };
        match v {
            None => {
                self.error(loc, format!("invalid number '{t}' for '{}'", st.name()));
                None
            }
            Some(v) if v < min || v > max => {
                self.error(
                    loc,
                    format!(
                        "number '{t}' outside range [{min}, {max}] for '{}'",
                        st.name()
                    ),
                );
                None
            }
            Some(v) => Some(v),
        }
    }

    /// Argument `i` as a timer in seconds (fractions allowed, µs resolution), at most `max_s`.
    pub fn timer(&mut self, st: &Stmt, i: usize, max_s: u64) -> Option<Duration> {
        let Some(t) = st.arg(i).map(|t| t.text.clone()) else {
            self.error(st.loc, format!("'{}' needs a time in seconds", st.name()));
            return None;
        };
        match parse_timer(&t) {
            Some(d) if d.as_secs() <= max_s => Some(d),
            Some(_) => {
                self.error(
                    st.arg_loc(i),
                    format!("'{t}' is more than {max_s} seconds for '{}'", st.name()),
                );
                None
            }
            None => {
                self.error(
                    st.arg_loc(i),
                    format!(
                        "invalid number '{t}' for '{}' (seconds expected)",
                        st.name()
                    ),
                );
                None
            }
        }
    }

    /// A boolean keyword: bare means true, else on|off|true|false|yes|no.
    pub fn flag(&mut self, st: &Stmt) -> bool {
        match st.arg(0).map(|t| t.text.as_str()) {
            None => true,
            Some("on" | "true" | "yes") => true,
            Some("off" | "false" | "no") => false,
            Some(other) => {
                let other = other.to_string();
                self.error(
                    st.arg_loc(0),
                    format!(
                        "invalid boolean '{other}' for '{}' (on|off|true|false|yes|no)",
                        st.name()
                    ),
                );
                true
            }
        }
    }

    /// Argument `i` as an IP address.
    pub fn ip(&mut self, st: &Stmt, i: usize) -> Option<IpAddr> {
        let Some(t) = st.arg(i).map(|t| t.text.clone()) else {
            self.error(st.loc, format!("'{}' needs an IP address", st.name()));
            return None;
        };
        match t.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    st.arg_loc(i),
                    format!("invalid IP address '{t}' for '{}'", st.name()),
                );
                None
            }
        }
    }

    /// Argument `i` as a port (0..65535).
    pub fn port(&mut self, st: &Stmt, i: usize) -> Option<u16> {
        self.uint(st, i, 0, 65535).map(|v| v as u16)
    }

    /// A script keyword: `KEYWORD "command args" [user [group]]`.
    pub fn script(&mut self, st: &Stmt) -> Option<Script> {
        let cmd = self.text(st, 0)?;
        let argv = split_command(&cmd);
        if argv.is_empty() {
            self.error(st.arg_loc(0), format!("'{}' needs a command", st.name()));
            return None;
        }
        Some(Script {
            command: cmd,
            argv,
            user: st.arg(1).map(|t| t.text.clone()),
            group: st.arg(2).map(|t| t.text.clone()),
        })
    }

    /// `user USER [GROUP]`.
    pub fn user(&mut self, st: &Stmt) -> Option<(String, Option<String>)> {
        let u = self.text(st, 0)?;
        Some((u, st.arg(1).map(|t| t.text.clone())))
    }
}

/// Parses a decimal unsigned number the way strtoul-with-checks does (no sign, no junk).
pub fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses seconds with up to 6 decimals (`1`, `0.5`, `2.25`).
pub fn parse_timer(s: &str) -> Option<Duration> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if (int.is_empty() && frac.is_empty()) || frac.len() > 6 {
        return None;
    }
    let secs = if int.is_empty() { 0 } else { parse_uint(int)? };
    let micros = if frac.is_empty() {
        0
    } else {
        let v = parse_uint(frac)?;
        v * 10u64.pow(6 - frac.len() as u32)
    };
    let total = secs.checked_mul(1_000_000)?.checked_add(micros)?;
    Some(Duration::from_micros(total))
}

/// Parses `ADDR[/LEN]`.
pub fn parse_prefix(s: &str) -> Option<Prefix> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        Some(l) => {
            let v = parse_uint(l)?;
            if v > max {
                return None;
            }
            v as u8
        }
        None => max as u8,
    };
    Some(Prefix { addr, len })
}

/// Splits a script command into argv: blanks separate; `"…"`/`'…'` group; `\` escapes.
pub fn split_command(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    have = true;
                }
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                have = true;
            }
            (None, ' ' | '\t') => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            (None, c) => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers() {
        assert_eq!(parse_timer("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_timer("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse_timer(".5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_timer("sixty"), None);
        assert_eq!(parse_timer("-1"), None);
    }

    #[test]
    fn prefixes() {
        assert_eq!(parse_prefix("203.0.113.10/24").map(|p| p.len), Some(24));
        assert_eq!(parse_prefix("2001:db8::1").map(|p| p.len), Some(128));
        assert_eq!(parse_prefix("203.0.113.300/24"), None);
        assert_eq!(parse_prefix("203.0.113.3/33"), None);
    }

    #[test]
    fn command_split() {
        assert_eq!(
            split_command("/bin/x 'a b' \"c\" d\\ e"),
            ["/bin/x", "a b", "c", "d e"]
        );
    }
}
