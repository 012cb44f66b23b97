//! rvs-keepalived: VRRP and health checks driven by keepalived.conf, programming rvsd.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use rvs_keepalived::cli::{self, Command, exit};
use rvs_keepalived::daemon;

fn code(c: i32) -> ExitCode {
    ExitCode::from(u8::try_from(c).unwrap_or(1))
}

/// `-t`: diagnostics to stderr (or the file given) and keepalived's exit code.
fn config_test(options: &cli::Options, output: Option<&std::path::Path>) -> i32 {
    let parsed = daemon::load(options);
    let text = parsed.render();
    match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("rvs-keepalived: cannot write {}: {e}", path.display());
                return exit::FATAL;
            }
        }
        None => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
    parsed.exit_code()
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match cli::parse(args.clone()) {
        Err(e) => {
            eprintln!("rvs-keepalived: {e}\n\n{}", cli::USAGE);
            code(exit::FATAL)
        }
        Ok(Command::Version) => {
            println!(
                "rvs-keepalived {} (keepalived 2.2.7 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            code(exit::OK)
        }
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            code(exit::OK)
        }
        Ok(Command::ConfigTest { options, output }) => {
            code(config_test(&options, output.as_deref()))
        }
        Ok(Command::Run(options)) => code(daemon::run(options, &args)),
    }
}
