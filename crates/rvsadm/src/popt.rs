//! A command-line scanner that behaves as popt does for ipvsadm's table: bundled short
//! options (`-Ln`), `--opt value` and `--opt=value`, `-tVALUE` and `-t=VALUE`, optional
//! arguments (taken from the next word only if it does not start with `-`), `--` ending the
//! options, and non-option words collected as leftovers wherever they appear.

use crate::options::{ArgKind, Tag, by_long, by_short};

/// The popt errors ipvsadm can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoptError {
    /// POPT_ERROR_NOARG: an option needing an argument ended the line.
    NoArg,
    /// POPT_ERROR_BADOPT: no such option.
    BadOpt,
    /// POPT_ERROR_UNWANTEDARG: `--opt=x` or `-o=x` for an option without argument.
    UnwantedArg,
}

impl PoptError {
    /// popt's text for the error (`poptStrerror`).
    pub fn text(self) -> &'static str {
        match self {
            PoptError::NoArg => "missing argument",
            PoptError::BadOpt => "unknown option",
            PoptError::UnwantedArg => "option does not take an argument",
        }
    }
}

/// One scanned option: its tag and argument, or a popt error.
pub type Scanned = Result<(Tag, Option<String>), PoptError>;

/// Scans an argv (element 0 is the program name) one option at a time.
#[derive(Debug)]
pub struct Popt<'a> {
    argv: &'a [String],
    /// Index of the next word to read.
    next: usize,
    /// Inside a bundle of short options: (word index, byte offset of the next letter).
    next_char: Option<(usize, usize)>,
    /// After `--` every word is a leftover.
    rest_leftover: bool,
    leftovers: Vec<String>,
}

impl<'a> Popt<'a> {
    /// Start scanning after the program name.
    pub fn new(argv: &'a [String]) -> Self {
        Popt {
            argv,
            next: 1,
            next_char: None,
            rest_leftover: false,
            leftovers: Vec::new(),
        }
    }

    /// The next option and its argument; `None` at the end of the line.
    pub fn next_opt(&mut self) -> Option<Scanned> {
        loop {
            let mut long_arg: Option<String> = None;
            let spec = if let Some((word, off)) = self.next_char.take() {
                match self.short_at(word, off) {
                    Ok(spec) => spec,
                    Err(e) => return Some(Err(e)),
                }
            } else {
                if self.next >= self.argv.len() {
                    return None;
                }
                let word_index = self.next;
                let word = &self.argv[word_index];
                self.next += 1;
                if self.rest_leftover || !word.starts_with('-') || word == "-" {
                    self.leftovers.push(word.clone());
                    continue;
                }
                if word == "--" {
                    self.rest_leftover = true;
                    continue;
                }
                let (body, one_dash) = match word.strip_prefix("--") {
                    Some(rest) => (rest, false),
                    None => (&word[1..], true),
                };
                let (name, arg) = match body.split_once('=') {
                    Some((n, a)) => (n, Some(a)),
                    None => (body, None),
                };
                // No ipvsadm option is marked "one dash", so `-list` is never a long option:
                // a single dash always starts a bundle of short options.
                if one_dash {
                    match self.short_at(word_index, 1) {
                        Ok(spec) => spec,
                        Err(e) => return Some(Err(e)),
                    }
                } else {
                    match by_long(name) {
                        Some(spec) => {
                            long_arg = arg.map(str::to_string);
                            spec
                        }
                        None => return Some(Err(PoptError::BadOpt)),
                    }
                }
            };
            return Some(self.argument(spec.arg, long_arg).map(|a| (spec.tag, a)));
        }
    }

