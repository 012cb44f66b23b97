//! Line reading as keepalived does it, before tokens: comments, `@id` conditional
//! lines, `$NAME=` parameters and their expansion, `~SEQ`/`~LST` loops, `include`
//! globs, and splitting each line at its first `{` or `}` so that braces always
//! stand alone.

mod loop_lines;
mod params;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostics, KaClass, Severity};
use crate::source::{self, SourceFile};

/// How deep includes may nest before we call it a loop.
const MAX_INCLUDE_DEPTH: usize = 32;
/// Parameter expansions allowed on one line (keepalived would loop forever on `$A=$A`).
const MAX_EXPANSIONS: usize = 64;
/// References replaced in one expansion (values are rescanned, so `$A=$A` never ends).
const MAX_SUBSTITUTIONS: usize = 1024;
/// Longest expanded line (keepalived's MAXBUF is 1024; we are more generous but bounded).
const MAX_LINE: usize = 64 * 1024;

/// What a logical line is after brace splitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegKind {
    /// Ordinary text: a keyword and its arguments.
    Text,
    /// A lone `{`.
    Open,
    /// A lone `}`.
    Close,
}

/// One logical line (segment) handed to the tokenizer.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Index into the parse's source files.
    pub file: usize,
    /// 1-based physical line number.
    pub line: u32,
    /// 1-based column where `text` starts in the physical line.
    pub col: u32,
    /// True when `text` is a verbatim slice of the source (columns of tokens are exact).
    pub exact: bool,
    /// True when this segment starts the physical line (after indentation).
    pub first_on_line: bool,
    /// What the segment is.
    pub kind: SegKind,
    /// The text (comments and surrounding blanks removed).
    pub text: String,
}

#[derive(Debug, Clone)]
struct Def {
    value: String,
    multiline: bool,
}

/// The physical line a piece of text comes from.
struct At {
    file: usize,
    line: u32,
    /// Column of the line's first non-blank character.
    indent: u32,
}

/// What expanding one physical line has used up so far.
struct Walk {
    /// Expansions left for the current text.
    budget: usize,
    /// `~SEQ`/`~LST` loops open around the current text.
    depth: usize,
    /// Lines repeated by loops so far.
    lines: u64,
    /// A loop limit was hit: generate nothing more from this line.
    stopped: bool,
}

struct Cursor {
    file: usize,
    next: usize,
}

/// The line reader: a stack of open files plus keepalived's parameter state.
pub struct Reader<'a> {
    /// All files read so far (diagnostics refer to them by index).
    pub sources: Vec<SourceFile>,
    stack: Vec<Cursor>,
    defs: HashMap<String, Def>,
    /// Name of the multi-line definition being continued, if any.
    continuing: Option<String>,
    pending: VecDeque<Segment>,
    config_id: Option<String>,
    diags: &'a mut Diagnostics,
}

impl<'a> Reader<'a> {
    /// Starts reading at `main`.
    pub fn new(main: SourceFile, config_id: Option<String>, diags: &'a mut Diagnostics) -> Self {
        let mut defs = HashMap::new();
        let pwd = main
            .path
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for (k, v) in [("_PWD", pwd.as_str()), ("_HASH", "#"), ("_BANG", "!")] {
            defs.insert(
                k.to_string(),
                Def {
                    value: v.to_string(),
                    multiline: false,
                },
            );
        }
        Reader {
            sources: vec![main],
            stack: vec![Cursor { file: 0, next: 0 }],
            defs,
            continuing: None,
            pending: VecDeque::new(),
            config_id,
            diags,
        }
    }

    fn report(&mut self, sev: Severity, class: KaClass, at: (usize, u32, u32, u32), msg: String) {
        let (file, line, column, len) = at;
        let src = &self.sources[file];
        let span = crate::diag::Span {
            file: src.display.clone(),
            line,
            column,
            len,
        };
        let text = src.line(line).map(str::to_string);
        self.diags.at(sev, class, span, text, msg);
    }

    /// The next logical segment, or `None` at the end of all files.
    pub fn next_segment(&mut self) -> Option<Segment> {
        loop {
            if let Some(s) = self.pending.pop_front() {
                return Some(s);
            }
            let (file, line_no, raw) = self.next_physical()?;
            self.process_physical(file, line_no, &raw);
        }
    }

    fn next_physical(&mut self) -> Option<(usize, u32, String)> {
        loop {
            let cur = self.stack.last_mut()?;
            let src = &self.sources[cur.file];
            if cur.next < src.lines.len() {
                let n = cur.next;
                cur.next += 1;
                return Some((cur.file, (n + 1) as u32, src.lines[n].clone()));
            }
            self.stack.pop();
        }
    }

