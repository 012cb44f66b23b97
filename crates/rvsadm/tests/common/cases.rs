//! The scripted sessions behind the golden transcripts under `tests/golden/cli/` and
//! `tests/golden/errors/`, shared by the in-memory runs (`cli_golden`, `errors_golden`) and
//! the run against a live rvsd (`live_rvsd`), so both check the same snapshots.

use super::{Harness, Step, cmd, golden, golden_matches, transcript, with_input};

/// One golden session.
pub struct Case {
    /// The golden file, relative to `tests/golden/`.
    pub golden: &'static str,
    /// Steps run first and left out of the transcript.
    pub setup: Vec<Step<'static>>,
    /// The steps whose transcript is the snapshot.
    pub steps: Vec<Step<'static>>,
}

impl Case {
    fn new(golden: &'static str, setup: &[Step<'static>], steps: &[Step<'static>]) -> Self {
        Case {
            golden,
            setup: setup.to_vec(),
            steps: steps.to_vec(),
        }
    }

    /// Run on `h` and return the recorded transcript.
    pub fn transcript(&self, h: &mut Harness) -> String {
        let _ = transcript(h, &self.setup);
        transcript(h, &self.steps)
    }

    /// Run on `h` and compare with the golden file (`UPDATE_GOLDEN=1` rewrites it).
    pub fn check(&self, h: &mut Harness) {
        golden(self.golden, &self.transcript(h));
    }

    /// Run on `h` and compare with the golden file, never rewriting it.
    pub fn verify(&self, h: &mut Harness) -> Result<(), String> {
        golden_matches(self.golden, &self.transcript(h))
    }
}

/// The case whose golden file is `golden`.
pub fn named(golden: &str) -> Case {
    cli()
        .into_iter()
        .chain(errors())
        .find(|c| c.golden == golden)
        .unwrap_or_else(|| panic!("no case {golden}"))
}

/// The golden file of the usage text and version line.
pub const USAGE_GOLDEN: &str = "errors/usage.txt";

/// The names the program is invoked by in the usage transcript, in order (the usage text
/// shows the name it was invoked by).
pub const USAGE_PROGS: [&str; 3] = ["rvsadm", "ipvsadm", "/usr/sbin/ipvsadm"];

/// The usage and version steps run under each name of [`USAGE_PROGS`].
pub const USAGE: &[Step<'static>] = &[
    cmd("-h"),
    cmd("--help"),
    cmd("-hL"),
    cmd("-v"),
    cmd("--version"),
];

/// A table with every kind of service and server, used by several cases.
pub const SETUP: &[Step<'static>] = &[
    cmd("-A -t 198.51.100.1:80 -s wlc"),
    cmd("-a -t 198.51.100.1:80 -r 203.0.113.10:80 -m -w 1"),
    cmd("-a -t 198.51.100.1:80 -r 203.0.113.11:8080 -m -w 3"),
    cmd("-A -t 198.51.100.2:443 -s rr -p 360 -M 255.255.255.0"),
    cmd("-a -t 198.51.100.2:443 -r 203.0.113.12 -g -w 1"),
    cmd("-a -t 198.51.100.2:443 -r 203.0.113.13 -g -w 0"),
    cmd("-A -u 198.51.100.3:53 -s sh -o -b sh-fallback,sh-port"),
    cmd("-a -u 198.51.100.3:53 -r 203.0.113.21 -i -w 1"),
    cmd("-a -u 198.51.100.3:53 -r 203.0.113.20 -i"),
    cmd("-A -f 1 -s wlc -p"),
    cmd("-a -f 1 -r 203.0.113.10:0 -m -w 1"),
    cmd("-A -t [2001:db8::80]:80 -s rr"),
    cmd("-a -t [2001:db8::80]:80 -r [2001:db8::a0]:80 -m"),
    cmd("-A --sctp-service 198.51.100.4:5060 -s mh -b mh-port"),
    cmd("-A -f 2 -6 -s lc -p 60 -M 64"),
    cmd("-A -t 198.51.100.5:0 -s wrr -p 600"),
];

