//! Fuzz `Director::process`: any byte string, cut into frames, through a director with the
//! sample configuration (NAT, DR, TUN, both families). It must never panic, and every
//! forwarded frame must lie inside the buffer.
//!
//! Seeds: `corpus/process/` (replayed by `cargo test -p rvs-core --test fuzz_corpus`).
//! Run: `cargo fuzz run process corpus/process` (nightly) or build on stable with
//! `cargo build` and run `target/debug/process corpus/process`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rvs_core::director::sample::{run_frames, sample_director};

fuzz_target!(|data: &[u8]| {
    let mut director = sample_director();
    run_frames(&mut director, data);
});
