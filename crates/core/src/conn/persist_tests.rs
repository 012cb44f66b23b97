//! Persistence templates through the table, forced expiry, destination flush, listing and
//! export.

use super::tests::{ACK, Counts, SYN, apply, conn, ip, nonzero, s, table, table_counts, tcp};
use super::*;
use crate::Instant;
use crate::model::{ForwardMethod, Protocol, ServiceKey};

fn persistent_svc() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip("198.51.100.1"),
        port: 80,
    }
}

/// Route a new connection from `client:cport` through the persistence logic, "scheduling"
/// `fresh_dest` when no valid template exists. Returns (conn, template, dest).
pub(crate) fn persist(
    t: &mut ConnTable,
    client: &str,
    cport: u16,
    fresh_dest: u32,
    now: Instant,
    c: &mut Counts,
) -> (ConnId, ConnId, u32) {
    let svc = persistent_svc();
    let tk = TemplateKey::new(&svc, 24, Protocol::Tcp, ip(client), 80);
    let tpl = match t.template_lookup(&tk, now, |_| true) {
        Some(id) => id,
        None => {
            let nt = NewTemplate {
                key: tk,
                daddr: ip("198.51.100.20"),
                dport: template_dport(&svc, 80, 8080),
                method: ForwardMethod::Route,
                service: 1,
                dest: fresh_dest,
                timeout_secs: 300,
            };
            t.insert_template(&nt, now, &mut |d| apply(c, d)).unwrap()
        }
    };
    let dest = t.get(tpl).unwrap().dest_id();
    let mut n = conn(cport, ForwardMethod::Route, dest);
    n.key = InKey::new(Protocol::Tcp, ip(client), cport, ip("198.51.100.1"), 80);
    n.control = Some(tpl);
    let id = t.insert(&n, now, &mut |d| apply(c, d)).unwrap();
    t.on_packet(id, Direction::Input, tcp(SYN), now, &mut |d| apply(c, d));
    (id, tpl, dest)
}

#[test]
fn persistence_groups_a_netmask_until_the_template_expires() {
    let mut t = table(100);
    let mut c = Counts::new();
    let (a, tpl, d1) = persist(&mut t, "203.0.113.7", 1000, 11, s(0), &mut c);
    let (_, tpl2, d2) = persist(&mut t, "203.0.113.99", 1001, 22, s(1000), &mut c);
    assert_eq!((tpl2, d2), (tpl, d1), "same /24, same template and server");
    let (_, tpl3, d3) = persist(&mut t, "203.0.114.7", 1002, 33, s(1000), &mut c);
    assert_ne!(tpl3, tpl);
    assert_eq!(d3, 33);
    let tv = t.get(tpl).unwrap();
    assert_eq!(tv.n_control(), 2);
    assert_eq!(tv.state().name(), "NONE");
    assert_eq!(tv.client().to_string(), "203.0.113.0:0");
    assert_eq!(tv.dest_addr().port(), 8080);
    assert_eq!(nonzero(&c), nonzero(&table_counts(&t)));
    // Reaching ESTABLISHED assures the template.
    t.on_packet(a, Direction::Input, tcp(ACK), s(1000), &mut |d| {
        apply(&mut c, d)
    });
    assert_eq!(t.get(tpl).unwrap().state().name(), "ASSURED");
    // Connections die (SYN_RECV 60 s; ESTABLISHED 900 s for `a`); the template outlives
    // its persistence timeout while it controls `a`, postponed by 60 s steps.
    t.expire(s(400_000), &mut |d| apply(&mut c, d));
    assert!(t.get(tpl).is_some());
    assert_eq!(t.get(tpl).unwrap().n_control(), 1);
    let (_, tpl4, d4) = persist(&mut t, "203.0.113.50", 1003, 44, s(400_000), &mut c);
    assert_eq!((tpl4, d4), (tpl, d1), "still persistent at 400 s");
    // The template lives while it controls `a` (ESTABLISHED until 901 s), then at most
    // one 60 s postponement more.
    t.expire(s(900_000), &mut |d| apply(&mut c, d));
    assert!(t.get(tpl).is_some());
    assert!(t.get(a).is_some());
    t.expire(s(1_100_000), &mut |d| apply(&mut c, d));
    assert!(
        t.is_empty(),
        "{:?}",
        t.iter().map(|x| ConnInfo::of(&x, s(0))).collect::<Vec<_>>()
    );
    let (_, _, d5) = persist(&mut t, "203.0.113.7", 1004, 55, s(1_100_000), &mut c);
    assert_eq!(d5, 55, "a new template, a fresh scheduling decision");
    assert_eq!(nonzero(&c), nonzero(&table_counts(&t)));
}

