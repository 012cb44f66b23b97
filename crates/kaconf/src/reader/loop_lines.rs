//! Running `~SEQ`/`~LST` loop lines: the rest of the line is read again once per
//! value, with the loop variables defined as parameters, as keepalived's
//! `read_line` does. The innermost loop runs to its end before the outer one moves
//! on, so `~SEQ(i, 2) ~SEQ(j, $i, 3) x $i $j` nests, and a variable keeps its last
//! value after the loop, like any `$NAME=` definition.

use super::{At, Def, MAX_EXPANSIONS, Reader, Walk};
use crate::diag::{KaClass, Severity, Span};
use crate::loops;

/// Loops open inside one another on one line (keepalived's 1024-byte lines allow ~100).
const MAX_LOOP_DEPTH: usize = 32;
/// Lines one physical line may repeat into, over all its loops.
const MAX_LOOP_LINES: u64 = 100_000;

impl Reader<'_> {
    /// Parses the loop at the start of `text` and processes its body once per value.
    pub(super) fn run_loop(&mut self, at: &At, col: u32, exact: bool, text: &str, walk: &mut Walk) {
        if walk.stopped {
            return;
        }
        let parsed = if text.starts_with("~SEQ") {
            let me = &*self;
            // keepalived substitutes parameters in the numbers, not in the variable.
            loops::parse_seq(text, &mut |params| {
                me.expand(params).ok().flatten().map(|(first, _)| first)
            })
        } else {
            loops::parse_lst(text)
        };
        let lp = match parsed {
            Ok(lp) => lp,
            Err(e) => {
                let column = if exact && e.exact {
                    col + text[..e.at].chars().count() as u32
                } else {
                    col
                };
                let message = if exact {
                    e.message
                } else {
                    format!("{} in '{text}'", e.message)
                };
                self.report_help(
                    Severity::Error,
                    KaClass::Config,
                    (at.file, at.line, column),
                    message,
                    e.help,
                );
                return;
            }
        };
        if walk.depth >= MAX_LOOP_DEPTH {
            self.report_help(
                Severity::Error,
                KaClass::Silent,
                (at.file, at.line, col),
                format!("~SEQ/~LST loops nested more than {MAX_LOOP_DEPTH} deep"),
                "a parameter that starts a loop probably refers to itself",
            );
            walk.stopped = true;
            return;
        }
        let count = lp.count();
        if count > MAX_LOOP_LINES.saturating_sub(walk.lines) {
            self.too_many_lines(at, col, walk);
            return;
        }
        let body = &text[lp.body..];
        let body_col = if exact {
            col + text[..lp.body].chars().count() as u32
        } else {
            col
        };
        for n in 0..count {
            if walk.stopped {
                return;
            }
            if walk.lines >= MAX_LOOP_LINES {
                self.too_many_lines(at, col, walk);
                return;
            }
            walk.lines += 1;
            for (var, value) in lp.binding(n) {
                self.defs.insert(
                    var,
                    Def {
                        value,
                        multiline: false,
                    },
                );
            }
            if body.is_empty() {
                continue;
            }
            let budget = std::mem::replace(&mut walk.budget, MAX_EXPANSIONS);
            walk.depth += 1;
            self.process_text_budget(at, body_col, exact, body.to_string(), walk);
            walk.depth -= 1;
            walk.budget = budget;
        }
    }

    fn too_many_lines(&mut self, at: &At, col: u32, walk: &mut Walk) {
        self.report_help(
            Severity::Error,
            KaClass::Silent,
            (at.file, at.line, col),
            format!("loops on this line repeat it more than {MAX_LOOP_LINES} times; rvs-keepalived allows no more"),
            "check START, STEP and END (and those of the loops around it)",
        );
        walk.stopped = true;
    }

    fn report_help(
        &mut self,
        sev: Severity,
        class: KaClass,
        (file, line, column): (usize, u32, u32),
        msg: String,
        help: &str,
    ) {
        let src = &self.sources[file];
        let span = Span {
            file: src.display.clone(),
            line,
            column,
            len: 1,
        };
        let text = src.line(line).map(str::to_string);
        self.diags.at(sev, class, span, text, msg).help = Some(help.to_string());
    }
}
