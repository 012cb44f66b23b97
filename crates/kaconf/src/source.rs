//! Configuration files as read: their names for diagnostics, their lines, and include globs.

use std::fs;
use std::path::{Path, PathBuf};

/// Largest file we read (keepalived reads line by line; we refuse absurd inputs).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One configuration file that took part in the parse.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (as given, or as an include glob produced it).
    pub display: PathBuf,
    /// Where it was read from (the directory of this path anchors relative includes).
    pub path: PathBuf,
    /// The file's lines, without line terminators.
    pub lines: Vec<String>,
}

impl SourceFile {
    /// Builds a source from text (used for the main file and for tests).
    pub fn from_text(display: PathBuf, path: PathBuf, text: &str) -> Self {
        let lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect::<Vec<_>>();
        let mut lines = lines;
        // A trailing newline yields one empty last element: it is not a line.
        if text.ends_with('\n') {
            lines.pop();
        }
        SourceFile {
            display,
            path,
            lines,
        }
    }

    /// The text of 1-based line `n`, if it exists.
    pub fn line(&self, n: u32) -> Option<&str> {
        self.lines
            .get((n as usize).checked_sub(1)?)
            .map(String::as_str)
    }
}

/// Reads a regular file as (lossy) UTF-8 text.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other("file too large"));
    }
    let bytes = fs::read(path)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// True if the pattern has glob metacharacters (`*`, `?`, `[`) or a brace list.
pub fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[']) || has_brace(pattern)
}

/// True if the pattern has a `{a,b}` list (GLOB_BRACE).
pub fn has_brace(pattern: &str) -> bool {
    match (pattern.find('{'), pattern.rfind('}')) {
        (Some(a), Some(b)) => a < b && pattern[a..b].contains(','),
        _ => false,
    }
}

/// Expands `{a,b}` lists (nested lists allowed), left to right, like GLOB_BRACE.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    // Each list multiplies the results: refuse to expand absurd patterns.
    if pattern.matches('{').count() > 8 {
        return vec![pattern.to_string()];
    }
    let bytes = pattern.as_bytes();
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    // Find the matching close brace and the top-level commas inside.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    if commas.is_empty() {
        // "{x}" is literal; look for a later list.
        let rest = expand_braces(&pattern[close + 1..]);
        return rest
            .into_iter()
            .map(|r| format!("{}{}", &pattern[..=close], r))
            .collect();
    }
    let head = &pattern[..open];
    let tail = &pattern[close + 1..];
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt = &pattern[w[0] + 1..w[1]];
        for e in expand_braces(&format!("{head}{alt}{tail}")) {
            out.push(e);
        }
    }
    out
}

/// Matches one path component against a glob component (`*`, `?`, `[...]`, `[!...]`).
pub fn component_matches(pattern: &str, name: &str) -> bool {
    // Like glob(3): a leading '.' must be matched explicitly.
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with single-star backtracking.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(p, pi, n[ni]) {
                        if matched {
                            pi = next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == n[ni] {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c => {
                    if c == n[ni] {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`; returns (matched, index after `]`).
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// Expands an include pattern relative to `base_dir`, sorted like glob(3).
///
/// Returns (display name as the pattern spelled it, path to read) pairs. A pattern
/// without wildcards yields itself if the file exists.
pub fn glob(base_dir: &Path, pattern: &str) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for pat in expand_braces(pattern) {
        let mut found = Vec::new();
        let absolute = pat.starts_with('/');
        let comps: Vec<&str> = pat.split('/').filter(|c| !c.is_empty()).collect();
        let start_disp = if absolute {
            PathBuf::from("/")
        } else {
            PathBuf::new()
        };
        let start_real = if absolute {
            PathBuf::from("/")
        } else {
            base_dir.to_path_buf()
        };
        walk(&comps, start_disp, start_real, &mut found);
        found.sort();
        out.extend(found);
    }
    out
}

fn walk(comps: &[&str], disp: PathBuf, real: PathBuf, out: &mut Vec<(PathBuf, PathBuf)>) {
    let Some((first, rest)) = comps.split_first() else {
        if real.is_file() {
            out.push((disp, real));
        }
        return;
    };
    if !first.contains(['*', '?', '[']) {
        let real = if *first == "." && disp.as_os_str().is_empty() {
            real
        } else {
            real.join(first)
        };
        walk(rest, disp.join(first), real, out);
        return;
    }
    let Ok(dir) = fs::read_dir(if real.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &real
    }) else {
        return;
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| component_matches(first, n))
        .collect();
    names.sort();
    for n in names {
        walk(rest, disp.join(&n), real.join(&n), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_in_order() {
        assert_eq!(expand_braces("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(expand_braces("{x,y}{1,2}"), vec!["x1", "x2", "y1", "y2"]);
        assert_eq!(expand_braces("plain"), vec!["plain"]);
    }

    #[test]
    fn components_match_like_glob() {
        assert!(component_matches("*.conf", "10-a.conf"));
        assert!(!component_matches("*.conf", ".hidden.conf"));
        assert!(component_matches("1?-*.conf", "10-a.conf"));
        assert!(component_matches("[0-9]*", "7x"));
        assert!(!component_matches("[!0-9]*", "7x"));
        assert!(!component_matches("*.conf", "a.conf.bak"));
    }
}
