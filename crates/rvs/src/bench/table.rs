//! Markdown tables that also read well in a terminal, and the number formats they use.

use super::stats::Summary;

/// A Markdown table: a header row and rows of cells, columns padded to equal width.
#[derive(Clone, Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as Markdown: first column left-aligned, the figures right-aligned.
    pub fn render(&self) -> String {
        let cols = self.header.len();
        let width = |c: usize| {
            self.rows
                .iter()
                .map(|r| r[c].chars().count())
                .chain([self.header[c].chars().count(), 3])
                .max()
                .unwrap_or(3)
        };
        let widths: Vec<usize> = (0..cols).map(width).collect();
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (c, cell) in cells.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c == 0 {
                    s.push_str(&format!(" {cell}{} |", " ".repeat(pad)));
                } else {
                    s.push_str(&format!(" {}{cell} |", " ".repeat(pad)));
                }
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.header);
        out.push('|');
        for (c, w) in widths.iter().enumerate() {
            if c == 0 {
                out.push_str(&format!(" {} |", "-".repeat(*w)));
            } else {
                out.push_str(&format!(" {}: |", "-".repeat(w - 1)));
            }
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// A count or rate with a k/M suffix: `116.2k`, `0.54M`, `950`.
pub fn si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A latency in microseconds as `420µs` or `1.20ms`.
pub fn latency(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{us:.0}µs")
    }
}

/// `median (min–max)` with `fmt` for each number, or the median alone for one repetition.
pub fn summary(s: &Summary, fmt: impl Fn(f64) -> String) -> String {
    if s.n <= 1 || s.min == s.max {
        fmt(s.median)
    } else {
        format!("{} ({}–{})", fmt(s.median), fmt(s.min), fmt(s.max))
    }
}

/// A ratio as `0.91×`, or `—` when there is none.
pub fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_string(), |r| format!("{r:.2}×"))
}

/// A number with a fixed count of decimals.
pub fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_aligned_markdown_table() {
        let mut t = Table::new(&["path", "req/s"]);
        t.row(vec!["direct".into(), "116.0k".into()]);
        t.row(vec!["nft-dnat".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "| path     |  req/s |");
        assert_eq!(lines[1], "| -------- | -----: |");
        assert_eq!(lines[2], "| direct   | 116.0k |");
        assert_eq!(lines[3], "| nft-dnat |        |");
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() == lines[0].chars().count())
        );
    }

    #[test]
    fn number_formats() {
        assert_eq!(si(116_234.0), "116.2k");
        assert_eq!(si(540_000.0), "540.0k");
        assert_eq!(si(1_540_000.0), "1.54M");
        assert_eq!(si(950.0), "950");
        assert_eq!(si(3.24), "3.2");
        assert_eq!(latency(420.0), "420µs");
        assert_eq!(latency(1200.0), "1.20ms");
        assert_eq!(ratio(Some(0.912)), "0.91×");
        assert_eq!(ratio(None), "—");
        let s = Summary::of(&[100e3, 116e3, 120e3]).unwrap();
        assert_eq!(summary(&s, si), "116.0k (100.0k–120.0k)");
        let one = Summary::of(&[5.0]).unwrap();
        assert_eq!(summary(&one, si), "5.0");
    }
}
