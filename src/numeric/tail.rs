//! How heavy the tail of the importance weights is: the Pareto k-hat diagnostic.
//!
//! A weighted estimate is trustworthy when no handful of trials carries most of the weight. The
//! effective sample size says how many trials the weights are worth on average, but it is itself
//! estimated from the weights and can look healthy while the variance of the weights is
//! infinite. Vehtari, Simpson, Gelman, Yao and Gabry ("Pareto smoothed importance sampling",
//! JMLR 25, 2024) fit a generalised Pareto distribution to the largest weights: its shape k says
//! how many moments the weights have (the variance exists for k < 1/2, the mean for k < 1). Below
//! 0.7 (and below 1 - 1/log10(S) for S trials) the estimate converges at a practical rate; above
//! it, more trials barely help and the stated Monte Carlo error understates the real one.
//!
//! `Largest` keeps the largest weights seen, independent of the order trials arrive in (so
//! threads, resumed runs and merged shards agree to the bit); `pareto_k` fits the shape with
//! Zhang and Stephens' (Technometrics 51, 2009) empirical Bayes estimator, as PSIS does.

use crate::numeric::math;
use serde::{Deserialize, Serialize};

/// How many of the largest weights are kept: the tail PSIS fits is min(S/5, 3 sqrt(S)) weights,
/// which needs this many up to S of about 1.8 million trials; beyond it the fit uses the largest
/// 4,000, still a tail.
pub const KEPT: usize = 4000;

/// The largest weights seen so far (at most `KEPT`), in decreasing order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Largest {
    weights: Vec<f64>,
}

impl Largest {
    /// Considers one trial's weight.
    #[inline]
    pub fn add(&mut self, w: f64) {
        // Zero (or NaN) weights are no part of a tail.
        if w.is_nan() || w <= 0.0 {
            return;
        }
        if self.weights.len() == KEPT && w <= self.weights[KEPT - 1] {
            return;
        }
        // Decreasing order, a new weight after the equal ones already kept.
        let at = self.weights.partition_point(|&x| x >= w);
        self.weights.insert(at, w);
        self.weights.truncate(KEPT);
    }

    /// The largest weights of both (as if every trial had been added to one).
    pub fn merge(&mut self, other: &Largest) {
        let mut all: Vec<f64> = self.weights.iter().chain(&other.weights).copied().collect();
        all.sort_by(|a, b| b.total_cmp(a));
        all.truncate(KEPT);
        self.weights = all;
    }

    /// The Pareto shape of the weights' tail for a run of `trials` trials (`pareto_k`), or None
    /// where there are too few positive weights to fit one.
    pub fn pareto_k(&self, trials: u64) -> Option<f64> {
        let s = trials as f64;
        let m = (0.2 * s).min(3.0 * s.sqrt()).ceil() as usize;
        // The tail and the weight just below it, which is where the tail starts.
        let m = m.min(self.weights.len().saturating_sub(1));
        if m < 5 {
            return None;
        }
        let cutoff = self.weights[m];
        // Exceedances over the cutoff in increasing order, scaled by the largest weight (the
        // shape does not depend on the scale, and the sums stay in range).
        let top = self.weights[0];
        let x: Vec<f64> = self.weights[..m]
            .iter()
            .rev()
            .map(|&w| (w - cutoff) / top)
            .collect();
        pareto_k(&x)
    }
}

/// The k-hat above which an estimate from `trials` weighted trials is not to be trusted:
/// min(1 - 1/log10(S), 0.7) (Vehtari et al. 2024, section 3.2.4).
pub fn k_threshold(trials: u64) -> f64 {
    let s = (trials.max(10)) as f64;
    (1.0 - 1.0 / math::log10(s)).min(0.7)
}

