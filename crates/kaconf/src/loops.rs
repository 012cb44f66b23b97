//! keepalived's loop lines, `~SEQ(var, start, step, end)`, `~SEQx(…)` and
//! `~LST(var, v1, v2, …)` / `~LST({a,b}, {1,2}, …)`: parsing the head of the line
//! and enumerating the bindings. The reader repeats the rest of the line once per
//! binding with the variables defined as parameters.
//!
//! The parsing follows keepalived 2.2.7 (lib/parser.c `add_seq`/`add_lst`) character
//! by character, quirks included, because a config that keepalived accepts must
//! expand to the same lines here: numbers are read like C `strtol(…, 0)` (so `010` is
//! octal and `0x10` hex), a missing number counts as 0, the character after the SEQ
//! variable is skipped whatever it is, and unbraced LST values leave the other
//! variables blank.
//!
//! One keepalived 2.2.7 bug is not reproduced: a refused `~LST` decrements its count
//! of open loops all the same, after which later loop lines may silently produce
//! nothing. Here they expand normally; the refused `~LST` is an error either way.

/// Longest SEQ parameter text keepalived copies (`3 * 20 + 3 + 1` bytes with the NUL).
const SEQ_PARAMS_MAX: usize = 63;

/// A parsed loop head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// `~SEQ`: `var` runs from `start` by `step` while not past `end`.
    Seq {
        /// The variable name.
        var: String,
        /// First value.
        start: i64,
        /// Increment (never 0; its sign points from `start` towards `end`).
        step: i64,
        /// Last value allowed (it need not be reached exactly).
        end: i64,
        /// `~SEQx`: values are written in lower-case hex without `0x`.
        hex: bool,
    },
    /// `~LST`: one iteration per value set; each set has one value per variable.
    Lst {
        /// The variable names.
        vars: Vec<String>,
        /// The value sets, each as long as `vars` (missing values are blank).
        sets: Vec<Vec<String>>,
    },
}

/// A loop line: what to iterate and where the repeated text starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loop {
    /// The iteration.
    pub spec: Spec,
    /// Byte offset in the line where the repeated text starts (blanks skipped).
    pub body: usize,
}

/// Why a loop head was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopError {
    /// Byte offset in the line of the offending character.
    pub at: usize,
    /// Whether `at` points into the line as written (false after parameter expansion).
    pub exact: bool,
    /// The message, worded like keepalived's.
    pub message: String,
    /// How to write it instead.
    pub help: &'static str,
}

const SEQ_HELP: &str = "write ~SEQ(VAR, START, STEP, END), ~SEQ(VAR, START, END) or ~SEQ(VAR, END) followed by the line to repeat; use $VAR or ${VAR} in it";
const LST_HELP: &str = "write ~LST(VAR, V1, V2, ...) or ~LST({VAR1,VAR2}, {V1,V2}, {V3,V4}, ...) followed by the line to repeat";

impl Loop {
    /// How many times the body is repeated.
    pub fn count(&self) -> u64 {
        match &self.spec {
            Spec::Seq {
                start, step, end, ..
            } => ((*end as i128 - *start as i128) / *step as i128 + 1).min(u64::MAX as i128) as u64,
            Spec::Lst { sets, .. } => sets.len() as u64,
        }
    }

    /// The variable bindings of iteration `n` (`n < count()`).
    pub fn binding(&self, n: u64) -> Vec<(String, String)> {
        match &self.spec {
            Spec::Seq {
                var,
                start,
                step,
                hex,
                ..
            } => {
                // In range by construction: the value lies between start and end.
                let v = (*start as i128 + n as i128 * *step as i128) as i64;
                let text = if *hex {
                    format!("{:x}", v as u64)
                } else {
                    v.to_string()
                };
                vec![(var.clone(), text)]
            }
            Spec::Lst { vars, sets } => vars
                .iter()
                .cloned()
                .zip(sets[n as usize].iter().cloned())
                .collect(),
        }
    }
}

fn blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn until(b: &[u8], mut i: usize, stops: &[u8]) -> usize {
    while i < b.len() && !stops.contains(&b[i]) {
        i += 1;
    }
    i
}

