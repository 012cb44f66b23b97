//! `print_largenum`: a counter in a 9-column field, scaled with K/M/G/T unless `--exact`.

use super::Format;

/// One counter field (the width includes the leading blank).
pub fn largenum(i: u64, format: Format) -> String {
    if format.has(Format::EXACT) {
        let len = i.to_string().len();
        let width = if len <= 8 { 9 } else { len + 1 };
        return format!("{i:>width$}");
    }
    if i < 100_000_000 {
        format!("{i:>9}")
    } else if i < 1_000_000_000 {
        format!("{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        format!("{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:>8}G", i / 1_000_000_000)
    } else {
        format!("{:>8}T", i / 1_000_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales() {
        assert_eq!(largenum(0, Format::NONE), "        0");
        assert_eq!(largenum(99_999_999, Format::NONE), " 99999999");
        assert_eq!(largenum(123_456_789, Format::NONE), "  123456K");
        assert_eq!(largenum(1_234_567_890, Format::NONE), "    1234M");
        assert_eq!(largenum(123_456_789_012, Format::NONE), "     123G");
        assert_eq!(largenum(u64::MAX, Format::NONE), "18446744T");
        assert_eq!(largenum(1_234_567_890, Format::EXACT), " 1234567890");
        assert_eq!(largenum(5, Format::EXACT), "        5");
    }
}
