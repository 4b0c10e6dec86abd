//! Laws of counts: the Poisson (and through it the negative binomial), and the gap to the next
//! success of a Bernoulli sequence.
//!
//! Both are exact and use only this crate's portable maths, so a count is the same on every
//! machine (`rand_distr`'s Poisson calls the platform's logarithm). The Poisson reduces a large
//! mean by the arrival times of a unit-rate process (Ahrens and Dieter 1974: the m-th arrival is
//! Gamma(m)) and inverts the distribution function from zero below `INVERSION_MEAN`. The gap
//! lets a trial skip the stations without an error instead of deciding each one.
//!
//! Beside each law is its mass function and upper tail (`CountLaw::probability`), which the
//! recount likelihood evaluates at the counts a recount shows.

use crate::numeric::math;
use crate::numeric::stats::ln_gamma;
use crate::sample::exact::{binomial, gamma, uniform};
use crate::sample::rng::Rng;

/// Below this mean the Poisson is drawn by inversion (about mean + 1 steps).
const INVERSION_MEAN: f64 = 16.0;

/// Poisson(mean); 0 for a mean that is not positive.
pub fn poisson(rng: &mut Rng, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let mut mean = mean;
    let mut before = 0u64;
    while mean > INVERSION_MEAN {
        // The m-th arrival of a unit-rate process at time g ~ Gamma(m): after the mean, the
        // arrivals before it are m - 1 uniforms on [0, g]; before it, m arrivals are counted and
        // the rest of the interval is again a Poisson process.
        let m = (mean * 0.875).floor();
        let g = gamma(rng, m);
        if g > mean {
            return before + binomial(rng, m as u64 - 1, mean / g);
        }
        before += m as u64;
        mean -= g;
    }
    let u = uniform(rng);
    let mut p = math::exp(-mean);
    let mut cdf = p;
    let mut k = 0u64;
    // The tail beyond 20 * INVERSION_MEAN is below 1e-100: the cap only stops rounding from
    // leaving the distribution function just under u forever.
    while u >= cdf && k < 20 * INVERSION_MEAN as u64 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    before + k
}

/// Negative binomial with mean `mean` and Gamma shape `shape`: Poisson(mean x Gamma(shape) /
/// shape), of variance mean + mean^2 / shape.
pub fn negative_binomial(rng: &mut Rng, mean: f64, shape: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let rate = mean * gamma(rng, shape) / shape;
    poisson(rng, rate)
}

/// The law of one count, for its mass function: Poisson(mean), or negative binomial (mean,
/// Gamma shape) as drawn by `negative_binomial`.
#[derive(Debug, Clone, Copy)]
pub enum CountLaw {
    Poisson(f64),
    NegativeBinomial(f64, f64),
}

impl CountLaw {
    /// ln P(X = k) and the ratio P(X = k + 1) / P(X = k) as a function of k.
    fn ln_mass(self, k: u64) -> f64 {
        let kf = k as f64;
        match self {
            CountLaw::Poisson(m) => kf * math::ln(m) - m - ln_gamma(kf + 1.0),
            CountLaw::NegativeBinomial(m, r) => {
                ln_gamma(kf + r) - ln_gamma(r) - ln_gamma(kf + 1.0)
                    + r * math::ln(r / (r + m))
                    + kf * math::ln(m / (r + m))
            }
        }
    }

    fn ratio(self, k: u64) -> f64 {
        let kf = k as f64;
        match self {
            CountLaw::Poisson(m) => m / (kf + 1.0),
            CountLaw::NegativeBinomial(m, r) => (kf + r) / (kf + 1.0) * m / (r + m),
        }
    }

    fn mean(self) -> f64 {
        match self {
            CountLaw::Poisson(m) | CountLaw::NegativeBinomial(m, _) => m,
        }
    }

