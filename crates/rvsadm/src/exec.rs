//! Running a checked command against rvsd and printing its result or error, with
//! ipvsadm's exit codes: 0 ok, 1 a listing failed, 255 the operation was refused.

use rvs_api::{ClientError, ErrorKind, Op};

use crate::Context;
use crate::action::{Action, mutation_func};
use crate::errors::{Func, message};
use crate::format::{self, Format};
use crate::parse::Stop;

/// Whether an error is one rvsd words itself (a feature it lacks): printed as sent.
fn is_unsupported(e: &ClientError) -> bool {
    matches!(e, ClientError::Api(a) if a.kind == ErrorKind::Unsupported)
}

fn print_err(ctx: &mut Context<'_>, msg: &str) {
    let _ = writeln!(ctx.stderr, "{msg}");
}

fn print_out(ctx: &mut Context<'_>, text: &str) {
    let _ = ctx.stdout.write_all(text.as_bytes());
}

/// Run `action`; `argv` is the command line it came from (its program name is used in
/// hints), `reading_stdin` is true inside `-R`.
pub(crate) fn execute(
    ctx: &mut Context<'_>,
    action: Action,
    argv: &[String],
    reading_stdin: bool,
) -> i32 {
    let prog = argv.first().map_or("ipvsadm", String::as_str).to_string();
    match action {
        Action::Restore if reading_stdin => ctx.emit(&Stop::tryhelp(&prog)),
        Action::Restore => crate::restore::restore(ctx, &prog),
        other => run_one(ctx, other).unwrap_or_else(|code| code),
    }
}

/// Run one action that is not `-R`; `Err(code)` when it failed (messages written).
fn run_one(ctx: &mut Context<'_>, action: Action) -> Result<i32, i32> {
    match action {
        Action::ListAll(fmt) => list_all(ctx, fmt),
        Action::ListService(key, fmt) => {
            let names = ctx.names;
            let r = ctx.client()?.get_service(&key);
            match r {
                Ok(se) => print_out(ctx, &format::single(se, fmt, names)),
                Err(e) => return Err(fail(ctx, Func::GetService, &e, 1)),
            }
            Ok(0)
        }
        Action::ListConnections(fmt) => {
            let names = ctx.names;
            match ctx.client()?.list_connections() {
                Ok(conns) => print_out(ctx, &format::list_connections(&conns, fmt, names)),
                Err(e) if is_unsupported(&e) => return Err(fail(ctx, Func::Get, &e, 1)),
                Err(_) => {
                    print_err(ctx, "cannot open file /proc/net/ip_vs_conn");
                    return Err(1);
                }
            }
            Ok(0)
        }
        Action::ListTimeout => match ctx.client()?.get_timeouts() {
            Ok(t) => {
                print_out(ctx, &format::timeouts(&t));
                Ok(0)
            }
            Err(e) => Err(quiet_list_failure(ctx, &e)),
        },
        Action::ListDaemon => match ctx.client()?.daemon_status() {
            Ok(d) => {
                print_out(ctx, &format::daemons(&d));
                Ok(0)
            }
            Err(e) => Err(quiet_list_failure(ctx, &e)),
        },
        Action::Restore => Ok(0),
        Action::Change(m) => {
            let func = mutation_func(&m);
            match ctx.client()?.call(&Op::Mutate(m)) {
                Ok(_) => Ok(0),
                Err(e) => Err(fail(ctx, func, &e, 255)),
            }
        }
        Action::StartDaemon(d) => match ctx.client()?.start_daemon(&d) {
            Ok(()) => Ok(0),
            Err(e) => Err(fail(ctx, Func::StartDaemon, &e, 255)),
        },
        Action::StopDaemon(s) => match ctx.client()?.stop_daemon(s) {
            Ok(()) => Ok(0),
            Err(e) => Err(fail(ctx, Func::StopDaemon, &e, 255)),
        },
    }
}

/// Print the message for a failed call and return `code`.
fn fail(ctx: &mut Context<'_>, func: Func, e: &ClientError, code: i32) -> i32 {
    let msg = message(func, e);
    print_err(ctx, &msg);
    code
}

/// ipvsadm exits 1 without a word when `--timeout` / `--daemon` cannot be read; only a
/// feature rvsd lacks is named.
fn quiet_list_failure(ctx: &mut Context<'_>, e: &ClientError) -> i32 {
    if is_unsupported(e) {
        print_err(ctx, &message(Func::Get, e));
    }
    1
}

/// `-L` / `-S`: the header comes first (from the info call), then the table.
fn list_all(ctx: &mut Context<'_>, fmt: Format) -> Result<i32, i32> {
    let names = ctx.names;
    let header = if fmt.has(Format::RULE) {
        None
    } else {
        match ctx.client()?.info() {
            Ok(info) => Some(format::header(&info)),
            Err(e) => return Err(fail(ctx, Func::Get, &e, 1)),
        }
    };
    if let Some(h) = &header {
        print_out(ctx, h);
    }
    match ctx.client()?.list_services() {
        Ok(services) => {
            print_out(ctx, &format::table(services, fmt, names));
            Ok(0)
        }
        Err(e) => Err(fail(ctx, Func::GetServices, &e, 1)),
    }
}
