//! Median and spread of repeated measurements, and ratios to a baseline.
//!
//! Pure arithmetic: the benchmark keeps every repetition and summarises it here, so the
//! figures it prints can be checked by hand from the raw runs (`--json`).

use serde::Serialize;

/// One figure over its repetitions: the median and the full range (min–max).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The median (the mean of the two middle values for an even count).
    pub median: f64,
    /// The smallest repetition.
    pub min: f64,
    /// The largest repetition.
    pub max: f64,
    /// How many repetitions went in.
    pub n: usize,
}

impl Summary {
    /// Summarises the finite values of `values`; `None` when there is none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Summary {
            median: median_of_sorted(&v),
            min: v[0],
            max: v[v.len() - 1],
            n: v.len(),
        })
    }

    /// The range as a percentage of the median (0 for a zero median).
    pub fn spread_pct(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median.abs() * 100.0
        }
    }

    /// This summary's median over `baseline`'s median.
    pub fn ratio_to(&self, baseline: &Summary) -> Option<f64> {
        ratio(self.median, baseline.median)
    }
}

/// The median of `values` (any order); `None` when empty or when a value is not finite.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(median_of_sorted(&v))
}

fn median_of_sorted(v: &[f64]) -> f64 {
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// `value / baseline`, or `None` when the baseline is zero, negative or not finite.
pub fn ratio(value: f64, baseline: f64) -> Option<f64> {
    (baseline.is_finite() && baseline > 0.0 && value.is_finite()).then(|| value / baseline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn summary_keeps_range_and_count_and_skips_non_finite_values() {
        let s = Summary::of(&[110.0, f64::NAN, 100.0, 90.0]).unwrap();
        assert_eq!(
            s,
            Summary {
                median: 100.0,
                min: 90.0,
                max: 110.0,
                n: 3
            }
        );
        assert!((s.spread_pct() - 20.0).abs() < 1e-9);
        assert!(Summary::of(&[f64::INFINITY]).is_none());
    }

    #[test]
    fn ratios_refuse_meaningless_baselines() {
        assert_eq!(ratio(91.0, 100.0), Some(0.91));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, -2.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
        let a = Summary::of(&[60.0, 66.0, 54.0]).unwrap();
        let b = Summary::of(&[100.0, 120.0, 80.0]).unwrap();
        assert!((a.ratio_to(&b).unwrap() - 0.6).abs() < 1e-12);
    }
}
