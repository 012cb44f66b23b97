//! How the demo talks: step banners with a counter and the elapsed time, plain sentences,
//! commands shown as an operator would type them, their real output indented, and checks
//! that print ✔ or ✘ and remember what failed.

use std::io::Write;
use std::time::{Duration, Instant};

/// Writes the demo's narration to stdout and keeps the failed checks of the current step.
#[derive(Debug)]
pub struct Narrator {
    start: Instant,
    failures: Vec<String>,
}

impl Default for Narrator {
    fn default() -> Self {
        Self::new()
    }
}

impl Narrator {
    /// A narrator whose clock starts now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            failures: Vec::new(),
        }
    }

    /// Time since the demo started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn clock(&self) -> String {
        format!("{:>5.1}s", self.elapsed().as_secs_f64())
    }

    /// The banner of step `n` of `total`; forgets the previous step's failures.
    pub fn step(&mut self, n: usize, total: usize, title: &str) {
        self.failures.clear();
        let head = format!("━━ Step {n}/{total} · {title} ");
        let fill = 72usize.saturating_sub(head.chars().count());
        println!("\n{head}{} {}", "━".repeat(fill), self.clock());
        flush();
    }

    /// A plain sentence of narration.
    pub fn say(&self, text: &str) {
        println!("  {text}");
        flush();
    }

    /// A progress line with the elapsed time, for things that take a moment.
    pub fn progress(&self, text: &str) {
        println!("  [{}] {text}", self.clock());
        flush();
    }

    /// A command as the operator would type it on `host`.
    pub fn command(&self, host: &str, line: &str) {
        println!("    {host}# {line}");
        flush();
    }

    /// Real output, indented under the command that produced it.
    pub fn output(&self, text: &str) {
        for line in text.lines() {
            println!("      {}", line.trim_end());
        }
        flush();
    }

    /// A check: prints ✔/✘ with `what`; a failed one is remembered for the step's verdict.
    pub fn check(&mut self, ok: bool, what: &str) -> bool {
        if ok {
            println!("  ✔ {what}");
        } else {
            println!("  ✘ {what}");
            self.failures.push(what.to_string());
        }
        flush();
        ok
    }

    /// A failure that ended the step early (the lab could not be built, a daemon died).
    pub fn abort(&mut self, why: &str) {
        println!("  ✘ {why}");
        flush();
        self.failures.push(why.to_string());
    }

    /// The failed checks of the current step.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }
}

fn flush() {
    let _ = std::io::stdout().flush();
}
