//! Golden transcripts of whole rvsadm sessions (the cases are in `common/cases.rs`). They
//! run against the in-memory backend, or against a real rvsd when `RVSADM_TEST_SOCKET` names
//! its socket (the table is cleared first); `live_rvsd` runs them against an rvsd it starts.

mod common;

use common::Harness;
use common::cases::named;

fn case(golden: &str) {
    named(golden).check(&mut Harness::from_env());
}

#[test]
fn list_formats() {
    case("cli/list.txt");
}

#[test]
fn save_and_restore() {
    case("cli/save_restore.txt");
}

#[test]
fn edit_and_delete() {
    case("cli/edit_delete.txt");
}

#[test]
fn timeouts_daemon_zero() {
    case("cli/timeouts.txt");
}

#[test]
fn every_cli_case_has_a_test() {
    let names: Vec<&str> = common::cases::cli().iter().map(|c| c.golden).collect();
    assert_eq!(
        names,
        [
            "cli/list.txt",
            "cli/save_restore.txt",
            "cli/edit_delete.txt",
            "cli/timeouts.txt"
        ]
    );
}