    /// Read the short option letter at (word, off) and remember where the bundle goes on.
    fn short_at(
        &mut self,
        word: usize,
        off: usize,
    ) -> Result<&'static crate::options::OptSpec, PoptError> {
        let text = &self.argv[word];
        let c = text[off..].chars().next().ok_or(PoptError::BadOpt)?;
        let spec = by_short(c).ok_or(PoptError::BadOpt)?;
        let after = off + c.len_utf8();
        if after < text.len() {
            self.next_char = Some((word, after));
        }
        Ok(spec)
    }

    fn argument(
        &mut self,
        kind: ArgKind,
        long_arg: Option<String>,
    ) -> Result<Option<String>, PoptError> {
        let rest_of_bundle = self.next_char.map(|(w, off)| &self.argv[w][off..]);
        if kind == ArgKind::None {
            if long_arg.is_some() || rest_of_bundle.is_some_and(|r| r.starts_with('=')) {
                return Err(PoptError::UnwantedArg);
            }
            return Ok(None);
        }
        if long_arg.is_some() {
            return Ok(long_arg);
        }
        if let Some(rest) = rest_of_bundle {
            self.next_char = None;
            return Ok(Some(rest.strip_prefix('=').unwrap_or(rest).to_string()));
        }
        let Some(word) = self.argv.get(self.next) else {
            return if kind == ArgKind::Optional {
                Ok(None)
            } else {
                Err(PoptError::NoArg)
            };
        };
        if kind == ArgKind::Optional && word.starts_with('-') {
            return Ok(None);
        }
        self.next += 1;
        Ok(Some(word.clone()))
    }

    /// What popt names as the offending word (`poptBadOption`): the last word read.
    pub fn bad_option(&self) -> &str {
        self.argv
            .get(self.next.saturating_sub(1))
            .map_or("", String::as_str)
    }

    /// Take the next leftover (non-option) word, in order (`poptGetArg`).
    pub fn take_leftover(&mut self) -> Option<String> {
        if self.leftovers.is_empty() {
            None
        } else {
            Some(self.leftovers.remove(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(args: &[&str]) -> (Vec<Scanned>, Vec<String>) {
        let argv: Vec<String> = std::iter::once("ipvsadm")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        let mut p = Popt::new(&argv);
        let mut out = Vec::new();
        while let Some(r) = p.next_opt() {
            let stop = r.is_err();
            out.push(r);
            if stop {
                break;
            }
        }
        let mut left = Vec::new();
        while let Some(l) = p.take_leftover() {
            left.push(l);
        }
        (out, left)
    }

    fn ok(tag: Tag, arg: Option<&str>) -> Scanned {
        Ok((tag, arg.map(String::from)))
    }

    #[test]
    fn bundled_short_options() {
        let (o, _) = scan(&["-Ln"]);
        assert_eq!(o, vec![ok(Tag::List, None), ok(Tag::Numeric, None)]);
    }

    #[test]
    fn argument_forms() {
        for args in [
            &["-t", "1.2.3.4:80"][..],
            &["-t1.2.3.4:80"],
            &["-t=1.2.3.4:80"],
            &["--tcp-service", "1.2.3.4:80"],
            &["--tcp-service=1.2.3.4:80"],
        ] {
            let (o, _) = scan(args);
            assert_eq!(o, vec![ok(Tag::TcpService, Some("1.2.3.4:80"))], "{args:?}");
        }
        let (o, _) = scan(&["-At", "1.2.3.4:80"]);
        assert_eq!(
            o,
            vec![
                ok(Tag::AddService, None),
                ok(Tag::TcpService, Some("1.2.3.4:80"))
            ]
        );
    }

    #[test]
    fn optional_argument() {
        assert_eq!(scan(&["-p"]).0, vec![ok(Tag::Persistent, None)]);
        assert_eq!(scan(&["-p", "60"]).0, vec![ok(Tag::Persistent, Some("60"))]);
        assert_eq!(scan(&["-p60"]).0, vec![ok(Tag::Persistent, Some("60"))]);
        assert_eq!(
            scan(&["--persistent=60"]).0,
            vec![ok(Tag::Persistent, Some("60"))]
        );
        assert_eq!(
            scan(&["-p", "-M", "x"]).0,
            vec![ok(Tag::Persistent, None), ok(Tag::Netmask, Some("x"))]
        );
    }

    #[test]
    fn required_argument_takes_a_dash_word() {
        assert_eq!(scan(&["-t", "-L"]).0, vec![ok(Tag::TcpService, Some("-L"))]);
    }

    #[test]
    fn errors() {
        assert_eq!(scan(&["--foo"]).0, vec![Err(PoptError::BadOpt)]);
        assert_eq!(
            scan(&["-Lq"]).0,
            vec![ok(Tag::List, None), Err(PoptError::BadOpt)]
        );
        assert_eq!(scan(&["-t"]).0, vec![Err(PoptError::NoArg)]);
        assert_eq!(scan(&["--list=x"]).0, vec![Err(PoptError::UnwantedArg)]);
        assert_eq!(scan(&["-L=x"]).0, vec![Err(PoptError::UnwantedArg)]);
        assert_eq!(
            scan(&["--lis"]).0,
            vec![Err(PoptError::BadOpt)],
            "no abbreviations"
        );
    }

    #[test]
    fn leftovers_and_double_dash() {
        let (o, l) = scan(&["a", "--set", "b", "--", "-c", "-"]);
        assert_eq!(o, vec![ok(Tag::Set, None)]);
        assert_eq!(l, vec!["a", "b", "-c", "-"]);
    }

    #[test]
    fn bad_option_is_the_last_word_read() {
        let argv: Vec<String> = ["ipvsadm", "-L", "--start-daemon", "master"]
            .map(String::from)
            .to_vec();
        let mut p = Popt::new(&argv);
        p.next_opt();
        p.next_opt();
        assert_eq!(p.bad_option(), "master");
    }
}
