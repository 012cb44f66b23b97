//! Every error message of ipvsadm (reference §1.3–§1.8) with its exit code, as golden
//! transcripts; also the usage text, the version line and the "Try ... -h" hint.

mod common;

use std::io;

use common::{Harness, Step, cmd, golden, transcript, with_input};
use rvs_api::Transport;
use rvsadm::{Context, TableNames, run};

fn case(name: &str, setup: &[Step<'_>], steps: &[Step<'_>]) {
    let mut h = Harness::from_env();
    let _ = transcript(&mut h, setup);
    golden(&format!("errors/{name}.txt"), &transcript(&mut h, steps));
}

#[test]
fn usage_and_version() {
    let mut t = String::new();
    for prog in ["rvsadm", "ipvsadm", "/usr/sbin/ipvsadm"] {
        let mut h = Harness::memory();
        h.prog = prog.into();
        t.push_str(&transcript(
            &mut h,
            &[
                cmd("-h"),
                cmd("--help"),
                cmd("-hL"),
                cmd("-v"),
                cmd("--version"),
            ],
        ));
    }
    golden("errors/usage.txt", &t);
}

#[test]
fn command_line_errors() {
    case(
        "parse",
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
    );
}

#[test]
fn operation_errors() {
    case(
        "operations",
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
    );
}

#[test]
fn rvsd_unreachable() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input: &[u8] = b"";
    let names = TableNames::new("", "");
    let mut connect = || -> io::Result<Box<dyn Transport>> { Err(io::Error::from_raw_os_error(2)) };
    let argv: Vec<String> = ["rvsadm", "-L", "-n"].map(String::from).to_vec();
    let code = {
        let mut ctx = Context::new(
            &mut out,
            &mut err,
            &mut input,
            &names,
            "/run/rvs/rvsd.sock",
            &mut connect,
        );
        run(&mut ctx, &argv)
    };
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "Can't initialize ipvs: No such file or directory\n\
         Are you sure that rvsd is running (control socket /run/rvs/rvsd.sock)?\n"
    );
}
