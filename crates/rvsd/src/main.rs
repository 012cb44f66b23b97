//! rvsd: the Rust Virtual Server director daemon.

fn main() {}
