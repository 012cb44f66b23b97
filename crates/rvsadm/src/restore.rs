//! `-R`: commands from standard input, one per line, in the ipvsadm-restore format.
//!
//! Lines are split as ipvsadm's `config_stream_read` splits them (blanks, tabs, CRs; any
//! word `ipvsadm` dropped; empty lines skipped). Unlike ipvsadm, which stops half-way, rvsadm
//! first parses and checks every line: a bad line is reported (ipvsadm's message, then its
//! line number) and nothing is applied. The changes then go to rvsd as one `apply`, all or
//! nothing; listing commands in the input split it into consecutive batches.

use rvs_api::{ClientError, Mutation};

use crate::Context;
use crate::action::{Action, mutation_func};
use crate::errors::{api_message, message};
use crate::parse::Stop;

/// The words of each non-empty line, with its 1-based line number.
pub fn split_lines(input: &str) -> Vec<(usize, Vec<String>)> {
    input
        .split('\n')
        .enumerate()
        .filter_map(|(i, line)| {
            let words: Vec<String> = line
                .split([' ', '\t', '\r'])
                .filter(|w| !w.is_empty() && *w != "ipvsadm")
                .map(str::to_string)
                .collect();
            (!words.is_empty()).then_some((i + 1, words))
        })
        .collect()
}

/// What a restore input asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The actions of the lines that parsed, with their line numbers.
    pub steps: Vec<(usize, Action)>,
    /// The first line that ends the run (an error, or `-h` / `-v`), if any.
    pub stop: Option<(usize, Stop)>,
}

/// What the input asks for, line by line, up to the first line that cannot run.
pub fn plan(input: &str, prog: &str, names: &dyn crate::Names) -> Plan {
    let mut steps = Vec::new();
    for (n, words) in split_lines(input) {
        let mut argv = Vec::with_capacity(words.len() + 1);
        argv.push(prog.to_string());
        argv.extend(words);
        match crate::parse::parse(&argv, names).and_then(crate::check::check) {
            // `-R` inside `-R` is refused with the "Try ..." hint, as ipvsadm does.
            Ok(Action::Restore) => {
                return Plan {
                    steps,
                    stop: Some((n, Stop::tryhelp(prog))),
                };
            }
            Ok(a) => steps.push((n, a)),
            Err(stop) => {
                return Plan {
                    steps,
                    stop: Some((n, stop)),
                };
            }
        }
    }
    Plan { steps, stop: None }
}

/// Run `-R` on the context's standard input.
pub fn restore(ctx: &mut Context<'_>, prog: &str) -> i32 {
    let mut bytes = Vec::new();
    if let Err(e) = ctx.stdin.read_to_end(&mut bytes) {
        let _ = writeln!(ctx.stderr, "cannot read standard input: {e}");
        return 1;
    }
    let input = String::from_utf8_lossy(&bytes);
    let Plan { steps, stop } = plan(&input, prog, ctx.names);
    if let Some((n, s)) = &stop
        && s.code != 0
    {
        let code = ctx.emit(s);
        let _ = writeln!(
            ctx.stderr,
            "Restore failed at line {n}; nothing was applied."
        );
        return code;
    }
    let mut i = 0;
    let mut applied_any = false;
    while i < steps.len() {
        let (first_line, _) = steps[i];
        let mut batch: Vec<(usize, Mutation)> = Vec::new();
        while let Some((n, Action::Change(m))) = steps.get(i) {
            batch.push((*n, m.clone()));
            i += 1;
        }
        if batch.is_empty() {
            let (_, action) = steps[i].clone();
            i += 1;
            let code = crate::exec::execute(ctx, action, &[prog.to_string()], true);
            if code != 0 {
                return code;
            }
            continue;
        }
        let muts: Vec<Mutation> = batch.iter().map(|(_, m)| m.clone()).collect();
        let result = match ctx.client() {
            Ok(c) => c.apply(&muts),
            Err(code) => return code,
        };
        if let Err(e) = result {
            let idx = match &e {
                ClientError::Api(a) => a.index.unwrap_or(0).min(batch.len() - 1),
                _ => 0,
            };
            let func = mutation_func(&batch[idx].1);
            let msg = match &e {
                ClientError::Api(a) => api_message(func, a),
                other => message(func, other),
            };
            let _ = writeln!(ctx.stderr, "{msg}");
            let line = batch[idx].0;
            if applied_any {
                let _ = writeln!(
                    ctx.stderr,
                    "Restore failed at line {line}; nothing from line {first_line} on was applied."
                );
            } else {
                let _ = writeln!(
                    ctx.stderr,
                    "Restore failed at line {line}; nothing was applied."
                );
            }
            return 255;
        }
        applied_any = true;
    }
    match stop {
        Some((_, s)) => ctx.emit(&s),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_like_config_stream() {
        let l = split_lines("ipvsadm -A -t 1.2.3.4:80\n\n  \t\r\n-C\r\nipvsadm\n-a\t-t x  -r y");
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            l,
            vec![
                (1, w(&["-A", "-t", "1.2.3.4:80"])),
                (4, w(&["-C"])),
                (6, w(&["-a", "-t", "x", "-r", "y"])),
            ]
        );
    }
}
