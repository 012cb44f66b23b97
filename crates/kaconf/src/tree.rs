//! The untyped statement tree: every logical line is a statement (keyword + arguments),
//! and a lone `{` after it opens that statement's block. Braces are checked here, so
//! later stages only see well-formed nesting.

use crate::diag::{Diagnostics, KaClass, Severity, Span};
use crate::lexer::{self, Token};
use crate::reader::{Reader, SegKind};
use crate::source::SourceFile;

/// Where something is in the sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    /// Index into the parse's source files.
    pub file: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Width for the caret.
    pub len: u32,
}

/// A keyword line, with its block if it has one.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// The first word.
    pub kw: Token,
    /// The other words.
    pub args: Vec<Token>,
    /// Where the keyword is.
    pub loc: Loc,
    /// The `{ … }` that followed, if any.
    pub block: Option<Block>,
}

/// The body of a `{ … }`.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Where the `{` is.
    pub open: Loc,
    /// Where the `}` is (the end of input when missing).
    pub close: Loc,
    /// Statements inside, in order.
    pub body: Vec<Stmt>,
}

impl Stmt {
    /// The keyword text.
    pub fn name(&self) -> &str {
        &self.kw.text
    }

    /// Argument `i` (0-based, after the keyword).
    pub fn arg(&self, i: usize) -> Option<&Token> {
        self.args.get(i)
    }

    /// Location of argument `i`, or of the keyword if it is missing.
    pub fn arg_loc(&self, i: usize) -> Loc {
        match self.args.get(i) {
            Some(t) => Loc {
                file: self.loc.file,
                line: self.loc.line,
                col: t.col,
                len: t.len,
            },
            None => self.loc,
        }
    }

    /// The keyword and arguments as one word list (used for value blocks such as VIP lists).
    pub fn words(&self) -> impl Iterator<Item = &Token> {
        std::iter::once(&self.kw).chain(self.args.iter())
    }
}

/// Deepest nesting kept; keepalived's grammar needs 5 (virtual_server/real_server/HTTP_GET/url).
const MAX_DEPTH: usize = 64;

struct Open {
    stmt: Option<Stmt>,
    block: Block,
    /// Column of the opening keyword (its indentation), for guessing a missing `}`.
    indent: u32,
}

