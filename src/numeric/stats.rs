//! Small statistics toolkit: streaming weighted estimators, fixed-bin histograms for quantiles,
//! Wilson intervals, and the special functions the tests and reports need.
//!
//! Every running sum is exact (`exact::ExactSum`), so the figures depend only on which trials
//! were added, never on their order: byte-identical whatever the thread count, and when shards
//! run on several machines are merged.

use crate::numeric::math;
use crate::numeric::sum::ExactSum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A probability estimated from weighted 0/1 outcomes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Proportion {
    /// Sum of weights where the event happened.
    w: ExactSum,
    /// Sum of squared weights where the event happened.
    w2: ExactSum,
}

impl Proportion {
    #[inline]
    pub fn add(&mut self, hit: bool, weight: f64) {
        if hit {
            self.w.add(weight);
            self.w2.add(weight * weight);
        }
    }

    pub fn merge(&mut self, other: &Proportion) {
        self.w.merge(&other.w);
        self.w2.merge(&other.w2);
    }
}

/// An estimate with its 95% interval and Monte Carlo standard error.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    pub estimate: f64,
    /// 95% Wilson score interval, with the sample size its standard error implies as n
    /// (`Weights::estimate`), so the interval and `mcse` state the same uncertainty.
    pub ci95: [f64; 2],
    /// Monte Carlo standard error.
    pub mcse: f64,
}

/// Weights seen so far: their count, sum and sum of squares.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Weights {
    pub n: u64,
    sum: ExactSum,
    sum2: ExactSum,
}

impl Weights {
    #[inline]
    pub fn add(&mut self, w: f64) {
        self.n += 1;
        self.sum.add(w);
        self.sum2.add(w * w);
    }

    pub fn merge(&mut self, other: &Weights) {
        self.n += other.n;
        self.sum.merge(&other.sum);
        self.sum2.merge(&other.sum2);
    }

    /// The sum of the weights.
    pub fn sum(&self) -> f64 {
        self.sum.value()
    }

    /// Kish effective sample size (sum w)^2 / sum w^2; equals n for equal weights.
    pub fn ess(&self) -> f64 {
        let (sum, sum2) = (self.sum.value(), self.sum2.value());
        if sum2 > 0.0 { sum * sum / sum2 } else { 0.0 }
    }

    /// The estimate of a proportion, its Wilson interval and its Monte Carlo standard error
    /// (the delta-method error of a self-normalised weighted mean).
    pub fn estimate(&self, p: &Proportion) -> Estimate {
        let (sum, sum2) = (self.sum.value(), self.sum2.value());
        if sum <= 0.0 {
            return Estimate {
                estimate: f64::NAN,
                ci95: [0.0, 1.0],
                mcse: f64::NAN,
            };
        }
        let (pw, pw2) = (p.w.value(), p.w2.value());
        let est = (pw / sum).clamp(0.0, 1.0);
        let var_num = pw2 * (1.0 - est).powi(2) + (sum2 - pw2).max(0.0) * est * est;
        let mcse = var_num.sqrt() / sum;
        // The interval's n is the sample size the standard error implies, p(1-p)/s.e.^2, so the
        // interval is as wide as the s.e. says (the Kish ESS describes all the weights, not this
        // event's: it gave intervals narrower than 1.96 s.e.). Equal weights imply n itself;
        // the trial count is used there so rounding cannot move a forward interval. Where the
        // s.e. is 0 (no hit, or every trial a hit) the Kish ESS is the only size there is.
        let n = if sum2 == sum && sum == self.n as f64 || mcse <= 0.0 {
            self.ess()
        } else {
            est * (1.0 - est) / (mcse * mcse)
        };
        Estimate {
            estimate: est,
            ci95: wilson(est, n, 1.959_963_984_540_054),
            mcse,
        }
    }
}

/// Wilson score interval for a proportion `p` from `n` (effective) observations.
pub fn wilson(p: f64, n: f64, z: f64) -> [f64; 2] {
    if n <= 0.0 {
        return [0.0, 1.0];
    }
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // Mathematically the interval contains p; rounding can leave p = 1 a hair above it.
    [
        (centre - half).max(0.0).min(p),
        (centre + half).min(1.0).max(p),
    ]
}

/// A weighted histogram on [lo, hi] (default [0, 1]) with fixed bins, for quantiles without
/// storing draws. 20,000 bins: on [0, 1] quantiles are exact to 0.005 percentage points. Only
/// the bins that received weight are stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Histogram {
    #[serde(with = "sparse")]
    bins: BTreeMap<u32, ExactSum>,
    total: ExactSum,
    lo: f64,
    hi: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::with_range(0.0, 1.0)
    }
}

