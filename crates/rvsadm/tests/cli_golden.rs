//! Golden transcripts of whole rvsadm sessions. They run against the in-memory backend, or
//! against a real rvsd when `RVSADM_TEST_SOCKET` names its socket (the table is cleared
//! first), so the same snapshots check both.

mod common;

use common::{Harness, Step, cmd, golden, transcript, with_input};

fn case(name: &str, steps: &[Step<'_>]) {
    let mut h = Harness::from_env();
    let t = transcript(&mut h, steps);
    golden(&format!("cli/{name}.txt"), &t);
}

/// A table with every kind of service and server, used by several cases.
const SETUP: &[Step<'static>] = &[
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

fn with_setup<'a>(rest: &[Step<'a>]) -> Vec<Step<'a>> {
    SETUP
        .iter()
        .map(|s| Step {
            line: s.line,
            stdin: s.stdin,
        })
        .chain(rest.iter().map(|s| Step {
            line: s.line,
            stdin: s.stdin,
        }))
        .collect()
}

#[test]
fn list_formats() {
    case(
        "list",
        &with_setup(&[
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
    );
}

#[test]
fn save_and_restore() {
    case(
        "save_restore",
        &with_setup(&[
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
    );
}

#[test]
fn edit_and_delete() {
    case(
        "edit_delete",
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
    );
}

#[test]
fn timeouts_daemon_zero() {
    case(
        "timeouts",
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
    );
}
