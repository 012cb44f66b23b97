//! rvs: lab, real-server set-up, demo and benchmarks for the Rust Virtual Server.

fn main() {}
