//! keepalived.conf lexer, parser, typed configuration and diagnostics.
//!
//! The grammar is keepalived 2.2.7's (lib/parser.c), reproduced from its behaviour:
//! `!`/`#` comments, `"…"` words, `{`/`}` anywhere on a line (each line is split at its
//! first brace), `include`/`includer`… with globs and `{a,b}` lists relative to the
//! including file, `@ID`/`@^ID` conditional lines, `$NAME=VALUE` parameters (multi-line
//! with a trailing `\`) expanded as `$NAME` or `${NAME}`, and loop lines that repeat the
//! rest of their line once per value with the loop variable defined as a parameter:
//! `~SEQ(var, start, step, end)`, `~SEQ(var, start, end)` (step ±1), `~SEQ(var, end)`
//! (from 1, or -1 counting down), `~SEQx(…)` (values in hex), `~LST(var, v1, v2, …)` and
//! `~LST({a,b}, {1,2}, {3,4}, …)` (missing values are blank). Loops nest on one line
//! (the innermost runs first), numbers may be parameters and are read like C's `strtol`
//! (`010` is octal), the variable keeps its last value after the loop, and a bad loop
//! is an error pointing at the fault. Unlike keepalived, a line may not repeat into more
//! than 100000 lines, nor nest loops more than 32 deep (keepalived would run out of
//! memory or loop forever).
//!
//! Diagnostics carry our [`Severity`] (errors stop rvs-keepalived) and keepalived's
//! [`KaClass`], from which [`check`] computes the exit code `keepalived -t` gives.
//! Unlike keepalived, a block nested where it does not belong (the classic
//! `virtual_server` inside `vrrp_instance`) gives one error with the fix, not a cascade
//! of "Unknown keyword" lines, and is skipped as a whole.
//!
//! Nothing here panics on any input; the fuzz test in `tests/` holds us to that.

mod build_check;
mod build_global;
mod build_lvs;
mod build_vrrp;
mod cx;
pub mod diag;
pub mod lexer;
mod loops;
pub mod model;
mod model_lvs;
mod model_vrrp;
mod parse;
pub mod reader;
pub mod source;
pub mod tree;
mod validate_lvs;
mod validate_vrrp;
mod vrrp_lines;

use std::path::Path;

pub use diag::{Diagnostic, KaClass, Severity, Span, exit_code};
pub use model::*;
pub use parse::{CheckOptions, Parsed, parse_file, parse_str};

/// `keepalived -t` for `path` with this host's config-id and interfaces:
/// the diagnostics and the exit code (0 ok, 4 cannot run, 5 errors, 6 script security).
///
/// One deliberate difference: a missing main file gives 4 (keepalived 2.2.7 exits 0).
pub fn check(path: &Path) -> (Vec<Diagnostic>, i32) {
    check_with(path, &CheckOptions::from_system())
}

/// [`check`] with explicit options (config-id, known interfaces).
pub fn check_with(path: &Path, opts: &CheckOptions) -> (Vec<Diagnostic>, i32) {
    let p = parse_file(path, opts);
    let code = p.exit_code();
    (p.diagnostics, code)
}
