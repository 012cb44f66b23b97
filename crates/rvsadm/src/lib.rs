//! rvsadm: the ipvsadm-compatible command line for rvsd.
//!
//! It parses a command line exactly as ipvsadm 1.31 does (popt rules, the table of legal
//! option combinations, the order of checks, the same messages and exit codes), sends the
//! operation to rvsd over the control protocol (`rvs-api`), and prints ipvsadm's output
//! formats byte for byte.
//!
//! [`run`] is the whole program; it takes its streams, name lookups and the way to reach
//! rvsd from a [`Context`], so tests can run it against an in-process backend or any socket.

pub mod action;
pub mod addr;
pub mod check;
pub mod errors;
mod exec;
pub mod format;
pub mod names;
pub mod options;
pub mod parse;
pub mod popt;
pub mod restore;
pub mod sort;
pub mod spec;
pub mod usage;

use std::io::{self, BufRead, Write};

use rvs_api::{Client, Transport};

pub use names::{Names, SystemNames, TableNames};
pub use parse::Stop;

/// Opens a connection to rvsd when the first operation needs one.
pub type Connector<'a> = dyn FnMut() -> io::Result<Box<dyn Transport>> + 'a;

/// Everything a run uses from the outside world.
pub struct Context<'a> {
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error.
    pub stderr: &'a mut dyn Write,
    /// Standard input (read by `-R`).
    pub stdin: &'a mut dyn BufRead,
    /// Host and service name lookups.
    pub names: &'a dyn Names,
    /// Where rvsd is, for the message when it cannot be reached.
    pub socket: String,
    connect: &'a mut Connector<'a>,
    client: Option<Client<Box<dyn Transport>>>,
}

impl<'a> Context<'a> {
    /// A context over these streams; `connect` is called once, when rvsd is first needed.
    pub fn new(
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
        stdin: &'a mut dyn BufRead,
        names: &'a dyn Names,
        socket: impl Into<String>,
        connect: &'a mut Connector<'a>,
    ) -> Self {
        Context {
            stdout,
            stderr,
            stdin,
            names,
            socket: socket.into(),
            connect,
            client: None,
        }
    }

    /// The connection to rvsd, opened on first use. On failure the ipvsadm-style message
    /// has been written and the exit code (2) is returned.
    pub(crate) fn client(&mut self) -> Result<&mut Client<Box<dyn Transport>>, i32> {
        if self.client.is_none() {
            match (self.connect)() {
                Ok(t) => self.client = Some(Client::new(t)),
                Err(e) => {
                    let why = match e.raw_os_error() {
                        Some(n) => errors::ipvs_strerror(errors::Func::Init, n),
                        None => e.to_string(),
                    };
                    let _ = write!(
                        self.stderr,
                        "Can't initialize ipvs: {why}\nAre you sure that rvsd is running (control socket {})?\n",
                        self.socket
                    );
                    return Err(2);
                }
            }
        }
        self.client.as_mut().ok_or(2)
    }

    /// Print a [`Stop`]'s texts and return its exit code.
    pub(crate) fn emit(&mut self, stop: &Stop) -> i32 {
        let _ = self.stdout.write_all(stop.stdout.as_bytes());
        let _ = self.stderr.write_all(stop.stderr.as_bytes());
        stop.code
    }
}

/// Run one rvsadm invocation (`argv[0]` is the program name as invoked); returns the exit
/// status.
pub fn run(ctx: &mut Context<'_>, argv: &[String]) -> i32 {
    if argv.len() <= 1 {
        return exec::execute(
            ctx,
            action::Action::ListAll(format::Format::NONE),
            argv,
            false,
        );
    }
    process(ctx, argv, false)
}

/// Parse, check and execute one command line (also used for each line of `-R`).
pub(crate) fn process(ctx: &mut Context<'_>, argv: &[String], reading_stdin: bool) -> i32 {
    match parse::parse(argv, ctx.names).and_then(check::check) {
        Ok(a) => exec::execute(ctx, a, argv, reading_stdin),
        Err(stop) => ctx.emit(&stop),
    }
}
