//! Parsing as ipvsadm's popt does: every spelling of a command line gives the same result.

use rvs_api::Mutation;
use rvs_core::model::{ForwardMethod, Persistence, Protocol, ServiceKey};
use rvsadm::action::Action;
use rvsadm::format::Format;
use rvsadm::{TableNames, check, parse};

fn names() -> TableNames {
    TableNames::new("198.51.100.1 vip\n", "http 80/tcp www\ndomain 53/udp\n")
}

fn action(line: &str) -> Result<Action, rvsadm::Stop> {
    let argv: Vec<String> = std::iter::once("ipvsadm")
        .chain(line.split_whitespace())
        .map(String::from)
        .collect();
    parse::parse(&argv, &names()).and_then(check::check)
}

fn same(lines: &[&str]) -> Action {
    let first = action(lines[0]).unwrap_or_else(|e| panic!("{}: {e:?}", lines[0]));
    for l in &lines[1..] {
        assert_eq!(
            action(l).unwrap_or_else(|e| panic!("{l}: {e:?}")),
            first,
            "{l} differs from {}",
            lines[0]
        );
    }
    first
}

#[test]
fn clustered_long_and_equals_forms() {
    let a = same(&[
        "-A -t 198.51.100.1:80 -s rr -p 60",
        "-At 198.51.100.1:80 -s rr -p60",
        "-At198.51.100.1:80 -srr -p=60",
        "--add-service --tcp-service 198.51.100.1:80 --scheduler rr --persistent 60",
        "--add-service --tcp-service=198.51.100.1:80 --scheduler=rr --persistent=60",
        "-A -t vip:http -s rr -p 60",
        "-A -t vip:www -s rr -p 60",
        "-A -s rr -p 60 -t 198.51.100.1:80",
    ]);
    let Action::Change(Mutation::AddService { service }) = a else {
        panic!("{a:?}")
    };
    assert_eq!(service.scheduler, "rr");
    assert_eq!(
        service.persistence,
        Some(Persistence {
            timeout: 60,
            netmask: 32
        })
    );
}

#[test]
fn optional_persistent_timeout() {
    let a = same(&[
        "-A -t 198.51.100.1:80 -p",
        "-A -t 198.51.100.1:80 --persistent",
        "-A -p -t 198.51.100.1:80",
        "-A -t 198.51.100.1:80 -p 360 -s wlc",
        "-A -t 198.51.100.1:80 -p -s wlc",
    ]);
    let Action::Change(Mutation::AddService { service }) = a else {
        panic!("{a:?}")
    };
    assert_eq!(service.persistence.map(|p| p.timeout), Some(360));
}

#[test]
fn list_forms() {
    let a = same(&[
        "-L -n",
        "-Ln",
        "-l -n",
        "--list --numeric",
        "-L --numeric --sort",
    ]);
    assert_eq!(a, Action::ListAll(Format::NUMERIC));
    // -nL: the first option popt returns is -n, which is not a command.
    assert_eq!(action("-nL").unwrap_err().code, 255);
}

#[test]
fn first_option_must_be_a_command() {
    let e = action("-n -L").unwrap_err();
    assert_eq!(e.code, 255);
    assert_eq!(
        e.stderr,
        "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
    );
}

#[test]
fn real_server_defaults_and_port_rules() {
    // DR forces the service port; NAT keeps the given one; no port means the service port.
    let a = same(&[
        "-a -t 198.51.100.1:80 -r 203.0.113.1:8080",
        "-a -t 198.51.100.1:80 -r 203.0.113.1 -g -w 1",
    ]);
    let Action::Change(Mutation::AddDest { dest, .. }) = a else {
        panic!()
    };
    assert_eq!(
        (dest.port, dest.method, dest.weight),
        (80, ForwardMethod::Route, 1)
    );
    let a = action("-a -t 198.51.100.1:80 -r 203.0.113.1:8080 -m").unwrap();
    let Action::Change(Mutation::AddDest { dest, .. }) = a else {
        panic!()
    };
    assert_eq!((dest.port, dest.method), (8080, ForwardMethod::Masq));
    // -r before -t: the service port was still 0 when -r was read (ipvsadm's order).
    let a = action("-a -r 203.0.113.1 -m -t 198.51.100.1:80").unwrap();
    let Action::Change(Mutation::AddDest { dest, .. }) = a else {
        panic!()
    };
    assert_eq!(dest.port, 0);
}

#[test]
fn addresses() {
    let a = same(&[
        "-D -t 10.1:80",
        "-D -t 10.0.0.1:80",
        "-D -t 0x0a000001:80",
        "-D -t 012.0.0.1:80",
    ]);
    assert_eq!(
        a,
        Action::Change(Mutation::DelService {
            service: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "10.0.0.1".parse().unwrap(),
                port: 80
            }
        })
    );
    let a = same(&[
        "-D -u [2001:db8::1]:53",
        "-D -u [2001:db8::1]:domain",
        "-D --udp-service=[2001:db8::1]:53",
    ]);
    assert_eq!(
        a,
        Action::Change(Mutation::DelService {
            service: ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr: "2001:db8::1".parse().unwrap(),
                port: 53
            }
        })
    );
}

#[test]
fn set_leftovers_anywhere() {
    let a = same(&["--set 10 20 30", "--set 10 -- 20 30", "--set 10 20 -- 30"]);
    let Action::Change(Mutation::SetTimeouts { timeouts }) = a else {
        panic!("{a:?}")
    };
    assert_eq!((timeouts.tcp, timeouts.tcp_fin, timeouts.udp), (10, 20, 30));
}