/// Reads all segments and builds the top-level statement list.
pub fn build(
    reader: &mut Reader<'_>,
    diags_out: &mut Vec<(Severity, KaClass, Loc, String, Option<String>)>,
) -> Vec<Stmt> {
    let mut top: Vec<Stmt> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    // Whether the previous segment was a statement that a `{` may open.
    let mut last_can_open = false;
    // First block whose `}` did not line up with its keyword: the likeliest place of a missing `}`.
    let mut suspect: Option<(Loc, String, u32)> = None;
    let mut too_deep = false;
    while let Some(seg) = reader.next_segment() {
        let loc = Loc {
            file: seg.file,
            line: seg.line,
            col: seg.col,
            len: 1,
        };
        match seg.kind {
            SegKind::Open => {
                let stack_len = stack.len();
                let body = match stack.last_mut() {
                    Some(o) => &mut o.block.body,
                    None => &mut top,
                };
                if stack_len >= MAX_DEPTH {
                    if !too_deep {
                        diags_out.push((
                            Severity::Error,
                            KaClass::Config,
                            loc,
                            format!("blocks nested deeper than {MAX_DEPTH} levels are ignored"),
                            None,
                        ));
                        too_deep = true;
                    }
                    stack.push(Open {
                        stmt: None,
                        block: Block {
                            open: loc,
                            close: loc,
                            body: Vec::new(),
                        },
                        indent: seg.col,
                    });
                } else if last_can_open && body.last().is_some_and(|s| s.block.is_none()) {
                    let stmt = body.pop().expect("checked non-empty");
                    let indent = stmt.loc.col;
                    stack.push(Open {
                        stmt: Some(stmt),
                        block: Block {
                            open: loc,
                            close: loc,
                            body: Vec::new(),
                        },
                        indent,
                    });
                } else {
                    diags_out.push((
                        Severity::Error,
                        KaClass::Config,
                        loc,
                        "Unexpected '{' - no keyword before it opens a block".into(),
                        None,
                    ));
                    stack.push(Open {
                        stmt: None,
                        block: Block {
                            open: loc,
                            close: loc,
                            body: Vec::new(),
                        },
                        indent: seg.col,
                    });
                }
                last_can_open = false;
            }
            SegKind::Close => {
                last_can_open = false;
                let Some(mut open) = stack.pop() else {
                    diags_out.push((
                        Severity::Error,
                        KaClass::Config,
                        loc,
                        "Extra '}' found: nothing is open here".into(),
                        Some("remove this '}' or the '}' that closed the block too early".into()),
                    ));
                    continue;
                };
                open.block.close = loc;
                if seg.first_on_line && seg.col != open.indent && suspect.is_none() {
                    let what = open
                        .stmt
                        .as_ref()
                        .map(|s| s.kw.text.clone())
                        .unwrap_or_else(|| "{".into());
                    if let Some(s) = &open.stmt {
                        suspect = Some((s.loc, what, seg.line));
                    }
                }
                let body = match stack.last_mut() {
                    Some(o) => &mut o.block.body,
                    None => &mut top,
                };
                if let Some(mut stmt) = open.stmt {
                    stmt.block = Some(open.block);
                    body.push(stmt);
                }
            }
            SegKind::Text => {
                let lexed = lexer::tokenize(&seg.text, seg.col, seg.exact);
                let mut words = lexed.tokens.into_iter();
                let Some(kw) = words.next() else {
                    last_can_open = false;
                    continue;
                };
                let kloc = Loc {
                    file: seg.file,
                    line: seg.line,
                    col: kw.col,
                    len: kw.len,
                };
                let stmt = Stmt {
                    kw,
                    args: words.collect(),
                    loc: kloc,
                    block: None,
                };
                let body = match stack.last_mut() {
                    Some(o) => &mut o.block.body,
                    None => &mut top,
                };
                body.push(stmt);
                last_can_open = true;
            }
        }
    }
    if !stack.is_empty() {
        let n = stack.len();
        let innermost = stack
            .last()
            .and_then(|o| o.stmt.as_ref().map(|s| (s.loc, s.kw.text.clone())));
        let (loc, msg, help) = match (&suspect, innermost) {
            (Some((sloc, what, close_line)), _) => (
                *sloc,
                format!(
                    "There are {n} missing '}}'s: the block '{what}' opened here is probably not closed"
                ),
                format!(
                    "the '}}' on line {close_line} is indented differently from '{what}' and was taken as its end; add the missing '}}' before it"
                ),
            ),
            (None, Some((l, what))) => (
                l,
                format!(
                    "There are {n} missing '}}'s: the block '{what}' opened here is not closed"
                ),
                "add '}' at the end of the block".to_string(),
            ),
            (None, None) => (
                Loc::default(),
                format!("There are {n} missing '}}'s"),
                "add the missing '}'".to_string(),
            ),
        };
        diags_out.push((Severity::Error, KaClass::Config, loc, msg, Some(help)));
        // Close everything so the statements are not lost.
        while let Some(mut open) = stack.pop() {
            let body = match stack.last_mut() {
                Some(o) => &mut o.block.body,
                None => &mut top,
            };
            if let Some(mut stmt) = open.stmt.take() {
                stmt.block = Some(open.block);
                body.push(stmt);
            }
        }
    }
    top
}

/// Converts a [`Loc`] into a diagnostic [`Span`] plus the source line text.
pub fn span_of(sources: &[SourceFile], loc: Loc) -> (Span, Option<String>) {
    match sources.get(loc.file) {
        Some(src) => (
            Span {
                file: src.display.clone(),
                line: loc.line,
                column: loc.col,
                len: loc.len.max(1),
            },
            src.line(loc.line).map(str::to_string),
        ),
        None => (Span::default(), None),
    }
}

/// Records a positioned diagnostic.
pub fn report(
    diags: &mut Diagnostics,
    sources: &[SourceFile],
    sev: Severity,
    class: KaClass,
    loc: Loc,
    msg: String,
    help: Option<String>,
) {
    let (span, line) = span_of(sources, loc);
    let d = diags.at(sev, class, span, line, msg);
    d.help = help;
}
