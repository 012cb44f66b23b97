//! Builds the real server's XDP decapsulation program (bpf/tun_decap.bpf.c) with clang.
//!
//! `CLANG` overrides the compiler (default `clang-19`). Needs the Debian packages clang-19 and
//! libbpf-dev (for <bpf/bpf_helpers.h>).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "bpf/tun_decap.bpf.c";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=CLANG");
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang-19".to_string());
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("tun_decap.bpf.o");
    let status = Command::new(&clang)
        .args(["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
        .args(["-I/usr/include/x86_64-linux-gnu", "-c", src, "-o"])
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`{clang}` failed to compile {src} ({s}); if <bpf/bpf_helpers.h> or <linux/bpf.h> is \
             missing, install the Debian packages libbpf-dev and linux-libc-dev"
        ),
        Err(e) => panic!(
            "cannot run `{clang}` to build {src}: {e}; install the Debian packages clang-19 and \
             libbpf-dev, or set CLANG to a clang that targets BPF"
        ),
    }
}
