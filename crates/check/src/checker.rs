//! One health checker's retry and transition logic, as keepalived's checker epilogs run it.
//!
//! keepalived has no single retry rule: TCP/UDP/PING share one epilog, DNS, SMTP, HTTP
//! (one URL per probe) and MISC each have their own. Each is reproduced here, because the
//! differences decide how fast a dead real server leaves the pool. This module is pure: a
//! probe result goes in, an [`Epilog`] (report up/down, next delay, weight change) comes out;
//! the [`crate::engine`] applies the report to the real server and the pool.

use std::time::Duration;

use rvs_kaconf::{CheckTiming, Checker, CheckerKind};

/// What one probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// The check passed (connect established, status/digest matched, DNS answered…).
    Success,
    /// The check failed (refused, timed out, wrong status, ICMP unreachable…).
    Failure,
    /// MISC_CHECK: the script exited with this status.
    Exited(u8),
    /// MISC_CHECK: the script was killed (timeout → SIGTERM/SIGKILL, or any signal).
    Killed,
}

/// Which keepalived epilog a checker follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// TCP_CHECK, UDP_CHECK, PING_CHECK (`tcp_epilog`).
    Generic,
    /// DNS_CHECK (`dns_final`): retries also before the first run under alpha.
    Dns,
    /// SMTP_CHECK (`smtp_final`).
    Smtp,
    /// HTTP_GET / SSL_GET: one URL per probe, all URLs must pass.
    Http {
        /// Number of `url` blocks (≥ 1).
        urls: usize,
        /// `fast_recovery`.
        fast_recovery: bool,
    },
    /// MISC_CHECK; next run is timed from the script's start.
    Misc {
        /// `misc_dynamic`.
        dynamic: bool,
    },
}

impl Style {
    /// The style for a configured checker (None for an HTTP checker without URLs, which
    /// keepalived drops).
    pub fn of(c: &Checker) -> Option<Style> {
        Some(match &c.kind {
            CheckerKind::Tcp | CheckerKind::Udp(_) | CheckerKind::Ping => Style::Generic,
            CheckerKind::Dns(_) => Style::Dns,
            CheckerKind::Smtp { .. } => Style::Smtp,
            CheckerKind::Http(h) if h.urls.is_empty() => return None,
            CheckerKind::Http(h) => Style::Http {
                urls: h.urls.len(),
                fast_recovery: h.fast_recovery,
            },
            CheckerKind::Misc(m) => Style::Misc { dynamic: m.dynamic },
        })
    }
}

/// A misc_dynamic weight change requested by a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightChange {
    /// The checker's new contribution to the RS weight (status − 2 − configured weight, or 0).
    pub cur_weight: i64,
    /// Whether the quorum is re-evaluated (keepalived's `update_svr_wgt(…, true)`).
    pub update_quorum: bool,
}

/// The effect of one probe result on its checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epilog {
    /// `Some(true)`: report the checker up; `Some(false)`: down (keepalived's
    /// `update_svr_checker_state`).
    pub report: Option<bool>,
    /// The checker's `has_run` as the report must see it (before this result).
    pub has_run_seen: bool,
    /// Weight change to apply before the report.
    pub weight: Option<WeightChange>,
    /// Delay until the next probe.
    pub delay: Duration,
    /// True when `delay` counts from the probe's start (MISC_CHECK), else from its end.
    pub from_start: bool,
}

/// Per-checker state (keepalived's `checker_t` fields that matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerState {
    /// Resolved timing.
    pub timing: CheckTiming,
    /// Epilog style.
    pub style: Style,
    /// Current verdict (starts `!alpha`).
    pub is_up: bool,
    /// A result has been reported at least once.
    pub has_run: bool,
    /// Retries done so far in the current failure run.
    pub retry_it: u32,
    /// HTTP: the URL the next probe fetches.
    pub url_it: usize,
    /// HTTP: the URL that failed, while the checker is down.
    pub failed_url: Option<usize>,
    /// MISC dynamic: this checker's contribution to the RS weight.
    pub cur_weight: i64,
    /// MISC: last exit status seen.
    pub last_exit: Option<u8>,
}

impl CheckerState {
    /// A fresh checker: up unless `alpha`.
    pub fn new(timing: CheckTiming, style: Style) -> CheckerState {
        CheckerState {
            timing,
            style,
            is_up: !timing.alpha,
            has_run: false,
            retry_it: 0,
            url_it: 0,
            failed_url: None,
            cur_weight: 0,
            last_exit: None,
        }
    }

    /// The step (URL index for HTTP, else 0) the next probe runs.
    pub fn step(&self) -> usize {
        self.url_it
    }

    /// Applies one probe result. `rs_weight` is the real server's configured weight (MISC
    /// dynamic weights are stored relative to it, as keepalived does).
    pub fn on_result(&mut self, r: ProbeResult, rs_weight: i64) -> Epilog {
        match self.style {
            Style::Generic => self.generic(r == ProbeResult::Success),
            Style::Dns => self.dns(r == ProbeResult::Success),
            Style::Smtp => self.smtp(r == ProbeResult::Success),
            Style::Http {
                urls,
                fast_recovery,
            } => self.http(r == ProbeResult::Success, urls, fast_recovery),
            Style::Misc { dynamic } => self.misc(r, dynamic, rs_weight),
        }
    }

    fn epilog(&self, report: Option<bool>, has_run_seen: bool, delay: Duration) -> Epilog {
        Epilog {
            report,
            has_run_seen,
            weight: None,
            delay,
            from_start: false,
        }
    }