/// C `strtol(s + i, &end, 0)` on 64-bit Linux: returns the value and `end`
/// (`i` itself when there are no digits; values out of range saturate).
pub fn strtol(b: &[u8], i: usize) -> (i64, usize) {
    let mut j = i;
    while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        j += 1;
    }
    let neg = match b.get(j) {
        Some(b'-') => {
            j += 1;
            true
        }
        Some(b'+') => {
            j += 1;
            false
        }
        _ => false,
    };
    let radix = if b.get(j) == Some(&b'0')
        && matches!(b.get(j + 1), Some(b'x' | b'X'))
        && b.get(j + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        j += 2;
        16
    } else if b.get(j) == Some(&b'0') {
        8
    } else {
        10
    };
    let digits_from = j;
    let mut mag: u128 = 0;
    while let Some(d) = b.get(j).and_then(|&c| (c as char).to_digit(radix)) {
        mag = (mag * radix as u128 + d as u128).min(1 << 64);
        j += 1;
    }
    if j == digits_from {
        return (0, i);
    }
    let v = if neg {
        if mag >= 1 << 63 {
            i64::MIN
        } else {
            -(mag as i64)
        }
    } else {
        mag.min(i64::MAX as u128) as i64
    };
    (v, j)
}

/// Parses a line starting with `~SEQ`. `expand` substitutes parameters in the
/// numbers (keepalived does, the variable name is left alone); it returns `None`
/// when nothing was substituted.
pub fn parse_seq(
    line: &str,
    expand: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<Loop, LoopError> {
    let b = line.as_bytes();
    let bad = |at: usize, exact: bool, message: String| LoopError {
        at: at.min(line.len()),
        exact,
        message,
        help: SEQ_HELP,
    };
    let mut p = 4;
    let hex = b.get(p) == Some(&b'x');
    if hex {
        p += 1;
    }
    p = blanks(b, p);
    if b.get(p) != Some(&b'(') {
        return Err(bad(
            p,
            true,
            "Invalid ~SEQ specification: '(' expected".into(),
        ));
    }
    p = blanks(b, p + 1);
    let var_at = p;
    p = until(b, p, b" \t,)");
    let var = &line[var_at..p];
    p = blanks(b, p);
    if p >= b.len() || b[p] == b')' || p == var_at {
        return Err(bad(
            p,
            true,
            "Invalid ~SEQ definition: a variable name and ',' expected".into(),
        ));
    }
    // keepalived skips whatever character follows the name, normally the ','.
    p = blanks(b, p + 1);
    let Some(close) = line[p..].find(')').map(|c| p + c) else {
        return Err(bad(line.len(), true, "~SEQ missing terminating ')'".into()));
    };
    if close + 1 - p > SEQ_PARAMS_MAX {
        return Err(bad(
            p,
            true,
            format!("~SEQ parameter strings too long (more than {SEQ_PARAMS_MAX} characters)"),
        ));
    }
    let raw = &line[p..=close];
    // keepalived gives up on a substitution that would not fit its buffer.
    let (params, exact) = match expand(raw) {
        Some(s) if s.len() <= SEQ_PARAMS_MAX => (s, false),
        _ => (raw.to_string(), true),
    };
    let at = |i: usize| if exact { p + i } else { p };
    let q = params.as_bytes();
    let (one, mut i) = strtol(q, 0);
    i = blanks(q, i);
    let (start, step, end) = if q.get(i) == Some(&b')') {
        let end = one;
        (
            if end < 0 { -1 } else { 1 },
            if end < 1 { -1 } else { 1 },
            end,
        )
    } else {
        if q.get(i) != Some(&b',') {
            return Err(bad(
                at(i),
                exact,
                "Invalid ~SEQ definition: ',' or ')' expected".into(),
            ));
        }
        let (two, j) = strtol(q, i + 1);
        i = blanks(q, j);
        if q.get(i) == Some(&b')') {
            (one, if one <= two { 1 } else { -1 }, two)
        } else {
            if q.get(i) != Some(&b',') {
                return Err(bad(
                    at(i),
                    exact,
                    "Invalid ~SEQ definition: ',' or ')' expected".into(),
                ));
            }
            let (three, j) = strtol(q, i + 1);
            i = blanks(q, j);
            if q.get(i) != Some(&b')') {
                return Err(bad(
                    at(i),
                    exact,
                    "Invalid ~SEQ definition: ')' expected after END".into(),
                ));
            }
            if two == 0 || (one < three && two < 0) || (one > three && two > 0) {
                let why = if two == 0 {
                    "STEP is 0"
                } else {
                    "STEP goes away from END"
                };
                return Err(bad(p, exact, format!("Invalid ~SEQ values: {why}")));
            }
            (one, two, three)
        }
    };
    if hex && (start < 0 || end < 0) {
        return Err(bad(
            p,
            exact,
            "~SEQx is only valid for positive numbers".into(),
        ));
    }
    Ok(Loop {
        spec: Spec::Seq {
            var: var.to_string(),
            start,
            step,
            end,
            hex,
        },
        body: blanks(b, close + 1),
    })
}

/// Parses a line starting with `~LST`.
pub fn parse_lst(line: &str) -> Result<Loop, LoopError> {
    let b = line.as_bytes();
    let bad = |at: usize, message: &str| LoopError {
        at: at.min(line.len()),
        exact: true,
        message: message.to_string(),
        help: LST_HELP,
    };
    let invalid = |at: usize, what: &str| bad(at, &format!("Invalid ~LST specification: {what}"));
    let mut p = blanks(b, 4);
    if b.get(p) != Some(&b'(') {
        return Err(invalid(p, "'(' expected"));
    }
    p = blanks(b, p + 1);
    let braced = b.get(p) == Some(&b'{');
    if braced {
        p = blanks(b, p + 1);
    }
    let end_char = if braced { b'}' } else { b',' };
    let mut vars = Vec::new();
    loop {
        let name_at = p;
        p = until(b, p, b" \t,}");
        vars.push(line[name_at..p].to_string());
        p = blanks(b, p);
        if b.get(p) == Some(&end_char) {
            break;
        }
        if b.get(p) != Some(&b',') {
            let what = if braced {
                "',' or '}' expected after a variable"
            } else {
                "',' expected after the variable"
            };
            return Err(invalid(p, what));
        }
        p = blanks(b, p + 1);
    }
    if b.get(p) == Some(&b'}') {
        p = blanks(b, p + 1);
    }
    if b.get(p) != Some(&b',') {
        return Err(invalid(p, "',' and values expected after the variables"));
    }
    p = blanks(b, p + 1);
    let mut sets = Vec::new();
    loop {
        let braced = b.get(p) == Some(&b'{');
        if braced {
            p = blanks(b, p + 1);
        }
        let end_char = if braced { b'}' } else { b',' };
        let mut set = Vec::new();
        loop {
            let value_at = p;
            p = until(b, p, b" \t,})");
            set.push(line[value_at..p].to_string());
            p = blanks(b, p);
            if b.get(p) == Some(&end_char) || (b.get(p) == Some(&b')') && !braced) {
                break;
            }
            if b.get(p) != Some(&b',') {
                let what = if braced {
                    "',' or '}' expected after a value"
                } else {
                    "',' or ')' expected after a value"
                };
                return Err(invalid(p, what));
            }
            p = blanks(b, p + 1);
            if set.len() > vars.len() - 1 {
                return Err(bad(
                    p,
                    &format!(
                        "~LST specification has too many values: {} variable(s)",
                        vars.len()
                    ),
                ));
            }
        }
        set.resize(vars.len(), String::new());
        sets.push(set);
        if braced && b.get(p) == Some(&b'}') {
            p = blanks(b, p + 1);
        }
        if b.get(p) == Some(&b')') {
            break;
        }
        if b.get(p) != Some(&b',') {
            return Err(invalid(p, "',' or ')' expected after a value set"));
        }
        p = blanks(b, p + 1);
    }
    Ok(Loop {
        spec: Spec::Lst { vars, sets },
        body: blanks(b, p + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(line: &str) -> Result<Loop, LoopError> {
        parse_seq(line, &mut |_| None)
    }

    fn values(l: &Loop) -> Vec<String> {
        (0..l.count())
            .map(|n| {
                l.binding(n)
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    }

    #[test]
    fn strtol_is_c_like() {
        assert_eq!(strtol(b" 12,", 0), (12, 3));
        assert_eq!(strtol(b"010)", 0), (8, 3));
        assert_eq!(strtol(b"0x1f)", 0), (31, 4));
        assert_eq!(strtol(b"0xg", 0), (0, 1));
        assert_eq!(strtol(b"-7", 0), (-7, 2));
        assert_eq!(strtol(b"abc", 0), (0, 0));
        assert_eq!(strtol(b"-", 0), (0, 0));
        assert_eq!(strtol(b"99999999999999999999", 0).0, i64::MAX);
        assert_eq!(strtol(b"-99999999999999999999", 0).0, i64::MIN);
        assert_eq!(strtol(b"-9223372036854775808", 0).0, i64::MIN);
    }

    #[test]
    fn seq_forms() {
        let l = seq("~SEQ(i, 1, 3, 8) x $i").unwrap();
        assert_eq!(values(&l), ["i=1", "i=4", "i=7"]);
        assert_eq!(&"~SEQ(i, 1, 3, 8) x $i"[l.body..], "x $i");
        assert_eq!(values(&seq("~SEQ(i, 3)").unwrap()), ["i=1", "i=2", "i=3"]);
        assert_eq!(values(&seq("~SEQ(i, 0)").unwrap()), ["i=1", "i=0"]);
        assert_eq!(values(&seq("~SEQ(i, -2)").unwrap()), ["i=-1", "i=-2"]);
        assert_eq!(
            values(&seq("~SEQ(i, 5, 3)").unwrap()),
            ["i=5", "i=4", "i=3"]
        );
        assert_eq!(
            values(&seq("~SEQ(i, 5, -2, 0)").unwrap()),
            ["i=5", "i=3", "i=1"]
        );
        assert_eq!(
            values(&seq("~SEQx(i, 9, 11)").unwrap()),
            ["i=9", "i=a", "i=b"]
        );
        assert_eq!(
            values(&seq("~SEQ(i j, 1, 2)").unwrap()),
            ["i=0", "i=1", "i=2"]
        );
        assert_eq!(
            seq("~SEQ(i, 1, 1, 9223372036854775807)").unwrap().count(),
            i64::MAX as u64
        );
    }

    #[test]
    fn seq_errors_point_at_the_fault() {
        let e = seq("~SEQ(i, 1, 0, 3) x").unwrap_err();
        assert!(e.message.contains("STEP is 0"), "{e:?}");
        assert!(
            seq("~SEQ(i, 3, 1, 1)")
                .unwrap_err()
                .message
                .contains("away")
        );
        assert!(
            seq("~SEQx(i, -1, 3)")
                .unwrap_err()
                .message
                .contains("positive")
        );
        assert_eq!(
            seq("~SEQ(i,3").unwrap_err().message,
            "~SEQ missing terminating ')'"
        );
        assert_eq!(seq("~SEQUENCE(i,3)").unwrap_err().at, 4);
        assert_eq!(seq("~SEQ(i, 1; 3)").unwrap_err().at, 9);
        assert_eq!(seq("~SEQ(i)").unwrap_err().at, 6);
        let long = format!("~SEQ(i, {}1)", " ".repeat(70));
        assert!(
            seq(&long).is_ok(),
            "leading blanks are skipped before the length check"
        );
        let long = format!("~SEQ(i, 1,{}3)", " ".repeat(70));
        assert!(seq(&long).unwrap_err().message.contains("too long"));
    }

    #[test]
    fn lst_forms() {
        let l = parse_lst("~LST({a,b}, {1,2}, {3}, 5) x").unwrap();
        assert_eq!(values(&l), ["a=1,b=2", "a=3,b=", "a=5,b="]);
        assert_eq!(
            values(&parse_lst("~LST(v, {}, , x)").unwrap()),
            ["v=", "v=", "v=x"]
        );
        assert_eq!(values(&parse_lst("~LST(v,)").unwrap()), ["v="]);
        let e = parse_lst("~LST({a,b}, {1,2,3})").unwrap_err();
        assert!(e.message.contains("too many values"), "{e:?}");
        assert!(parse_lst("~LST(a)").is_err());
        assert!(parse_lst("~LST({a b}, 1)").is_err());
        assert!(parse_lst("~LST(a, 1").is_err());
        assert!(parse_lst("~LST(a, {1)").is_err());
        assert!(parse_lst("~LSTx(a, 1)").is_err());
    }
}