#[test]
fn invalid_template_is_neutralised() {
    let mut t = table(100);
    let mut c = Counts::new();
    let (_, tpl, _) = persist(&mut t, "203.0.113.7", 1000, 11, s(0), &mut c);
    let tk = TemplateKey::new(&persistent_svc(), 24, Protocol::Tcp, ip("203.0.113.7"), 80);
    assert_eq!(t.template_lookup(&tk, s(1), |d| d != 11), None);
    assert_eq!(
        t.template_lookup(&tk, s(1), |_| true),
        None,
        "no longer matches"
    );
    let v = t.get(tpl).unwrap();
    assert_eq!((v.vport(), v.dport(), v.cport()), (0xffff, 0xffff, 0));
    let (_, tpl2, d2) = persist(&mut t, "203.0.113.7", 1001, 22, s(2), &mut c);
    assert_ne!(tpl2, tpl);
    assert_eq!(d2, 22);
    // The neutralised template still expires normally with its connection.
    t.expire(s(1_000_000), &mut |d| apply(&mut c, d));
    assert!(t.is_empty());
    assert_eq!(nonzero(&c), Counts::new());
}

#[test]
fn forced_expiry_drops_unassured_template() {
    let mut t = table(100);
    let mut c = Counts::new();
    let (id, tpl, _) = persist(&mut t, "203.0.113.7", 1000, 11, s(0), &mut c);
    t.expire_now(tpl, s(0), &mut |d| apply(&mut c, d));
    assert!(
        t.get(tpl).is_some(),
        "a template controlling a conn is only postponed"
    );
    t.expire_now(id, s(0), &mut |d| apply(&mut c, d));
    assert!(
        t.is_empty(),
        "last conn of a never-assured template takes it along"
    );
    assert_eq!(nonzero(&c), Counts::new());
    assert_eq!(t.stats().removed, 2);
}

#[test]
fn expire_dest_flushes_a_server() {
    let mut t = table(100);
    let mut c = Counts::new();
    persist(&mut t, "203.0.113.7", 1, 11, s(0), &mut c);
    persist(&mut t, "203.0.113.8", 2, 11, s(0), &mut c);
    t.insert(&conn(3, ForwardMethod::Masq, 12), s(0), &mut |d| {
        apply(&mut c, d)
    })
    .unwrap();
    assert_eq!(t.expire_dest(11, &mut |d| apply(&mut c, d)), 3);
    assert_eq!(t.len(), 1);
    assert_eq!(nonzero(&c), [(12, (0, 1, 0))].into());
}

#[test]
fn listing_and_export() {
    let mut t = table(10);
    let mut c = Counts::new();
    let (id, tpl, _) = persist(&mut t, "203.0.113.7", 1000, 11, s(0), &mut c);
    let fw = ServiceKey::Fwmark {
        mark: 1,
        family: crate::model::Family::Inet,
    };
    let nt = NewTemplate {
        key: TemplateKey::new(&fw, 32, Protocol::Tcp, ip("203.0.113.4"), 443),
        daddr: ip("198.51.100.30"),
        dport: 0,
        method: ForwardMethod::Masq,
        service: 2,
        dest: 12,
        timeout_secs: 300,
    };
    let fwt = t
        .insert_template(&nt, s(0), &mut |d| apply(&mut c, d))
        .unwrap();
    let rows: Vec<ConnInfo> = t.iter().map(|x| ConnInfo::of(&x, s(2000))).collect();
    let row = |id: ConnId| *rows.iter().find(|r| r.id == id).unwrap();
    let r = row(id);
    assert_eq!(
        (r.protocol, r.state_name(), r.expires_ms),
        ("TCP", "SYN_RECV", 58_000)
    );
    assert_eq!(r.client.to_string(), "203.0.113.7:1000");
    assert_eq!(r.virtual_addr.to_string(), "198.51.100.1:80");
    assert_eq!(r.dest.to_string(), "198.51.100.20:8080");
    let r = row(tpl);
    assert_eq!(
        (r.protocol, r.state_name(), r.template),
        ("TCP", "NONE", true)
    );
    let r = row(fwt);
    assert_eq!((r.protocol, r.state_name()), ("IP", "NONE"));
    assert_eq!(r.virtual_addr.to_string(), "0.0.0.1:0");
    assert_eq!(r.client.to_string(), "203.0.113.4:0");
    let rec = FlowRecord::of(&t.get(id).unwrap());
    let bytes = rec.to_bytes();
    assert_eq!(FlowRecord::from_bytes(&bytes), rec);
    assert_eq!(&bytes[0..4], &[203, 0, 113, 7]);
    assert_eq!(&bytes[48..50], &1000u16.to_be_bytes());
    assert_eq!(bytes[54], 6);
    assert_eq!(bytes[55] >> 2 & 3, 1, "DR");
    assert_eq!(u32::from_le_bytes(bytes[56..60].try_into().unwrap()), 11);
}