/// The shape k of a generalised Pareto distribution fitted to exceedances `x` (positive or zero,
/// in increasing order) by Zhang and Stephens' estimator, shrunk towards 0.5 by a weak prior (10
/// pseudo-observations) as PSIS does. None if the exceedances are all zero.
pub fn pareto_k(x: &[f64]) -> Option<f64> {
    let n = x.len();
    let largest = *x.last()?;
    if n < 5 || largest.is_nan() || largest <= 0.0 {
        return None;
    }
    let quartile = x[((n as f64) / 4.0 + 0.5) as usize - 1];
    let m = 30 + (n as f64).sqrt() as usize;
    // Candidate values of theta = -k / sigma, each with its profile log-likelihood.
    let thetas: Vec<f64> = (1..=m)
        .map(|j| {
            let b = 1.0 - ((m as f64) / (j as f64 - 0.5)).sqrt();
            1.0 / largest + b / (3.0 * quartile.max(f64::MIN_POSITIVE))
        })
        .collect();
    let k_of = |theta: f64| -> f64 {
        x.iter().map(|&xi| math::ln_1p(-theta * xi)).sum::<f64>() / n as f64
    };
    let profile: Vec<f64> = thetas
        .iter()
        .map(|&t| {
            let k = k_of(t);
            n as f64 * (math::ln(-t / k) - k - 1.0)
        })
        .collect();
    // Posterior weights of the candidates: 1 / sum_j exp(l_j - l_i), negligible ones dropped.
    let weights: Vec<f64> = profile
        .iter()
        .map(|&li| {
            let s: f64 = profile.iter().map(|&lj| math::exp(lj - li)).sum();
            1.0 / s
        })
        .collect();
    let (mut num, mut den) = (0.0, 0.0);
    for (&t, &w) in thetas.iter().zip(&weights) {
        if w.is_finite() && w >= 10.0 * f64::EPSILON {
            num += t * w;
            den += w;
        }
    }
    if den.is_nan() || den <= 0.0 {
        return None;
    }
    let k = k_of(num / den);
    // The weak prior: k shrunk towards 0.5 as if 10 more exceedances had said 0.5.
    let k = (n as f64 * k + 10.0 * 0.5) / (n as f64 + 10.0);
    k.is_finite().then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;
    use rand::SeedableRng;

    /// Uniforms in [0, 1) from a fixed seed.
    fn uniforms(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
            .collect()
    }

    /// Weights whose tail is Pareto with shape `k`: U^(-k) for uniform U.
    fn pareto_weights(k: f64, n: usize, seed: u64) -> Vec<f64> {
        uniforms(n, seed)
            .into_iter()
            .map(|u| libm::pow(1.0 - u, -k))
            .collect()
    }

    #[test]
    fn k_hat_finds_the_shape_of_a_pareto_tail() {
        // 100,000 weights: the tail is the largest 949 (3 sqrt(S)); the estimator's standard
        // error there is about (1 + k) / sqrt(949), 0.05 at k = 0.5, so 3 s.e. is 0.15.
        for (k, seed) in [(0.2, 1), (0.5, 2), (0.9, 3)] {
            let mut kept = Largest::default();
            let ws = pareto_weights(k, 100_000, seed);
            for &w in &ws {
                kept.add(w);
            }
            let se = (1.0 + k) / (949f64).sqrt();
            let khat = kept.pareto_k(ws.len() as u64).unwrap();
            assert!(
                (khat - k).abs() < 3.0 * se,
                "k = {k}: k-hat {khat}, s.e. {se}"
            );
        }
    }

    #[test]
    fn light_tails_have_small_k() {
        // Equal weights have no tail: k-hat is far below any threshold (the prior pulls an
        // estimate of about -1 towards 0.5 a little). Exponential weights have k = 0.
        let mut kept = Largest::default();
        for u in uniforms(100_000, 7) {
            kept.add(-libm::log(1.0 - u));
        }
        let khat = kept.pareto_k(100_000).unwrap();
        assert!(
            khat.abs() < 3.0 * 1.0 / (949f64).sqrt(),
            "exponential: k-hat {khat}"
        );
        let mut equal = Largest::default();
        for _ in 0..1000 {
            equal.add(1.0);
        }
        assert_eq!(equal.pareto_k(1000), None, "no exceedance over the cutoff");
    }

    #[test]
    fn the_largest_weights_do_not_depend_on_order_or_split() {
        let ws = pareto_weights(0.6, 20_000, 11);
        let mut one = Largest::default();
        for &w in &ws {
            one.add(w);
        }
        let (mut a, mut b) = (Largest::default(), Largest::default());
        for (i, &w) in ws.iter().rev().enumerate() {
            if i % 3 == 0 { a.add(w) } else { b.add(w) }
        }
        a.merge(&b);
        assert_eq!(one, a);
        assert_eq!(one.weights.len(), KEPT);
        assert!(one.weights.windows(2).all(|p| p[0] >= p[1]));
        assert_eq!(one.pareto_k(20_000), a.pareto_k(20_000));
    }

    #[test]
    fn the_threshold_follows_the_trial_count() {
        assert!((k_threshold(100) - 0.5).abs() < 1e-12);
        assert!((k_threshold(1000) - (1.0 - 1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(k_threshold(1_000_000), 0.7);
    }
}
