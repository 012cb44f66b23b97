//! VRRP timer arithmetic (RFC 3768 §6.1, RFC 5798 §6.1), computed exactly as keepalived
//! does so that takeover times match it to the microsecond.

use std::time::Duration;

use crate::packet::Version;

/// Skew_Time for `priority` (use 255 for an address owner).
///
/// v2: (256 − priority) / 256 seconds, whatever the interval (RFC 3768).
/// v3: (256 − priority) × Master_Adver_Interval / 256, computed like keepalived in whole
/// microseconds from the interval in centiseconds: (256 − p) × cs × 625 / 16.
pub fn skew(version: Version, priority: u8, master_adver_int: Duration) -> Duration {
    let p = 256 - u64::from(priority);
    match version {
        Version::V2 => Duration::from_micros(p * 1_000_000 / 256),
        Version::V3 => {
            let cs = u64::try_from(master_adver_int.as_millis() / 10).unwrap_or(u64::MAX);
            Duration::from_micros(p.saturating_mul(cs).saturating_mul(625) / 16)
        }
    }
}

/// Master_Down_Interval: `adverts` (keepalived's `down_timer_adverts`, 3 by default) ×
/// Master_Adver_Interval + Skew_Time.
pub fn master_down_interval(
    version: Version,
    adverts: u32,
    priority: u8,
    master_adver_int: Duration,
) -> Duration {
    master_adver_int.saturating_mul(adverts) + skew(version, priority, master_adver_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_examples() {
        let s = Duration::from_secs(1);
        // lvs-reference §7.4: priority 100 at 1 s -> skew 0.609 s, down 3.609 s.
        assert_eq!(skew(Version::V3, 100, s), Duration::from_micros(609_375));
        assert_eq!(
            master_down_interval(Version::V3, 3, 100, s),
            Duration::from_micros(3_609_375)
        );
        assert_eq!(
            master_down_interval(Version::V2, 3, 254, s),
            Duration::from_micros(3_007_812)
        );
    }

    #[test]
    fn v2_skew_ignores_the_interval_and_v3_scales_with_it() {
        let five = Duration::from_secs(5);
        assert_eq!(skew(Version::V2, 0, five), Duration::from_secs(1));
        assert_eq!(
            skew(Version::V3, 0, Duration::from_millis(100)),
            Duration::from_millis(100)
        );
        assert_eq!(skew(Version::V3, 255, five), Duration::from_micros(19_531));
    }
}
