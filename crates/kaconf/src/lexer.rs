//! Tokens of one logical line, split the way keepalived's `alloc_strvec` splits them:
//! blanks separate words; a word that starts with `"` runs to the next `"` and keeps
//! its blanks (the quotes are dropped); an unquoted word also ends at a `"`.

/// One word of a line with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word, quotes removed.
    pub text: String,
    /// 1-based column in the physical line (the segment's column when not exact).
    pub col: u32,
    /// Width in source characters (for the caret).
    pub len: u32,
    /// True if the word was written in double quotes.
    pub quoted: bool,
}

/// Result of tokenizing a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexed {
    /// The words.
    pub tokens: Vec<Token>,
    /// Column of a `"` that has no closing partner (tokens after it are lost, as in keepalived).
    pub unmatched_quote: Option<u32>,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Splits `text` (which starts at column `col`) into tokens.
///
/// When `exact` is false the text came from parameter expansion; every token then
/// reports the segment's column, since its own column in the file is unknown.
pub fn tokenize(text: &str, col: u32, exact: bool) -> Lexed {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0usize;
    let pos = |i: usize| if exact { col + i as u32 } else { col };
    while i < chars.len() {
        while i < chars.len() && is_blank(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        if chars[i] == '"' {
            match chars[i + 1..].iter().position(|&c| c == '"') {
                Some(off) => {
                    let end = i + 1 + off;
                    tokens.push(Token {
                        text: chars[i + 1..end].iter().collect(),
                        col: pos(start),
                        len: (end + 1 - start) as u32,
                        quoted: true,
                    });
                    i = end + 1;
                }
                None => {
                    return Lexed {
                        tokens,
                        unmatched_quote: Some(pos(start)),
                    };
                }
            }
        } else {
            while i < chars.len() && !is_blank(chars[i]) && chars[i] != '"' {
                i += 1;
            }
            tokens.push(Token {
                text: chars[start..i].iter().collect(),
                col: pos(start),
                len: (i - start) as u32,
                quoted: false,
            });
        }
    }
    Lexed {
        tokens,
        unmatched_quote: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokenize(s, 1, true)
            .tokens
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn splits_and_unquotes() {
        assert_eq!(
            words("script \"/bin/check a b\"  x"),
            ["script", "/bin/check a b", "x"]
        );
        assert_eq!(words("abc\"def\""), ["abc", "def"]);
        assert_eq!(words("\t a \t"), ["a"]);
    }

    #[test]
    fn columns_are_one_based() {
        let l = tokenize("weight 3", 5, true);
        assert_eq!(l.tokens[0].col, 5);
        assert_eq!(l.tokens[1].col, 12);
    }

    #[test]
    fn unmatched_quote_stops() {
        let l = tokenize("router_id \"lb 1", 1, true);
        assert_eq!(l.tokens.len(), 1);
        assert_eq!(l.unmatched_quote, Some(11));
    }
}
