//! Compiles the XDP steering program (bpf/steer.bpf.c, with the fast path in
//! bpf/fastpath.h) and the redirect-error counter (bpf/xmit_err.bpf.c) with clang into
//! OUT_DIR.
//!
//! `CLANG` overrides the compiler; otherwise `clang-19`, then `clang`, is used.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const SOURCES: [(&str, &str); 2] = [
    ("bpf/steer.bpf.c", "steer.bpf.o"),
    ("bpf/xmit_err.bpf.c", "xmit_err.bpf.o"),
];
const HEADERS: [&str; 1] = ["bpf/fastpath.h"];

fn main() {
    for (src, _) in SOURCES {
        println!("cargo:rerun-if-changed={src}");
    }
    for h in HEADERS {
        println!("cargo:rerun-if-changed={h}");
    }
    println!("cargo:rerun-if-env-changed=CLANG");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

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
            "rvs-dataplane needs clang to build its XDP programs ({SOURCES:?}); tried {candidates:?}. \
             On Debian: apt-get install -y clang-19 libbpf-dev (or set CLANG=/path/to/clang)"
        );
    };

    for (src, obj) in SOURCES {
        let out = out_dir.join(obj);
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
            .arg(src)
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap_or_else(|e| panic!("running {clang}: {e}"));
        if !status.success() {
            panic!(
                "{clang} failed to compile {src} ({status}); it needs the libbpf headers: \
                 apt-get install -y clang-19 libbpf-dev"
            );
        }
    }
}
