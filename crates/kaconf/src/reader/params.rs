//! `$NAME=VALUE` parameters: recording a definition and replacing `$NAME` /
//! `${NAME}` references the way keepalived's `check_definition` and
//! `replace_param` do.

use super::{Def, MAX_LINE, MAX_SUBSTITUTIONS, Reader};

impl Reader<'_> {
    /// `$NAME=VALUE`: records a definition and returns true.
    pub(super) fn definition(&mut self, text: &str) -> bool {
        let b = text.as_bytes();
        if b.len() < 2 || !(b[1].is_ascii_alphabetic() || b[1] == b'_') {
            return false;
        }
        let mut i = 2;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = &text[1..i];
        let rest = text[i..].trim_start_matches([' ', '\t']);
        let Some(value) = rest.strip_prefix('=') else {
            return false;
        };
        let value = value.trim_start_matches([' ', '\t']);
        let (value, multiline) = match value.strip_suffix('\\') {
            Some(v) => {
                let v = v.trim_end_matches([' ', '\t']);
                (
                    if v.is_empty() {
                        String::new()
                    } else {
                        format!("{v}\n")
                    },
                    true,
                )
            }
            None => (value.to_string(), false),
        };
        self.defs.insert(name.to_string(), Def { value, multiline });
        if multiline {
            self.continuing = Some(name.to_string());
        }
        true
    }

    /// Replaces `$NAME` / `${NAME}` references; returns the first line and any further
    /// lines, `Ok(None)` if nothing was replaced, `Err` if replacing never ends.
    ///
    /// Like keepalived, a replaced value is scanned again at once (so values may refer
    /// to other parameters), and a value starting with `~` ends the replacing: the rest
    /// of the line is left for the `~SEQ`/`~LST` loop that value starts.
    pub(super) fn expand(&self, text: &str) -> Result<Option<(String, Vec<String>)>, ()> {
        let mut out = String::new();
        let mut rest = text.to_string();
        let mut replaced = 0usize;
        let mut extra = Vec::new();
        while let Some(pos) = rest.find('$').filter(|&p| p + 1 < rest.len()) {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let (braced, name_start) = match after.strip_prefix('{') {
                Some(n) => (true, n),
                None => (false, after),
            };
            let nb = name_start.as_bytes();
            let ok_start = nb
                .first()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
            let mut n = 0;
            if ok_start {
                while n < nb.len() && (nb[n].is_ascii_alphanumeric() || nb[n] == b'_') {
                    n += 1;
                }
            }
            let name = &name_start[..n];
            let end_ok = if braced {
                nb.get(n) == Some(&b'}')
            } else {
                matches!(
                    nb.get(n),
                    None | Some(b' ') | Some(b'\t') | Some(b',') | Some(b')')
                )
            };
            let consumed = if braced { n + 2 } else { n };
            let at_end = after.len() == consumed;
            match self.defs.get(name).filter(|_| ok_start && end_ok) {
                Some(def) if !def.multiline || at_end => {
                    replaced += 1;
                    if replaced > MAX_SUBSTITUTIONS {
                        return Err(());
                    }
                    let mut lines = def.value.split('\n');
                    let first = lines.next().unwrap_or("");
                    // A nested multi-line value's lines come before the outer one's rest.
                    let mut more: Vec<String> = lines.map(str::to_string).collect();
                    more.append(&mut extra);
                    extra = more;
                    let next = format!("{first}{}", &after[consumed..]);
                    if out.len() + next.len() > MAX_LINE {
                        return Ok(None);
                    }
                    if def.value.trim_start_matches([' ', '\t']).starts_with('~') {
                        out.push_str(&next);
                        rest.clear();
                        break;
                    }
                    rest = next;
                }
                _ => {
                    out.push('$');
                    rest = after.to_string();
                }
            }
        }
        out.push_str(&rest);
        Ok((replaced > 0).then_some((out, extra)))
    }
}