    /// P(X = k), or P(X >= k) when `at_least`. A mean that is not positive is the point mass at 0.
    pub fn probability(self, k: u64, at_least: bool) -> f64 {
        let m = self.mean();
        if m.is_nan() || m <= 0.0 {
            return (k == 0) as u8 as f64;
        }
        if !at_least {
            return math::exp(self.ln_mass(k));
        }
        if k == 0 {
            return 1.0;
        }
        if (k as f64) <= m {
            // Below the mean the tail is most of the mass: one minus the few terms under k.
            let mut p = math::exp(self.ln_mass(0));
            let mut below = 0.0;
            for j in 0..k {
                below += p;
                p *= self.ratio(j);
            }
            return (1.0 - below).max(0.0);
        }
        // Above the mean the terms fall geometrically or faster: sum them until they vanish.
        let mut p = math::exp(self.ln_mass(k));
        let mut tail = 0.0;
        let mut j = k;
        while p > tail * 1e-17 && p > 0.0 {
            tail += p;
            p *= self.ratio(j);
            j += 1;
        }
        tail.min(1.0)
    }
}

/// The number of failures before the first success in Bernoulli(p) trials: P(gap >= k) = (1 -
/// p)^k. `u64::MAX` (never) for p <= 0, 0 for p >= 1.
pub fn gap(rng: &mut Rng, p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 {
        return u64::MAX;
    }
    if p >= 1.0 {
        return 0;
    }
    // 1 - u is in (0, 1], so its logarithm is finite.
    let g = math::ln(1.0 - uniform(rng)) / math::ln_1p(-p);
    if g < 9e18 { g as u64 } else { u64::MAX }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::rng::stream;

    /// Mean and variance of n draws.
    fn moments(n: usize, mut draw: impl FnMut() -> u64) -> (f64, f64) {
        let xs: Vec<f64> = (0..n).map(|_| draw() as f64).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (m, v)
    }

    /// The Poisson's mean and variance equal its mean, by inversion and through the arrival-time
    /// reduction: the sample mean within 5 standard errors (sqrt(mean / n)), the sample variance
    /// within 5 of its own (sqrt((2 mean^2 + mean) / n), from the fourth cumulant).
    #[test]
    fn poisson_has_its_mean_and_variance() {
        let mut rng = stream(41, 0);
        let n = 200_000;
        for mean in [0.3, 3.0, 15.9, 16.1, 40.0, 1234.5] {
            let (m, v) = moments(n, || poisson(&mut rng, mean));
            let se_m = (mean / n as f64).sqrt();
            let se_v = ((2.0 * mean * mean + mean) / n as f64).sqrt();
            assert!((m - mean).abs() < 5.0 * se_m, "mean {mean}: {m}");
            assert!((v - mean).abs() < 5.0 * se_v, "mean {mean}: variance {v}");
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }

    /// The Poisson's probabilities, not only its moments: a chi-square over the values 0 to 12
    /// and the rest for mean 4 and (through the reduction) for mean 20 shifted, below the 0.999
    /// quantile of 13 degrees of freedom (34.53).
    #[test]
    fn poisson_probabilities_match_the_mass_function() {
        let mut rng = stream(43, 0);
        let n = 100_000;
        for (mean, lo) in [(4.0, 0u64), (20.0, 14)] {
            let mut counts = [0f64; 14];
            for _ in 0..n {
                let k = poisson(&mut rng, mean).saturating_sub(lo).min(13);
                counts[k as usize] += 1.0;
            }
            let pmf = |k: u64| {
                math::exp(
                    -mean + k as f64 * math::ln(mean)
                        - crate::numeric::stats::ln_gamma(k as f64 + 1.0),
                )
            };
            let below: f64 = (0..lo).map(pmf).sum();
            let mut rest = 1.0;
            let mut chi2 = 0.0;
            for (i, c) in counts.iter().enumerate() {
                let e = if i < 13 {
                    let p = pmf(lo + i as u64) + if i == 0 { below } else { 0.0 };
                    rest -= p;
                    p
                } else {
                    rest
                } * n as f64;
                chi2 += (c - e).powi(2) / e;
            }
            assert!(chi2 < 34.53, "mean {mean}: chi2 {chi2}, counts {counts:?}");
        }
    }

    /// The negative binomial's variance is mean + mean^2 / shape (5 standard errors of the
    /// sample variance, estimated from the sample's fourth central moment).
    #[test]
    fn negative_binomial_is_overdispersed_as_stated() {
        let mut rng = stream(47, 0);
        let n = 200_000;
        let (mean, shape) = (6.0, 1.5);
        let xs: Vec<f64> = (0..n)
            .map(|_| negative_binomial(&mut rng, mean, shape) as f64)
            .collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n as f64;
        let want = mean + mean * mean / shape;
        assert!((m - mean).abs() < 5.0 * (v / n as f64).sqrt(), "mean {m}");
        assert!(
            (v - want).abs() < 5.0 * ((m4 - v * v) / n as f64).sqrt(),
            "variance {v}, want {want}"
        );
    }

    /// The mass functions sum to 1 with the laws' mean and variance, and the upper tails equal
    /// the sums of the mass above k, far out as well.
    #[test]
    fn mass_functions_sum_to_one_and_tails_match_them() {
        for law in [
            CountLaw::Poisson(0.3),
            CountLaw::Poisson(4.0),
            CountLaw::Poisson(40.0),
            CountLaw::NegativeBinomial(4.0, 0.5),
            CountLaw::NegativeBinomial(30.0, 5.0),
        ] {
            let mass: Vec<f64> = (0..2000).map(|k| law.probability(k, false)).collect();
            let total: f64 = mass.iter().sum();
            assert!((total - 1.0).abs() < 1e-10, "{law:?}: {total}");
            let mean: f64 = mass.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
            let var: f64 = mass
                .iter()
                .enumerate()
                .map(|(k, p)| (k as f64 - mean).powi(2) * p)
                .sum();
            let (m, v) = match law {
                CountLaw::Poisson(m) => (m, m),
                CountLaw::NegativeBinomial(m, r) => (m, m + m * m / r),
            };
            assert!((mean - m).abs() < 1e-8 * m.max(1.0), "{law:?}: mean {mean}");
            assert!(
                (var - v).abs() < 1e-6 * v.max(1.0),
                "{law:?}: variance {var}"
            );
            for k in [0, 1, 3, 10, 45, 120] {
                let tail: f64 = mass[k as usize..].iter().sum();
                let got = law.probability(k, true);
                assert!(
                    (got - tail).abs() < 1e-12 + 1e-9 * tail,
                    "{law:?}: P(X >= {k}) {got} against {tail}"
                );
            }
        }
        // A tail far out is resolved, not rounded to 0 by subtraction.
        let far = CountLaw::Poisson(2.0).probability(60, true);
        assert!(far > 0.0 && far < 1e-50, "{far}");
        assert_eq!(CountLaw::Poisson(0.0).probability(0, false), 1.0);
        assert_eq!(CountLaw::Poisson(0.0).probability(3, true), 0.0);
    }

    /// The gap is geometric: P(gap >= k) = (1 - p)^k for k = 1, 5, 20, each within 5 binomial
    /// standard errors, and the mean (1 - p) / p.
    #[test]
    fn gap_is_geometric() {
        let mut rng = stream(53, 0);
        let n = 200_000;
        let p = 0.07;
        let gaps: Vec<u64> = (0..n).map(|_| gap(&mut rng, p)).collect();
        for k in [1u64, 5, 20] {
            let want = (1.0 - p).powi(k as i32);
            let got = gaps.iter().filter(|&&g| g >= k).count() as f64 / n as f64;
            let se = (want * (1.0 - want) / n as f64).sqrt();
            assert!((got - want).abs() < 5.0 * se, "k {k}: {got} vs {want}");
        }
        assert_eq!(gap(&mut rng, 0.0), u64::MAX);
        assert_eq!(gap(&mut rng, 1.0), 0);
    }
}