/// `SETUP` followed by `rest`.
fn with_setup(rest: &[Step<'static>]) -> Vec<Step<'static>> {
    SETUP.iter().chain(rest).copied().collect()
}

/// Whole sessions: every listing format, save and restore, edits, timeouts. The transcript
/// includes the setup, so each starts from an empty table.
pub fn cli() -> Vec<Case> {
    vec![
        Case {
            golden: "cli/list.txt",
            setup: Vec::new(),
            steps: with_setup(&[
                cmd("-L -n"),
                cmd("-Ln"),
                cmd("-l --numeric"),
                cmd("--list -n --nosort"),
                cmd("-L"),
                cmd("-L -n --thresholds"),
                cmd("-L -n --persistent-conn"),
                cmd("-L -n --tun-info"),
                cmd("-L -n --stats"),
                cmd("-L -n --rate"),
                cmd("-L -n --stats --exact"),
                cmd("-L -n -t 198.51.100.2:443"),
                cmd("-L -t vip:http"),
                cmd("-L -n -f 1"),
                cmd("-L -n -f 2 -6"),
                cmd("-L -n -u 198.51.100.9:53"),
                cmd("-L -n --sort"),
                cmd("-L -n -c"),
                cmd("-lc --persistent-conn"),
            ]),
        },
        Case {
            golden: "cli/save_restore.txt",
            setup: Vec::new(),
            steps: with_setup(&[
                cmd("-S -n"),
                cmd("-S"),
                cmd("-C"),
                cmd("-L -n"),
                with_input(
                    "-R",
                    "-A -t 198.51.100.1:80 -s wlc\n\
                 -a -t 198.51.100.1:80 -r 203.0.113.10:80 -m -w 1\n\
                 ipvsadm -a -t 198.51.100.1:80 -r 203.0.113.11:8080 -m -w 3\n\
                 \n\
                 -A -t 198.51.100.2:443 -s rr -p 360 -M 255.255.255.0\n\
                 -a -t 198.51.100.2:443 -r 203.0.113.12:443 -g -w 1\n\
                 -a\t-t 198.51.100.2:443 -r 203.0.113.13:443 -g -w 0\r\n",
                ),
                cmd("-S -n"),
                with_input(
                    "-R",
                    "-A -t 198.51.100.7:80\n-A -t 198.51.100.8:80 -w 2\n-A -t 198.51.100.9:80\n",
                ),
                with_input(
                    "-R",
                    "-A -t 198.51.100.7:80\n-a -t 198.51.100.7:80 -r 203.0.113.10\n-A -t 198.51.100.1:80\n",
                ),
                with_input("-R", "-R\n"),
                with_input("-R", "# a comment\n"),
                cmd("-S -n"),
            ]),
        },
        Case::new(
            "cli/edit_delete.txt",
            &[],
            &[
                cmd("-A -t 198.51.100.1:80 -s rr -p 100"),
                cmd("-a -t 198.51.100.1:80 -r 203.0.113.10:8080 -m -w 5 -x 100 -y 50"),
                cmd("-L -n --thresholds"),
                cmd("-E -t 198.51.100.1:80"),
                cmd("-e -t 198.51.100.1:80 -r 203.0.113.10:8080 -m"),
                cmd("-L -n --thresholds"),
                cmd("-d -t 198.51.100.1:80 -r 203.0.113.10:8080"),
                cmd("-D -t 198.51.100.1:80"),
                cmd("-L -n"),
            ],
        ),
        Case::new(
            "cli/timeouts.txt",
            &[],
            &[
                cmd("-L --timeout"),
                cmd("--set 100 0 200"),
                cmd("-l --timeout"),
                cmd("--set 0 0 0"),
                cmd("-L --timeout"),
                cmd("-L --daemon"),
                cmd("--start-daemon master"),
                cmd("--start-daemon backup --mcast-interface eth1 --syncid 3"),
                cmd("--stop-daemon master"),
                cmd("-A -t 198.51.100.1:80"),
                cmd("-Z"),
                cmd("-Z -t 198.51.100.1:80"),
                cmd("-Z -t 0.0.0.0:0"),
                cmd("-Z -t 198.51.100.2:80"),
            ],
        ),
    ]
}

/// Every error message of ipvsadm (reference §1.3–§1.8) with its exit code: command-line
/// errors, then the errors of operations on a table holding one service and one server.
pub fn errors() -> Vec<Case> {
    vec![
        Case::new(
            "errors/parse.txt",
            &[],
            &[
                // popt level (exit 255)
                cmd("-n -L"),
                cmd("--foo"),
                cmd("foo"),
                cmd("-L --foo"),
                cmd("-Lq"),
                cmd("-A -t"),
                cmd("-At"),
                cmd("--list=x"),
                cmd("-L=x"),
                cmd("-L -n=x"),
                cmd("--start-daemon"),
                // a second command or -h/-v after the command (exit 2)
                cmd("-L -D"),
                cmd("-Ln -C"),
                cmd("-L -h"),
                cmd("-L --start-daemon master"),
                // values
                cmd("--start-daemon foo"),
                cmd("--stop-daemon foo"),
                cmd("-A -t 80"),
                cmd("-A -t 1.2.3.4:http80"),
                cmd("-A -t [2001:db8::1]"),
                cmd("-A -t 1.2.3.4:70000"),
                cmd("-A -f 0"),
                cmd("-A -f -1"),
                cmd("-A -f 4294967296"),
                cmd("-A -f x"),
                cmd("-A -t 1.2.3.4:80 -p 0"),
                cmd("-A -t 1.2.3.4:80 -p 2678401"),
                cmd("-A -t 1.2.3.4:80 -p x"),
                cmd("-A -t 1.2.3.4:80 --persistent="),
                cmd("-A -t 1.2.3.4:80 -p -M 1.2.3"),
                cmd("-A -t 1.2.3.4:80 -p -M nosuchmask"),
                cmd("-A -t [2001:db8::1]:80 -p -M 129"),
                cmd("-A -t [2001:db8::1]:80 -p -M x"),
                cmd("-a -t 1.2.3.4:80 -r 80"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -w 65536"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -w -1"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -x 2147483648"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -y x"),
                cmd("--start-daemon master --syncid 256"),
                cmd("-A -6 -f 1"),
                cmd("--start-daemon master --mcast-group 2001:db8::1"),
                cmd("--start-daemon master --mcast-group 10.0.0.1"),
                cmd("--start-daemon master --mcast-port 0"),
                cmd("--start-daemon master --mcast-ttl 256"),
                cmd("--start-daemon master --sync-maxlen 65508"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type vxlan"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gue --tun-port 0"),
                cmd("--set 1 2"),
                cmd("--set 1 2 x"),
                cmd("--set 1 2 3 4"),
                cmd("-L extra"),
                cmd("-A -t 1.2.3.4:80 -b foo"),
                cmd("-A -t 1.2.3.4:80 -b sh-port"),
                cmd("-A -t 1.2.3.4:80 -s mh -b mh-port,sh-fallback"),
                cmd("-L -b foo"),
                // the legality table
                cmd("-A -t 1.2.3.4:80 -u 1.2.3.4:80"),
                cmd("-A -t 1.2.3.4:80 -s rr -s wlc"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -m -g"),
                cmd("-A -s rr"),
                cmd("-a -t 1.2.3.4:80"),
                cmd("-A -t 1.2.3.4:80 -w 3"),
                cmd("-D -t 1.2.3.4:80 -s rr"),
                cmd("-C -n"),
                cmd("-L -c --timeout"),
                cmd("-L -t 1.2.3.4:80 -c"),
                cmd("-L --daemon -f 1"),
                cmd("-S -c"),
                cmd("-R -n"),
                cmd("-Z -n"),
                cmd("--set 1 2 3 -n"),
                cmd("--stop-daemon master --mcast-interface eth0"),
                cmd("-d -t 1.2.3.4:80 -r 5.6.7.8 -w 1"),
                // semantic checks, in order
                cmd("-A -t 1.2.3.4"),
                cmd("-A -t 1.2.3.4:53 -o"),
                cmd("-E -t 1.2.3.4:0"),
                cmd("-a -t 1.2.3.4:80 -r [2001:db8::1]:80 -m"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -m --tun-type ipip"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-port 6080"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gue"),
                cmd(
                    "-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gue --tun-port 6080 --tun-nocsum --tun-csum",
                ),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gre --tun-remcsum"),
                cmd("-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-csum"),
                cmd("-L -c --stats"),
                cmd("--list --timeout --rate"),
                cmd("-L --daemon --persistent-conn"),
                cmd("-A -t 1.2.3.4:80 -p -M 255.0.255.0"),
            ],
        ),
        Case::new(
            "errors/operations.txt",
            &[
                cmd("-A -t 198.51.100.1:80"),
                cmd("-a -t 198.51.100.1:80 -r 203.0.113.10"),
            ],
            &[
                cmd("-A -t 198.51.100.1:80"),
                cmd("-A -t 198.51.100.2:80 -s nosuch"),
                cmd("-E -t 198.51.100.1:80 -s nosuch"),
                cmd("-A -t 198.51.100.2:80 --pe sip -p"),
                cmd("-E -t 198.51.100.9:80"),
                cmd("-D -t 198.51.100.9:80"),
                cmd("-Z -t 198.51.100.9:80"),
                cmd("-a -t 198.51.100.9:80 -r 203.0.113.10"),
                cmd("-e -t 198.51.100.9:80 -r 203.0.113.10"),
                cmd("-d -t 198.51.100.9:80 -r 203.0.113.10"),
                cmd("-a -t 198.51.100.1:80 -r 203.0.113.10"),
                cmd("-e -t 198.51.100.1:80 -r 203.0.113.11"),
                cmd("-d -t 198.51.100.1:80 -r 203.0.113.11"),
                cmd("-a -t 198.51.100.1:80 -r 203.0.113.11 -y 10"),
                cmd("-a -t 198.51.100.1:80 -r 224.0.0.1"),
                cmd("-a -t 198.51.100.1:80 -r 203.0.113.12 -i --tun-type gue --tun-port 6080"),
                cmd("-a -t 198.51.100.1:80 -r 203.0.113.12 -i --tun-type gre --tun-csum"),
                cmd("-L -t 198.51.100.9:80"),
                cmd("--start-daemon master"),
                cmd("--stop-daemon backup"),
                with_input(
                    "-R",
                    "-A -t 198.51.100.3:80\n-a -t 198.51.100.3:80 -r 203.0.113.12 -y 5\n",
                ),
                cmd("-L -n"),
            ],
        ),
    ]
}