    /// `tcp_epilog` (also UDP and ICMP).
    fn generic(&mut self, ok: bool) -> Epilog {
        let t = self.timing;
        let seen = self.has_run;
        let mut delay = t.delay_loop;
        let mut report = None;
        if ok || ((self.is_up || !self.has_run) && self.retry_it >= t.retry) {
            self.retry_it = 0;
            if ok && (!self.is_up || !self.has_run) {
                report = Some(true);
            } else if !ok && (self.is_up || !self.has_run) {
                report = Some(false);
            }
        } else if self.is_up {
            delay = t.delay_before_retry;
            self.retry_it += 1;
        }
        self.has_run = true;
        self.epilog(report, seen, delay)
    }

    /// `dns_final`.
    fn dns(&mut self, ok: bool) -> Epilog {
        let t = self.timing;
        let seen = self.has_run;
        let mut report = None;
        if !ok {
            if self.is_up || !self.has_run {
                if self.retry_it < t.retry {
                    self.retry_it += 1;
                    self.has_run = true;
                    return self.epilog(None, seen, t.delay_before_retry);
                }
                report = Some(false);
            }
        } else if !self.is_up || !self.has_run {
            report = Some(true);
        }
        self.retry_it = 0;
        if report.is_some() {
            self.has_run = true;
        }
        self.epilog(report, seen, t.delay_loop)
    }

    /// `smtp_final`: every failure counts towards the retries; the counter only resets on
    /// success, so a down checker is probed every `delay_loop`.
    fn smtp(&mut self, ok: bool) -> Epilog {
        let t = self.timing;
        let seen = self.has_run;
        let mut report = None;
        if !ok {
            self.retry_it = self.retry_it.saturating_add(1);
            if self.retry_it <= t.retry {
                return self.epilog(None, seen, t.delay_before_retry);
            }
            if self.is_up || !self.has_run {
                report = Some(false);
            }
        } else {
            self.retry_it = 0;
            if !self.is_up || !self.has_run {
                report = Some(true);
            }
        }
        if report.is_some() {
            self.has_run = true;
        }
        self.epilog(report, seen, t.delay_loop)
    }

    /// check_http.c `epilog` / `timeout_epilog`: one URL per probe.
    fn http(&mut self, ok: bool, urls: usize, fast_recovery: bool) -> Epilog {
        #[derive(PartialEq)]
        enum M {
            New,
            Retry,
            Failed,
        }
        let t = self.timing;
        let method = if ok {
            M::New
        } else if self.is_up || !self.has_run {
            // timeout_epilog marks the checker as run before retrying.
            self.has_run = true;
            M::Retry
        } else {
            M::Failed
        };
        let seen = self.has_run;
        match method {
            M::New => {
                self.url_it += 1;
                self.retry_it = 0;
            }
            M::Retry => self.retry_it += 1,
            M::Failed => {}
        }
        let mut report = None;
        if method == M::New && self.url_it >= urls && self.failed_url.is_none() {
            // Every URL passed in this round.
            if !self.is_up || !self.has_run {
                report = Some(true);
                self.has_run = true;
            }
            self.url_it = 0;
            self.retry_it = 0;
        } else if method == M::Retry && self.retry_it > t.retry {
            if self.is_up || !self.has_run {
                report = Some(false);
            }
            self.failed_url = Some(self.url_it);
        } else if method == M::New && self.failed_url.is_some() {
            // The failed URL answers again: check them all from the first.
            self.failed_url = None;
            self.url_it = 0;
            self.retry_it = 0;
        }
        if self.url_it >= urls {
            self.url_it = 0;
        }
        let mut delay = if method == M::New {
            if !self.has_run {
                self.retry_it = t.retry;
            }
            t.delay_loop
        } else if self.failed_url.is_some() {
            t.delay_before_retry.max(t.delay_loop)
        } else {
            t.delay_before_retry
        };
        if fast_recovery && (!self.has_run || (!self.is_up && self.failed_url.is_none())) {
            delay = Duration::ZERO;
        }
        self.epilog(report, seen, delay)
    }

    /// check_misc.c `misc_check_child_thread`.
    fn misc(&mut self, r: ProbeResult, dynamic: bool, rs_weight: i64) -> Epilog {
        let t = self.timing;
        let seen = self.has_run;
        let mut report = None;
        let mut weight = None;
        let (passed, status) = match r {
            ProbeResult::Exited(s) => (s == 0 || (dynamic && s >= 2), Some(s)),
            ProbeResult::Success => (true, Some(0)),
            ProbeResult::Failure => (false, Some(1)),
            ProbeResult::Killed => (false, None),
        };
        if passed {
            let s = status.unwrap_or(0);
            if Some(s) != self.last_exit {
                let cur = if s == 0 {
                    0
                } else {
                    i64::from(s) - 2 - rs_weight
                };
                weight = Some(WeightChange {
                    cur_weight: cur,
                    update_quorum: true,
                });
                self.last_exit = Some(s);
            }
            if !self.is_up || !self.has_run {
                report = Some(true);
            }
            self.retry_it = 0;
        } else if self.is_up || !self.has_run {
            if self.retry_it < t.retry {
                self.retry_it += 1;
            } else {
                self.retry_it = 0;
                if status.is_some() {
                    self.last_exit = status;
                }
                // The dynamic part of the weight is dropped silently (no quorum update),
                // the down report that follows re-evaluates the pool.
                if self.cur_weight != 0 {
                    weight = Some(WeightChange {
                        cur_weight: 0,
                        update_quorum: false,
                    });
                }
                report = Some(false);
            }
        } else if status.is_some() {
            self.last_exit = status;
        }
        self.has_run = true;
        let delay = if self.retry_it > 0 {
            t.delay_before_retry
        } else {
            t.delay_loop
        };
        Epilog {
            report,
            has_run_seen: seen,
            weight,
            delay,
            from_start: true,
        }
    }
}
