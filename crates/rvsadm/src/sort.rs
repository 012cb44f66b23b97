//! ipvsadm's sort order, including its quirk: the comparators subtract unsigned 32-bit
//! values into an `int`, so e.g. 200.0.0.1 sorts before 10.0.0.1. Because such a comparator
//! is not a total order, the sort is a top-down merge sort like glibc's `qsort` (Rust's
//! own sorts may panic on an inconsistent comparator).

use core::net::IpAddr;

use rvs_api::{DestEntry, ServiceEntry};
use rvs_core::model::ServiceKey;

use crate::format::service_protocol;

/// An address as the four 32-bit words of `union nf_inet_addr` (IPv4 in the first).
fn words(addr: IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(a) => [u32::from(a), 0, 0, 0],
        IpAddr::V6(a) => {
            let o = a.octets();
            core::array::from_fn(|i| {
                u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
            })
        }
    }
}

/// C's `(int)(a - b)` on unsigned 32-bit values.
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Compare addresses the way ipvsadm does: all four words if the first is IPv6, else the
/// first word only.
fn cmp_addr(a: IpAddr, b: IpAddr) -> i32 {
    let (wa, wb) = (words(a), words(b));
    let n = if a.is_ipv6() { 4 } else { 1 };
    (0..n)
        .map(|i| diff(wa[i], wb[i]))
        .find(|r| *r != 0)
        .unwrap_or(0)
}

/// AF_INET / AF_INET6 numbers.
fn af_number(key: &ServiceKey) -> i32 {
    match crate::format::service_family(key) {
        rvs_core::model::Family::Inet => 2,
        rvs_core::model::Family::Inet6 => 10,
    }
}

/// `ipvs_cmp_services`.
fn cmp_services(a: &ServiceEntry, b: &ServiceEntry) -> i32 {
    let (ka, kb) = (&a.service.key, &b.service.key);
    let parts = |k: &ServiceKey| match *k {
        ServiceKey::Fwmark { mark, .. } => (mark, None, 0u16),
        ServiceKey::Addr { addr, port, .. } => (0, Some(addr), port),
    };
    let (ma, aa, pa) = parts(ka);
    let (mb, ab, pb) = parts(kb);
    let mut r = diff(ma, mb);
    if r == 0 {
        r = af_number(ka) - af_number(kb);
    }
    if r == 0 {
        r = i32::from(service_protocol(ka)) - i32::from(service_protocol(kb));
    }
    if r == 0 {
        let zero = IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED);
        let (x, y) = (aa.unwrap_or(zero), ab.unwrap_or(zero));
        // Fwmark services carry no address (all zero); otherwise the families are equal here.
        r = cmp_addr(x, y);
    }
    if r == 0 {
        r = i32::from(pa) - i32::from(pb);
    }
    r
}

/// `ipvs_cmp_dests`.
fn cmp_dests(a: &DestEntry, b: &DestEntry) -> i32 {
    let r = cmp_addr(a.dest.addr, b.dest.addr);
    if r != 0 {
        r
    } else {
        i32::from(a.dest.port) - i32::from(b.dest.port)
    }
}

/// glibc's `msort`: split in halves (the first one smaller for odd lengths), sort both,
/// merge taking from the left while `cmp(left, right) <= 0`.
pub fn merge_sort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort(&mut v[..n1], cmp);
    merge_sort(&mut v[n1..], cmp);
    let (left, right) = (v[..n1].to_vec(), v[n1..].to_vec());
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&left[i], &right[j]) <= 0 {
            v[k] = left[i].clone();
            i += 1;
        } else {
            v[k] = right[j].clone();
            j += 1;
        }
        k += 1;
    }
    for x in left[i..].iter().chain(&right[j..]) {
        v[k] = x.clone();
        k += 1;
    }
}

/// Sort services as `ipvsadm -L` does.
pub fn sort_services(v: &mut [ServiceEntry]) {
    merge_sort(v, &cmp_services);
}

/// Sort real servers as `ipvsadm -L` does.
pub fn sort_dests(v: &mut [DestEntry]) {
    merge_sort(v, &cmp_dests);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_sort_sorts() {
        let mut v = vec![5, 3, 9, 1, 1, 0, 7];
        merge_sort(&mut v, &|a: &i32, b: &i32| a - b);
        assert_eq!(v, vec![0, 1, 1, 3, 5, 7, 9]);
    }

    #[test]
    fn address_difference_wraps_like_c() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "200.0.0.1".parse().unwrap();
        assert!(cmp_addr(a, b) > 0, "ipvsadm puts 200.0.0.1 first");
        let c: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(cmp_addr(a, c) < 0);
    }
}
