//! The command line, with keepalived's option names, short forms and defaults.
//!
//! keepalived parses with getopt_long: short options may be bundled (`-nlD`), values may be
//! attached (`-fFILE`, `--use-file=FILE`) or follow (`-f FILE`); `-t` takes its file only
//! attached (`-tFILE`, `--config-test=FILE`). The same rules apply here.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

/// keepalived's default configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

/// Our default main PID file. Not keepalived's `/run/keepalived.pid`, so that rvs-keepalived
/// and a real keepalived on one host never overwrite each other's PID file.
pub const DEFAULT_PID_FILE: &str = "/run/rvs-keepalived.pid";

/// keepalived's exit codes (2.2.7 `enum exit_code`).
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Out of memory (never returned by us; listed for completeness).
    pub const NO_MEMORY: i32 = 1;
    /// Internal error.
    pub const PROGRAM_ERROR: i32 = 2;
    /// Cannot initialise (bad command line, cannot daemonise, cannot write the PID file).
    pub const FATAL: i32 = 3;
    /// The configuration cannot be run (missing file, bad interface, errors).
    pub const CONFIG: i32 = 4;
    /// `-t`: configuration errors keepalived would fix up and run with.
    pub const CONFIG_TEST: i32 = 5;
    /// `-t`: scripts configured without `enable_script_security`.
    pub const CONFIG_TEST_SECURITY: i32 = 6;
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the daemon.
    Run(Options),
    /// `-t`: check the configuration, print diagnostics (to FILE if given), exit.
    ConfigTest {
        /// The options (for `-f`).
        options: Options,
        /// Where diagnostics go (stderr if None).
        output: Option<PathBuf>,
    },
    /// `-v`.
    Version,
    /// `-h`.
    Help,
}

