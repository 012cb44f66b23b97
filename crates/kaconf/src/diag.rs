//! Diagnostics: what went wrong, where (file:line:column), and how keepalived would rate it.
//!
//! Every diagnostic carries two judgements. [`Severity`] is ours: an `Error` stops
//! `rvs-keepalived` from starting, a `Warning` is reported and the daemon runs.
//! [`KaClass`] is keepalived's: it decides the `-t` exit code exactly the way
//! keepalived 2.2.7 does (see [`crate::exit_code`]).

use std::fmt;
use std::path::PathBuf;

/// How serious a diagnostic is for rvs-keepalived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational: something keepalived accepts that rvs ignores or notes.
    Note,
    /// Reported, but the configuration still runs (keepalived's behaviour for most problems).
    Warning,
    /// The configuration is wrong; rvs-keepalived refuses to start with it.
    Error,
}

/// keepalived's own class for a message, used to compute the `-t` exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KaClass {
    /// keepalived would not report this at all (our own notes).
    Silent,
    /// keepalived logs it but it does not change the exit code (e.g. a missing plain `include`).
    Info,
    /// keepalived cannot run the configuration (missing file, bad interface, fatal): exit 4.
    Fatal,
    /// A configuration error keepalived would fix up and run with: exit 5.
    Config,
    /// Scripts configured without `enable_script_security`: exit 6.
    Security,
}

/// A position in a configuration file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file, as it was named (main file) or matched by an include glob.
    pub file: PathBuf,
    /// 1-based line number; 0 when the diagnostic has no line (whole-config checks).
    pub line: u32,
    /// 1-based column of the first character; 0 when unknown.
    pub column: u32,
    /// Number of characters the caret underlines (at least 1 when a column is known).
    pub len: u32,
}

/// One message about the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Whether rvs-keepalived may start despite it.
    pub severity: Severity,
    /// keepalived's rating (drives the `-t` exit code).
    pub class: KaClass,
    /// Where; `None` for whole-configuration findings.
    pub span: Option<Span>,
    /// The offending source line (without newline), shown under the message.
    pub source_line: Option<String>,
    /// What is wrong, worded like keepalived where that is helpful.
    pub message: String,
    /// How to fix it, when we know.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without position.
    pub fn new(severity: Severity, class: KaClass, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            class,
            span: None,
            source_line: None,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors that stop rvs-keepalived from starting.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Renders `file:line:col: severity: message`, then the source line and a caret.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(s) if s.line > 0 && s.column > 0 => write!(
                f,
                "{}:{}:{}: {}: {}",
                s.file.display(),
                s.line,
                s.column,
                self.severity,
                self.message
            )?,
            Some(s) if s.line > 0 => write!(
                f,
                "{}:{}: {}: {}",
                s.file.display(),
                s.line,
                self.severity,
                self.message
            )?,
            Some(s) => write!(
                f,
                "{}: {}: {}",
                s.file.display(),
                self.severity,
                self.message
            )?,
            None => write!(f, "{}: {}", self.severity, self.message)?,
        }
        if let (Some(s), Some(src)) = (&self.span, &self.source_line)
            && s.line > 0
        {
            let gutter = s.line.to_string();
            let pad = " ".repeat(gutter.len());
            write!(f, "\n{gutter} | {src}")?;
            if s.column > 0 {
                // Reproduce tabs so the caret lines up under the token.
                let lead: String = src
                    .chars()
                    .take(s.column as usize - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let carets = "^".repeat(s.len.max(1) as usize);
                write!(f, "\n{pad} | {lead}{carets}")?;
            }
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics while parsing.
#[derive(Debug, Default)]
pub struct Diagnostics {
    /// Everything reported so far, in order.
    pub list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }

    /// Records a positioned diagnostic.
    pub fn at(
        &mut self,
        severity: Severity,
        class: KaClass,
        span: Span,
        source_line: Option<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.list.push(Diagnostic {
            severity,
            class,
            span: Some(span),
            source_line,
            message: message.into(),
            help: None,
        });
        let last = self.list.len() - 1;
        &mut self.list[last]
    }
}

/// The `keepalived -t` exit code for a set of diagnostics.
///
/// keepalived keeps the numerically largest error class it saw, and its classes are
/// ordered fatal < config errors < security; so one "fixable" error outranks a fatal
/// one. We reproduce that: 6 if any security finding, else 5 if any config error,
/// else 4 if any fatal one, else 0.
pub fn exit_code(diags: &[Diagnostic]) -> i32 {
    match diags.iter().map(|d| d.class).max() {
        Some(KaClass::Security) => 6,
        Some(KaClass::Config) => 5,
        Some(KaClass::Fatal) => 4,
        _ => 0,
    }
}
