//! Every error message of ipvsadm (reference §1.3–§1.8) with its exit code, as golden
//! transcripts (the cases are in `common/cases.rs`; `live_rvsd` runs them against a real
//! rvsd); also the usage text, the version line and the "Try ... -h" hint.

mod common;

use std::io;

use common::cases::{USAGE, USAGE_GOLDEN, USAGE_PROGS, named};
use common::{Harness, golden, transcript};
use rvs_api::Transport;
use rvsadm::{Context, TableNames, run};

fn case(golden: &str) {
    named(golden).check(&mut Harness::from_env());
}

#[test]
fn usage_and_version() {
    let mut t = String::new();
    for prog in USAGE_PROGS {
        let mut h = Harness::memory();
        h.prog = prog.into();
        t.push_str(&transcript(&mut h, USAGE));
    }
    golden(USAGE_GOLDEN, &t);
}

#[test]
fn command_line_errors() {
    case("errors/parse.txt");
}

#[test]
fn operation_errors() {
    case("errors/operations.txt");
}

#[test]
fn every_error_case_has_a_test() {
    let names: Vec<&str> = common::cases::errors().iter().map(|c| c.golden).collect();
    assert_eq!(names, ["errors/parse.txt", "errors/operations.txt"]);
}

#[test]
fn rvsd_unreachable() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input: &[u8] = b"";
    let names = TableNames::new("", "");
    let mut connect = || -> io::Result<Box<dyn Transport>> { Err(io::Error::from_raw_os_error(2)) };
    let argv: Vec<String> = ["rvsadm", "-L", "-n"].map(String::from).to_vec();
    let code = {
        let mut ctx = Context::new(
            &mut out,
            &mut err,
            &mut input,
            &names,
            "/run/rvs/rvsd.sock",
            &mut connect,
        );
        run(&mut ctx, &argv)
    };
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "Can't initialize ipvs: No such file or directory\n\
         Are you sure that rvsd is running (control socket /run/rvs/rvsd.sock)?\n"
    );
}
