//! rvsadm: the ipvsadm-compatible command line for rvsd.

fn main() {}