/// Daemon options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-f, --use-file`.
    pub config: PathBuf,
    /// `-n, --dont-fork`.
    pub dont_fork: bool,
    /// `-D, --log-detail`.
    pub log_detail: bool,
    /// `-l, --log-console`.
    pub log_console: bool,
    /// `-S, --log-facility` as a syslog facility number (default daemon = 3).
    pub log_facility: u8,
    /// `-g, --log-file`.
    pub log_file: Option<PathBuf>,
    /// `-G, --no-syslog`.
    pub no_syslog: bool,
    /// `-P, --vrrp`: only the VRRP subsystem.
    pub vrrp_only: bool,
    /// `-C, --check`: only the health-check / LVS subsystem.
    pub check_only: bool,
    /// `-p, --pid`.
    pub pid_file: PathBuf,
    /// `-r, --vrrp_pid` (we run one process: it gets the same PID).
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-c, --checkers_pid` (likewise).
    pub checkers_pid_file: Option<PathBuf>,
    /// `-I, --dont-release-ipvs`: leave the services in rvsd on exit.
    pub dont_release_ipvs: bool,
    /// `-V, --dont-release-vrrp`: leave the VIPs on exit.
    pub dont_release_vrrp: bool,
    /// `-i, --config-id`.
    pub config_id: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: PathBuf::from(DEFAULT_CONFIG),
            dont_fork: false,
            log_detail: false,
            log_console: false,
            log_facility: 3,
            log_file: None,
            no_syslog: false,
            vrrp_only: false,
            check_only: false,
            pid_file: PathBuf::from(DEFAULT_PID_FILE),
            vrrp_pid_file: None,
            checkers_pid_file: None,
            dont_release_ipvs: false,
            dont_release_vrrp: false,
            config_id: None,
        }
    }
}

/// The `-h` text.
pub const USAGE: &str = "\
Usage: rvs-keepalived [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -l, --log-console            Log messages to local console
  -D, --log-detail             Detailed log messages
  -S, --log-facility=[0-7]     Set syslog facility to LOG_LOCAL[0-7] (or local0-7, daemon, user)
  -g, --log-file=FILE          Also log to FILE
  -G, --no-syslog              Don't log via syslog
  -V, --dont-release-vrrp      Don't remove VRRP VIPs on daemon stop
  -I, --dont-release-ipvs      Don't remove the services from rvsd on daemon stop
  -R, --dont-respawn           Accepted for compatibility (one process, nothing to respawn)
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Accepted for compatibility
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Also write the PID to FILE (VRRP runs in the same process)
  -c, --checkers_pid=FILE      Also write the PID to FILE (checkers run in the same process)
  -i, --config-id ID           Skip any configuration lines beginning '@' that don't match ID
  -t, --config-test[=FILE]     Check the configuration for obvious errors, output to
                               stderr by default
  -v, --version                Display the version number
  -h, --help                   Display this help message

rvs-keepalived programs rvsd over its control socket ($RVS_SOCKET, default /run/rvs/rvsd.sock).
";

/// A command-line error (exit code [`exit::FATAL`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn facility(v: &str) -> Result<u8, UsageError> {
    let n = match v {
        "daemon" => 3,
        "user" => 1,
        _ => {
            let digit = v.strip_prefix("local").unwrap_or(v);
            match digit.parse::<u8>() {
                Ok(d) if d <= 7 => 16 + d,
                _ => return Err(UsageError(format!("Invalid log facility '{v}'"))),
            }
        }
    };
    Ok(n)
}

/// Parses `args` (without the program name).
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut p = lexopt::Parser::from_args(args);
    let mut o = Options::default();
    let mut test: Option<Option<PathBuf>> = None;
    let err = |e: lexopt::Error| UsageError(e.to_string());
    let path = |p: &mut lexopt::Parser| -> Result<PathBuf, UsageError> {
        p.value().map(PathBuf::from).map_err(err)
    };
    while let Some(arg) = p.next().map_err(err)? {
        match arg {
            Short('f') | Long("use-file") => o.config = path(&mut p)?,
            Short('n') | Long("dont-fork") => o.dont_fork = true,
            Short('D') | Long("log-detail") => o.log_detail = true,
            Short('l') | Long("log-console") => o.log_console = true,
            Short('S') | Long("log-facility") => {
                let v = p.value().map_err(err)?;
                o.log_facility = facility(&v.string().map_err(err)?)?;
            }
            Short('g') | Long("log-file") => o.log_file = Some(path(&mut p)?),
            Short('G') | Long("no-syslog") => o.no_syslog = true,
            Short('P') | Long("vrrp") => o.vrrp_only = true,
            Short('C') | Long("check") => o.check_only = true,
            Short('p') | Long("pid") => o.pid_file = path(&mut p)?,
            Short('r') | Long("vrrp_pid") => o.vrrp_pid_file = Some(path(&mut p)?),
            Short('c') | Long("checkers_pid") => o.checkers_pid_file = Some(path(&mut p)?),
            Short('I') | Long("dont-release-ipvs") => o.dont_release_ipvs = true,
            Short('V') | Long("dont-release-vrrp") => o.dont_release_vrrp = true,
            Short('i') | Long("config-id") => {
                o.config_id = Some(p.value().map_err(err)?.string().map_err(err)?)
            }
            Short('R') | Long("dont-respawn") | Short('d') | Long("dump-conf") | Short('B')
            | Long("no_bfd") => {}
            Short('t') | Long("config-test") => {
                test = Some(p.optional_value().map(PathBuf::from));
            }
            Short('v') | Long("version") => return Ok(Command::Version),
            Short('h') | Long("help") => return Ok(Command::Help),
            other => return Err(UsageError(other.unexpected().to_string())),
        }
    }
    if o.vrrp_only && o.check_only {
        // keepalived runs both subsystems when both are asked for.
        o.vrrp_only = false;
        o.check_only = false;
    }
    Ok(match test {
        Some(output) => Command::ConfigTest { options: o, output },
        None => Command::Run(o),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args.iter().copied()) {
            Ok(Command::Run(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_keepalived_s() {
        let o = run(&[]);
        assert_eq!(o.config, PathBuf::from(DEFAULT_CONFIG));
        assert!(!o.dont_fork && !o.log_console && !o.vrrp_only && !o.check_only);
        assert_eq!(o.log_facility, 3);
    }

    #[test]
    fn bundled_attached_and_long_forms() {
        let o = run(&[
            "-nlD",
            "-f/tmp/k.conf",
            "--pid=/tmp/p",
            "-r",
            "/tmp/r",
            "-S",
            "local2",
        ]);
        assert!(o.dont_fork && o.log_console && o.log_detail);
        assert_eq!(o.config, PathBuf::from("/tmp/k.conf"));
        assert_eq!(o.pid_file, PathBuf::from("/tmp/p"));
        assert_eq!(o.vrrp_pid_file, Some(PathBuf::from("/tmp/r")));
        assert_eq!(o.log_facility, 18);
        let o = run(&["--use-file", "/x", "--vrrp", "--checkers_pid", "/c"]);
        assert_eq!(o.config, PathBuf::from("/x"));
        assert!(o.vrrp_only);
        assert_eq!(o.checkers_pid_file, Some(PathBuf::from("/c")));
    }

    #[test]
    fn config_test_takes_only_an_attached_file() {
        match parse(["-t", "-f", "/a"]) {
            Ok(Command::ConfigTest { options, output }) => {
                assert_eq!(options.config, PathBuf::from("/a"));
                assert_eq!(output, None);
            }
            other => panic!("{other:?}"),
        }
        match parse(["--config-test=/out", "-f/a"]) {
            Ok(Command::ConfigTest { output, .. }) => {
                assert_eq!(output, Some(PathBuf::from("/out")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_subsystem_flags_mean_both() {
        let o = run(&["-P", "-C"]);
        assert!(!o.vrrp_only && !o.check_only);
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert!(parse(["-Z"]).is_err());
        assert!(parse(["-f"]).is_err());
        assert!(parse(["-S", "local9"]).is_err());
        assert!(parse(["stray"]).is_err());
        assert_eq!(parse(["-v"]), Ok(Command::Version));
        assert_eq!(parse(["--help"]), Ok(Command::Help));
    }
}
