//! keepalived-style logging: one line per message, no structured fields, to syslog
//! (`/dev/log`, facility from `-S`), the console (`-l`) and/or a file (`-g`).
//!
//! The other crates log keepalived's own sentences as the message ("(VI_1) Entering MASTER
//! STATE") with extra tracing fields; only the sentence is written, as keepalived writes it.

use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;

/// Where log lines go.
pub struct Sinks {
    console: bool,
    syslog: Option<UnixDatagram>,
    file: Option<Mutex<File>>,
    facility: u8,
    max: Level,
}

struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// keepalived's console time stamp, `Thu Nov 26 11:22:00.123 2026` (UTC).
pub fn timestamp(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, day) = civil(days);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02}.{:03} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis(),
        y
    )
}

fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

impl<S: Subscriber> Layer<S> for Sinks {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = event.metadata().level();
        if *level > self.max {
            return;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        let line = m.0;
        if let Some(s) = &self.syslog {
            let pri = u16::from(self.facility) * 8 + u16::from(severity(level));
            let _ =
                s.send(format!("<{pri}>Keepalived_rvs[{}]: {line}", std::process::id()).as_bytes());
        }
        let stamped = format!("{}: {line}\n", timestamp(SystemTime::now()));
        if self.console {
            let _ = std::io::stderr().write_all(stamped.as_bytes());
        }
        if let Some(f) = &self.file
            && let Ok(mut f) = f.lock()
        {
            let _ = f.write_all(stamped.as_bytes());
        }
    }
}

/// Installs the global logger. Without any working sink the console is used, so nothing
/// is lost silently.
pub fn init(console: bool, syslog: bool, facility: u8, file: Option<&Path>, detail: bool) {
    let syslog = syslog
        .then(|| {
            let s = UnixDatagram::unbound().ok()?;
            s.connect("/dev/log").ok()?;
            Some(s)
        })
        .flatten();
    let file = file.and_then(|p| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
            .map(Mutex::new)
    });
    let console = console || (syslog.is_none() && file.is_none());
    let sinks = Sinks {
        console,
        syslog,
        file,
        facility,
        max: if detail { Level::DEBUG } else { Level::INFO },
    };
    let _ = tracing_subscriber::registry().with(sinks).try_init();
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_read_like_keepalived_s() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        assert_eq!(timestamp(t), "Wed Nov 18 11:06:40.123 2026");
        assert_eq!(timestamp(UNIX_EPOCH), "Thu Jan  1 00:00:00.000 1970");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(t), "Tue Feb 29 00:00:00.000 2000");
    }
}
