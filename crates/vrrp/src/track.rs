//! Tracked objects: `vrrp_script` rise/fall counting and what a tracked interface or
//! script contributes to an instance (a weight, or a fault).

use crate::config::ScriptConfig;

/// The rise/fall state of one `vrrp_script`, counted like keepalived: a counter in
/// `0..=rise+fall-1`, up when it reaches `rise`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptState {
    result: u32,
    rise: u32,
    fall: u32,
    /// None until the first result (unless `init_fail`).
    status: Option<bool>,
}

impl ScriptState {
    /// The state before the first run: one success is enough to go up, one failure to go
    /// down; with `init_fail` it starts down and needs `rise` successes.
    pub(crate) fn new(cfg: &ScriptConfig) -> ScriptState {
        let rise = cfg.rise.max(1);
        if cfg.init_fail {
            ScriptState {
                result: 0,
                rise,
                fall: cfg.fall.max(1),
                status: Some(false),
            }
        } else {
            ScriptState {
                result: rise - 1,
                rise,
                fall: cfg.fall.max(1),
                status: None,
            }
        }
    }

    /// The state of a script kept across a reload: its status stays (so a reload never
    /// faults an instance while the script is re-run), the counter restarts at the edge
    /// of that status for the new `rise`/`fall`.
    pub(crate) fn carried(cfg: &ScriptConfig, old: &ScriptState) -> ScriptState {
        let mut s = ScriptState::new(cfg);
        match old.status {
            Some(true) => {
                s.result = s.rise + s.fall - 1;
                s.status = Some(true);
            }
            Some(false) => {
                s.result = 0;
                s.status = Some(false);
            }
            None => {}
        }
        s
    }

    /// Up (`Some(true)`), down, or not known yet.
    pub(crate) fn status(&self) -> Option<bool> {
        self.status
    }

    /// Records one run; returns true when the status changed.
    pub(crate) fn record(&mut self, success: bool) -> bool {
        let top = self.rise + self.fall - 1;
        let before = self.status;
        if success {
            if self.result + 1 < self.rise {
                self.result += 1;
            } else if self.result != top {
                if self.result < self.rise {
                    self.status = Some(true);
                }
                self.result = top;
            }
        } else if self.result > self.rise {
            self.result -= 1;
        } else {
            if self.result == self.rise || self.status.is_none() {
                self.status = Some(false);
            }
            self.result = 0;
        }
        before != self.status
    }
}

/// What a weighted tracked object adds to the priority: a positive weight while up, a
/// negative one while down, sign flipped by `reverse`; nothing while unknown.
pub(crate) fn contribution(weight: i32, reverse: bool, up: Option<bool>) -> i32 {
    let m = if reverse { -1 } else { 1 };
    match up {
        Some(true) if weight > 0 => weight * m,
        Some(false) if weight < 0 => weight * m,
        _ => 0,
    }
}

/// Whether a weight-0 tracked object puts the instance in FAULT: down (up with
/// `reverse`). An unknown status is reported as `None` (waiting for the first result).
pub(crate) fn faults(reverse: bool, up: Option<bool>) -> Option<bool> {
    up.map(|up| up == reverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(rise: u32, fall: u32, init_fail: bool) -> ScriptState {
        let mut c = ScriptConfig::new("s", &["true"]);
        c.rise = rise;
        c.fall = fall;
        c.init_fail = init_fail;
        ScriptState::new(&c)
    }

    #[test]
    fn first_result_decides_then_rise_and_fall_count() {
        let mut s = script(2, 3, false);
        assert_eq!(s.status(), None);
        assert!(s.record(true));
        assert_eq!(s.status(), Some(true));
        assert!(!s.record(false));
        assert!(!s.record(false));
        assert!(s.record(false), "third failure goes down");
        assert_eq!(s.status(), Some(false));
        assert!(!s.record(true));
        assert!(s.record(true), "second success goes up");
        let mut f = script(2, 1, false);
        assert!(f.record(false));
        assert_eq!(f.status(), Some(false));
    }

    #[test]
    fn init_fail_starts_down_and_needs_rise() {
        let mut s = script(3, 1, true);
        assert_eq!(s.status(), Some(false));
        assert!(!s.record(true));
        assert!(!s.record(true));
        assert!(s.record(true));
        assert!(s.record(false));
    }

    #[test]
    fn weights() {
        assert_eq!(contribution(10, false, Some(true)), 10);
        assert_eq!(contribution(10, false, Some(false)), 0);
        assert_eq!(contribution(-10, false, Some(false)), -10);
        assert_eq!(contribution(-10, false, Some(true)), 0);
        assert_eq!(contribution(10, true, Some(true)), -10);
        assert_eq!(contribution(10, false, None), 0);
        assert_eq!(faults(false, Some(false)), Some(true));
        assert_eq!(faults(true, Some(false)), Some(false));
        assert_eq!(faults(false, None), None);
    }
}