impl Histogram {
    pub const BINS: usize = 20_000;

    /// An empty histogram on [lo, hi]; values outside are clamped into the end bins.
    pub fn with_range(lo: f64, hi: f64) -> Histogram {
        Histogram {
            bins: BTreeMap::new(),
            total: ExactSum::default(),
            lo,
            hi: if hi > lo { hi } else { lo + 1.0 },
        }
    }

    #[inline]
    pub fn add(&mut self, x: f64, weight: f64) {
        if weight > 0.0 {
            let u = ((x - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
            let b = ((u * Self::BINS as f64) as usize).min(Self::BINS - 1);
            self.bins.entry(b as u32).or_default().add(weight);
            self.total.add(weight);
        }
    }

    /// Adds another histogram on the same range.
    pub fn merge(&mut self, other: &Histogram) {
        for (&b, w) in &other.bins {
            self.bins.entry(b).or_default().merge(w);
        }
        self.total.merge(&other.total);
    }

    /// The weighted share of values below `x` (linear within its bin). O(bins).
    pub fn cdf(&self, x: f64) -> f64 {
        let total = self.total.value();
        if total <= 0.0 {
            return f64::NAN;
        }
        let u = ((x - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0) * Self::BINS as f64;
        let b = (u as usize).min(Self::BINS - 1) as u32;
        let below: f64 = self.bins.range(..b).map(|(_, w)| w.value()).sum();
        let at = self.bins.get(&b).map_or(0.0, ExactSum::value);
        (below + at * (u - b as f64).min(1.0)) / total
    }

    /// The q-quantile, interpolated linearly within its bin. O(bins).
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.total.value();
        if total <= 0.0 {
            return f64::NAN;
        }
        let target = q * total;
        let mut acc = 0.0;
        for (&b, w) in &self.bins {
            let w = w.value();
            if w > 0.0 && acc + w >= target {
                let frac = ((target - acc) / w).clamp(0.0, 1.0);
                return self.lo + (self.hi - self.lo) * (b as f64 + frac) / Self::BINS as f64;
            }
            acc += w;
        }
        self.hi
    }
}

/// A weighted mean, and its 5/50/95% quantiles from a histogram.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Distribution {
    sum: ExactSum,
    weight: ExactSum,
    hist: Histogram,
}

/// A summary of a distribution.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub q05: f64,
    pub q50: f64,
    pub q95: f64,
}

impl Distribution {
    /// An empty distribution whose quantiles are resolved on [lo, hi].
    pub fn with_range(lo: f64, hi: f64) -> Distribution {
        Distribution {
            sum: ExactSum::default(),
            weight: ExactSum::default(),
            hist: Histogram::with_range(lo, hi),
        }
    }

    #[inline]
    pub fn add(&mut self, x: f64, weight: f64) {
        self.sum.add(x * weight);
        self.weight.add(weight);
        self.hist.add(x, weight);
    }

    /// Adds another distribution on the same range.
    pub fn merge(&mut self, other: &Distribution) {
        self.sum.merge(&other.sum);
        self.weight.merge(&other.weight);
        self.hist.merge(&other.hist);
    }

    /// The weighted share of values below `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        self.hist.cdf(x)
    }

    pub fn summary(&self) -> Summary {
        Summary {
            mean: if self.weight.value() > 0.0 {
                self.sum.value() / self.weight.value()
            } else {
                f64::NAN
            },
            q05: self.hist.quantile(0.05),
            q50: self.hist.quantile(0.5),
            q95: self.hist.quantile(0.95),
        }
    }
}

/// (index, weight) pairs of the non-empty bins, checked against the bin count when read.
mod sparse {
    use crate::numeric::sum::ExactSum;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        bins: &BTreeMap<u32, ExactSum>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(&u32, &ExactSum)> = bins.iter().collect();
        pairs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<u32, ExactSum>, D::Error> {
        let pairs = Vec::<(u32, ExactSum)>::deserialize(d)?;
        if let Some((i, _)) = pairs
            .iter()
            .find(|(i, _)| *i as usize >= super::Histogram::BINS)
        {
            return Err(serde::de::Error::custom(format!("bin {i} out of range")));
        }
        Ok(pairs.into_iter().collect())
    }
}

/// Regularised incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes 6.4).
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front =
        ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * math::ln(x) + b * math::ln(1.0 - x);
    if x < (a + 1.0) / (a + b + 2.0) {
        math::exp(ln_front) * beta_cf(x, a, b) / a
    } else {
        1.0 - math::exp(ln_front) * beta_cf(1.0 - x, b, a) / b
    }
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return math::ln(std::f64::consts::PI / math::sin(std::f64::consts::PI * x))
            - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * math::ln(2.0 * std::f64::consts::PI) + (x + 0.5) * math::ln(t) - t + math::ln(a)
}

