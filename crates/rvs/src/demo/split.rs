//! How a batch of answers split between the real servers, what each scheduler should give,
//! and the terminal bar chart that shows it.

/// Requests answered by each real server, in a fixed order (rs1, rs2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// (server name, answers).
    pub counts: Vec<(String, usize)>,
}

impl Split {
    /// Counts `names` (answers in order) for each of `servers`.
    pub fn count(servers: &[&str], names: &[&str]) -> Split {
        Split {
            counts: servers
                .iter()
                .map(|s| (s.to_string(), names.iter().filter(|n| *n == s).count()))
                .collect(),
        }
    }

    /// Answers of server `name`.
    pub fn of(&self, name: &str) -> usize {
        self.counts
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    }

    /// All answers counted.
    pub fn total(&self) -> usize {
        self.counts.iter().map(|(_, c)| c).sum()
    }

    /// `rs1 50 · rs2 50`.
    pub fn summary(&self) -> String {
        self.counts
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// Whether consecutive answers always come from different servers (round robin over two).
pub fn alternates(names: &[&str]) -> bool {
    names.len() >= 2 && names.windows(2).all(|w| w[0] != w[1])
}

/// What a scheduler should do with `total` sequential requests from one client over two
/// equal real servers (weights 3:1 for wrr). `lc_start` is each server's connection count
/// (IPVS's overhead: active × 256 + inactive) when the run begins, for `lc`.
pub fn expected(sched: &str, split: &Split, total: usize, lc_start: (u64, u64)) -> (bool, String) {
    let (a, b) = (split.of("rs1"), split.of("rs2"));
    let all = split.total() == total;
    match sched {
        "rr" => (
            all && a == total / 2 && b == total - total / 2,
            "rr: every server in turn, an even split".into(),
        ),
        "wrr" => (
            all && a == total * 3 / 4 && b == total / 4,
            "wrr 3:1: rs1 gets three requests for each one rs2 gets".into(),
        ),
        "lc" => {
            let fair = match lc_start.0.cmp(&lc_start.1) {
                std::cmp::Ordering::Less => a >= b,
                std::cmp::Ordering::Greater => b >= a,
                std::cmp::Ordering::Equal => a.abs_diff(b) <= total / 10,
            };
            (
                all && fair,
                "lc: the server with fewer connections gets the new ones".into(),
            )
        }
        "sh" | "mh" => (
            all && (a == total || b == total),
            format!("{sched}: one client address always hashes to the same server"),
        ),
        other => (all, format!("{other}: every request answered")),
    }
}

/// A bar chart line per server: `rs1 ████████ 75`, bars scaled so `total` fills `width`.
pub fn bars(label: &str, split: &Split, total: usize, width: usize) -> Vec<String> {
    split
        .counts
        .iter()
        .enumerate()
        .map(|(i, (name, count))| {
            let len = (count * width).div_ceil(total.max(1));
            let head = if i == 0 { label } else { "" };
            format!("{head:<5} {name} {:<width$} {count:>3}", "█".repeat(len))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(a: usize, b: usize) -> Split {
        Split {
            counts: vec![("rs1".into(), a), ("rs2".into(), b)],
        }
    }

    #[test]
    fn answers_are_counted_per_server() {
        let s = Split::count(&["rs1", "rs2"], &["rs1", "rs2", "rs1", "other"]);
        assert_eq!(s, split(2, 1));
        assert_eq!(s.summary(), "rs1 2 · rs2 1");
    }

    #[test]
    fn alternation_needs_a_change_at_every_step() {
        assert!(alternates(&["rs1", "rs2", "rs1", "rs2"]));
        assert!(!alternates(&["rs1", "rs2", "rs2", "rs1"]));
        assert!(!alternates(&["rs1"]));
    }

    #[test]
    fn each_scheduler_has_its_own_expectation() {
        assert!(expected("rr", &split(50, 50), 100, (0, 0)).0);
        assert!(!expected("rr", &split(51, 49), 100, (0, 0)).0);
        assert!(expected("wrr", &split(75, 25), 100, (0, 0)).0);
        assert!(!expected("wrr", &split(50, 50), 100, (0, 0)).0);
        assert!(expected("sh", &split(0, 100), 100, (0, 0)).0);
        assert!(!expected("mh", &split(99, 1), 100, (0, 0)).0);
        // lc: rs2 started with fewer connections, so it must get at least as many.
        assert!(expected("lc", &split(25, 75), 100, (125, 75)).0);
        assert!(!expected("lc", &split(75, 25), 100, (125, 75)).0);
        assert!(expected("lc", &split(52, 48), 100, (0, 0)).0);
        // A lost request fails every scheduler.
        assert!(!expected("rr", &split(50, 49), 100, (0, 0)).0);
    }

    #[test]
    fn bars_scale_to_the_width() {
        let lines = bars("wrr", &split(75, 25), 100, 40);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("wrr   rs1 "));
        assert_eq!(lines[0].matches('█').count(), 30);
        assert_eq!(lines[1].matches('█').count(), 10);
        assert!(lines[1].ends_with(" 25"));
    }
}
