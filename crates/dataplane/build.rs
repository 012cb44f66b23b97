//! Compiles the XDP steering program (bpf/steer.bpf.c) with clang into OUT_DIR/steer.bpf.o.
//!
//! `CLANG` overrides the compiler; otherwise `clang-19`, then `clang`, is used.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "bpf/steer.bpf.c";

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-env-changed=CLANG");
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("steer.bpf.o");

    let candidates: Vec<String> = match env::var("CLANG") {
        Ok(c) if !c.is_empty() => vec![c],
        _ => vec!["clang-19".into(), "clang".into()],
    };
    let clang = candidates.iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    let Some(clang) = clang else {
        panic!(
            "rvs-dataplane needs clang to build its XDP program ({SOURCE}); tried {candidates:?}. \
             On Debian: apt-get install -y clang-19 libbpf-dev (or set CLANG=/path/to/clang)"
        );
    };

    let status = Command::new(clang)
        .args([
            "-O2",
            "-g",
            "-target",
            "bpf",
            "-I/usr/include/x86_64-linux-gnu",
            "-Wall",
            "-c",
        ])
        .arg(SOURCE)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("running {clang}: {e}"));
    if !status.success() {
        panic!(
            "{clang} failed to compile {SOURCE} ({status}); it needs the libbpf headers: \
             apt-get install -y clang-19 libbpf-dev"
        );
    }
}