/// P(X >= k) for X ~ Binomial(n, p), summed exactly in log space.
pub fn binomial_upper_tail(n: u64, p: f64, k: u64) -> f64 {
    let lf = |m: u64| ln_gamma(m as f64 + 1.0);
    (k..=n)
        .map(|i| {
            math::exp(
                lf(n) - lf(i) - lf(n - i)
                    + i as f64 * math::ln(p)
                    + (n - i) as f64 * math::ln(1.0 - p),
            )
        })
        .sum()
}

/// Upper alpha-quantile of chi-square with `dof` degrees of freedom (Wilson-Hilferty; within
/// 1% of the exact value for dof >= 3), where `z` is the standard-normal upper alpha-quantile.
pub fn chi2_quantile(dof: f64, z: f64) -> f64 {
    let h = 2.0 / (9.0 * dof);
    dof * (1.0 - h + z * h.sqrt()).powi(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_reference() {
        // 81 of 263 successes: Wilson 95% interval [0.2553, 0.3662] (Newcombe 1998, case 1 style).
        let [lo, hi] = wilson(81.0 / 263.0, 263.0, 1.959_963_984_540_054);
        assert!(
            (lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4,
            "{lo} {hi}"
        );
        let [lo, hi] = wilson(0.0, 100.0, 1.96);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.03 && hi < 0.04);
        // All successes: the upper bound is exactly 1 (rounding gave 0.9999999999999999).
        let [lo, hi] = wilson(1.0, 387.0, 1.959_963_984_540_054);
        assert_eq!(hi, 1.0);
        assert!(lo > 0.98 && lo < 1.0);
    }

    #[test]
    fn special_functions() {
        assert!((ln_gamma(5.0) - math::ln(24f64)).abs() < 1e-12);
        assert!((beta_cdf(0.5, 2.0, 2.0) - 0.5).abs() < 1e-12);
        // I_0.3(2, 5) = 0.579825 (exact polynomial form).
        assert!((beta_cdf(0.3, 2.0, 5.0) - 0.579_825).abs() < 1e-6);
        assert!((binomial_upper_tail(10, 0.5, 8) - 56.0 / 1024.0).abs() < 1e-12);
        // chi-square(17) upper 0.001 quantile is 40.790.
        assert!((chi2_quantile(17.0, 3.090_232) - 40.790).abs() < 0.4);
    }

    #[test]
    fn histogram_quantiles_and_weights() {
        let mut h = Histogram::default();
        for i in 0..1000 {
            h.add(i as f64 / 1000.0, 1.0);
        }
        assert!((h.quantile(0.5) - 0.5).abs() < 1e-3);
        let mut w = Weights::default();
        let mut p = Proportion::default();
        for i in 0..100 {
            w.add(1.0);
            p.add(i < 30, 1.0);
        }
        let e = w.estimate(&p);
        assert!((e.estimate - 0.3).abs() < 1e-12);
        assert!((e.mcse - (0.3f64 * 0.7 / 100.0).sqrt()).abs() < 1e-12);
        assert_eq!(w.ess(), 100.0);
        assert_eq!(e.ci95, wilson(0.3, 100.0, 1.959_963_984_540_054));
    }

    #[test]
    fn a_weighted_interval_is_as_wide_as_its_standard_error_says() {
        // A rare event whose trials carry larger weights than the rest (as P(truly over) in an
        // inverse run): the Kish ESS (of all the weights) overstates this event's precision, and
        // an interval built on it was narrower than 1.96 s.e. (0.0135 against 0.0176 here). The
        // interval now agrees with the s.e. to the Wilson correction (under 1% here).
        let (mut w, mut p) = (Weights::default(), Proportion::default());
        for i in 0..2000 {
            let hit = i % 10 == 0;
            let weight = if hit { 1.0 + (i % 7) as f64 } else { 1.0 };
            w.add(weight);
            p.add(hit, weight);
        }
        let e = w.estimate(&p);
        let half = (e.ci95[1] - e.ci95[0]) / 2.0;
        let z_se = 1.959_963_984_540_054 * e.mcse;
        assert!(
            (half / z_se - 1.0).abs() < 0.01,
            "half-width {half}, 1.96 s.e. {z_se}"
        );
        let kish = wilson(e.estimate, w.ess(), 1.959_963_984_540_054);
        assert!(
            (kish[1] - kish[0]) / 2.0 < 0.8 * z_se,
            "a case the Kish size misstates"
        );
    }
}