    fn process_physical(&mut self, file: usize, line_no: u32, raw: &str) {
        let lead = raw.len() - raw.trim_start_matches([' ', '\t']).len();
        let col0 = raw[..lead].chars().count() as u32 + 1;
        let (text, cont) = self.decomment(&raw[lead..], file, line_no, col0);

        if let Some(name) = self.continuing.clone() {
            let def = self
                .defs
                .get_mut(&name)
                .expect("continued definition exists");
            if cont {
                let piece = text.trim_end_matches([' ', '\t']);
                def.value.push_str(piece);
                def.value.push('\n');
            } else {
                def.value.push_str(&text);
                self.continuing = None;
                if !def.value.contains('\n') {
                    def.multiline = false;
                }
                // Drop an empty last line left by a trailing "\".
                if def.value.ends_with('\n') {
                    def.value.pop();
                }
            }
            return;
        }
        if text.is_empty() {
            return;
        }
        let text = if cont { format!("{text}\\") } else { text };
        self.process_text(file, line_no, col0, true, col0, text);
    }

    /// Removes comments and blanks; returns the text and whether it ended with `\`.
    fn decomment(&mut self, s: &str, file: usize, line_no: u32, col0: u32) -> (String, bool) {
        let mut out = String::with_capacity(s.len());
        let mut quote_at: Option<usize> = None;
        let mut chars = s.char_indices().peekable();
        let mut cont = false;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    quote_at = if quote_at.is_some() { None } else { Some(i) };
                    out.push(c);
                }
                '\\' => match chars.peek() {
                    None => {
                        cont = true;
                    }
                    Some(&(_, n)) if quote_at.is_none() && (n == '#' || n == '!') => {
                        out.push(n);
                        chars.next();
                    }
                    Some(&(_, n)) => {
                        out.push('\\');
                        out.push(n);
                        chars.next();
                    }
                },
                '!' | '#' if quote_at.is_none() => break,
                _ => out.push(c),
            }
        }
        if let Some(q) = quote_at {
            let col = col0 + s[..q].chars().count() as u32;
            self.report(
                Severity::Error,
                KaClass::Config,
                (file, line_no, col, 1),
                "Unterminated quote: this '\"' is never closed on its line".to_string(),
            );
        }
        let trimmed = out.trim_end_matches([' ', '\t']).len();
        out.truncate(trimmed);
        (out, cont)
    }

    /// Conditional lines, definitions, loops, expansion, includes, then brace splitting.
    fn process_text(
        &mut self,
        file: usize,
        line_no: u32,
        col0: u32,
        exact0: bool,
        indent: u32,
        text0: String,
    ) {
        let at = At {
            file,
            line: line_no,
            indent,
        };
        let mut walk = Walk {
            budget: MAX_EXPANSIONS,
            depth: 0,
            lines: 0,
            stopped: false,
        };
        self.process_text_budget(&at, col0, exact0, text0, &mut walk);
    }

    /// One pass of keepalived's `read_line` over a piece of text starting at `col`.
    fn process_text_budget(
        &mut self,
        at: &At,
        mut col: u32,
        mut exact: bool,
        mut text: String,
        walk: &mut Walk,
    ) {
        let (file, line_no) = (at.file, at.line);
        // Further lines produced by multi-line parameter values, in order.
        let mut extras: Vec<String> = Vec::new();
        loop {
            if let Some(rest) = text.strip_prefix('@') {
                let (rev, rest) = match rest.strip_prefix('^') {
                    Some(r) => (true, r),
                    None => (false, rest),
                };
                let Some(ws) = rest.find([' ', '\t']) else {
                    break;
                };
                let id = &rest[..ws];
                let matches = self.config_id.as_deref() == Some(id);
                if matches == rev {
                    text.clear();
                    break;
                }
                let body = rest[ws..].trim_start_matches([' ', '\t']);
                let skipped = text.len() - body.len();
                col += text[..skipped].chars().count() as u32;
                text = body.to_string();
                continue;
            }
            if text.starts_with('$') && self.definition(&text) {
                text.clear();
                break;
            }
            if text.starts_with("~SEQ") || text.starts_with("~LST") {
                self.run_loop(at, col, exact, &text, walk);
                text.clear();
                break;
            }
            if text.starts_with('~') || !text.contains('$') {
                break;
            }
            let expanded = match self.expand(&text) {
                Ok(Some(e)) if walk.budget > 0 => e,
                Ok(None) => break,
                _ => {
                    self.report(
                        Severity::Error,
                        KaClass::Silent,
                        (file, line_no, col, 1),
                        "parameter expansion does not terminate (a definition refers to itself?)"
                            .into(),
                    );
                    text.clear();
                    break;
                }
            };
            walk.budget -= 1;
            exact = false;
            let (first, more) = expanded;
            let (t, _) = self.decomment(&first, file, line_no, col);
            text = t;
            let mut new_extras = more;
            new_extras.append(&mut extras);
            extras = new_extras;
            // keepalived looks at the line again only if it may still change.
            if !(text.starts_with('@') || text.contains('$')) {
                break;
            }
        }
        if !text.is_empty() && !self.include(&text, file, line_no, col) {
            self.split_braces(file, line_no, col, exact, at.indent, text);
        }
        for extra in extras {
            let t = extra.trim_start_matches([' ', '\t']).to_string();
            if !t.is_empty() {
                self.process_text_budget(at, col, false, t, walk);
            }
        }
    }

    /// `include`/`includer`/... FILE-GLOB: pushes the matched files; true if it was one.
    fn include(&mut self, text: &str, file: usize, line_no: u32, col: u32) -> bool {
        let b = text.as_bytes();
        if !text.starts_with("include") || b.len() < 8 {
            return false;
        }
        let (strict, arg) = if b[7] == b' ' || b[7] == b'\t' {
            (false, &text[8..])
        } else if b.len() > 9 && b"rmwba".contains(&b[7]) && (b[8] == b' ' || b[8] == b'\t') {
            (true, &text[9..])
        } else {
            return false;
        };
        let pattern = arg.trim_matches([' ', '\t']);
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            self.report(Severity::Error, KaClass::Fatal, (file, line_no, col, 7), format!("include nesting deeper than {MAX_INCLUDE_DEPTH}: is '{pattern}' including itself?"));
            return true;
        }
        let cur = &self.sources[file];
        let base_real = cur.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base_disp = cur
            .display
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let matches = source::glob(&base_real, pattern);
        if matches.is_empty() {
            let class = if strict {
                KaClass::Fatal
            } else {
                KaClass::Info
            };
            let sev = if source::has_wildcards(pattern) {
                Severity::Note
            } else {
                Severity::Warning
            };
            self.report(
                sev,
                class,
                (file, line_no, col, 7),
                format!("Config files missing '{pattern}'."),
            );
            return true;
        }
        // Sources are kept in match order; cursors are pushed in reverse so the first match is read first.
        let mut opened = Vec::new();
        for (disp, real) in matches {
            let display = if disp.is_absolute() {
                disp
            } else {
                base_disp.join(disp)
            };
            match source::read_text(&real) {
                Ok(t) => {
                    self.sources.push(SourceFile::from_text(display, real, &t));
                    opened.push(self.sources.len() - 1);
                }
                Err(e) => self.report(
                    Severity::Error,
                    KaClass::Fatal,
                    (file, line_no, col, 7),
                    format!("cannot read included file '{}': {e}", display.display()),
                ),
            }
        }
        for idx in opened.into_iter().rev() {
            self.stack.push(Cursor { file: idx, next: 0 });
        }
        true
    }

    /// Splits at the first `{`/`}` outside double quotes, repeatedly.
    fn split_braces(
        &mut self,
        file: usize,
        line_no: u32,
        mut col: u32,
        exact: bool,
        indent: u32,
        mut text: String,
    ) {
        loop {
            let first_on_line = col == indent;
            let pos = if text.starts_with(['{', '}']) {
                Some(0)
            } else {
                find_brace(&text)
            };
            match pos {
                Some(0) => {
                    let kind = if text.starts_with('{') {
                        SegKind::Open
                    } else {
                        SegKind::Close
                    };
                    self.pending.push_back(Segment {
                        file,
                        line: line_no,
                        col,
                        exact,
                        first_on_line,
                        kind,
                        text: text[..1].to_string(),
                    });
                    let rest = &text[1..];
                    let trimmed = rest.trim_start_matches([' ', '\t']);
                    col += 1 + (rest.len() - trimmed.len()) as u32;
                    text = trimmed.to_string();
                    if text.is_empty() {
                        return;
                    }
                }
                Some(p) => {
                    let head = text[..p].trim_end_matches([' ', '\t']).to_string();
                    let width = text[..p].chars().count() as u32;
                    self.pending.push_back(Segment {
                        file,
                        line: line_no,
                        col,
                        exact,
                        first_on_line,
                        kind: SegKind::Text,
                        text: head,
                    });
                    col += width;
                    text = text[p..].to_string();
                }
                None => {
                    self.pending.push_back(Segment {
                        file,
                        line: line_no,
                        col,
                        exact,
                        first_on_line,
                        kind: SegKind::Text,
                        text,
                    });
                    return;
                }
            }
        }
    }
}

/// Byte index of the first `{` or `}` not inside double quotes.
fn find_brace(s: &str) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '{' | '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// Resolves the main file's display name and reads it.
pub fn load_main(path: &Path) -> std::io::Result<SourceFile> {
    let text = source::read_text(path)?;
    Ok(SourceFile::from_text(
        path.to_path_buf(),
        path.to_path_buf(),
        &text,
    ))
}

/// Builds a main source from text with a display name (for `parse_str`).
pub fn main_from_text(name: &str, text: &str) -> SourceFile {
    SourceFile::from_text(PathBuf::from(name), PathBuf::from(name), text)
}
