//! Exact samplers tuned to the parameter ranges of an election model.
//!
//! The hot loop draws a Beta turnout, a Dirichlet share vector and a multinomial count vector for
//! every precinct, and binomials for every irregular one. These functions are exact (no normal or
//! Poisson shortcut): Marsaglia-Tsang for the gamma, inversion for small-mean binomials and
//! rand_distr's BTPE above that, conditional binomials for the multinomial.

use crate::rng::Rng;
use rand::{Rng as _, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw in (0, 1), safe for logarithms and powers.
#[inline]
fn open_uniform(rng: &mut Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Gamma(shape, 1), shape > 0 (Marsaglia and Tsang 2000; shape < 1 by the boost
/// Gamma(a) = Gamma(a + 1) * U^(1/a)).
#[inline]
pub fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    debug_assert!(shape > 0.0);
    if shape < 1.0 {
        let g = gamma(rng, shape + 1.0);
        return g * open_uniform(rng).powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x: f64 = rng.sample(StandardNormal);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = open_uniform(rng);
        let x2 = x * x;
        // The squeeze accepts ~98% of draws without a logarithm.
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// Beta(a, b) as a ratio of gammas; a, b > 0.
#[inline]
pub fn beta(rng: &mut Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    if x + y > 0.0 { x / (x + y) } else { a / (a + b) }
}

/// Beta with the given mean in (0, 1) and concentration a + b > 0.
#[inline]
pub fn beta_mean(rng: &mut Rng, mean: f64, concentration: f64) -> f64 {
    beta(rng, mean * concentration, (1.0 - mean) * concentration)
}

/// Means below this use inversion; above it BTPE is faster.
const INVERSION_MAX_MEAN: f64 = 12.0;

/// Binomial(n, p) with p clamped to [0, 1].
#[inline]
pub fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    if (n as f64) * p < INVERSION_MAX_MEAN {
        binomial_inversion(rng, n, p)
    } else {
        // BTPE; constructing it is cheap next to the draw and `new` cannot fail for these
        // arguments (n > 0, 0 < p <= 0.5).
        rand_distr::Binomial::new(n, p)
            .map(|d| d.sample(rng))
            .unwrap_or(0)
    }
}

/// Sequential-search inversion (Kachitvichyanukul and Schmeiser's BINV), exact, expected cost
/// O(n p); used only for small means.
#[inline]
fn binomial_inversion(rng: &mut Rng, n: u64, p: f64) -> u64 {
    let q = 1.0 - p;
    let s = p / q;
    let a = (n as f64 + 1.0) * s;
    let r0 = (n as f64 * q.ln()).exp();
    'retry: loop {
        let mut r = r0;
        let mut u = uniform(rng);
        let mut x = 0u64;
        while u > r {
            u -= r;
            x += 1;
            if x > n {
                // Floating-point residue past the support: draw again.
                continue 'retry;
            }
            r *= a / x as f64 - s;
        }
        return x;
    }
}

/// Fills `out` with Dirichlet(alpha) shares.
#[inline]
pub fn dirichlet(rng: &mut Rng, alpha: &[f64], out: &mut [f64]) {
    let mut total = 0.0;
    for (o, &a) in out.iter_mut().zip(alpha) {
        *o = if a > 0.0 { gamma(rng, a) } else { 0.0 };
        total += *o;
    }
    if total > 0.0 {
        out.iter_mut().for_each(|o| *o /= total);
    } else {
        // All gammas underflowed (only possible with tiny shapes): fall back to the mean.
        let sum: f64 = alpha.iter().sum();
        out.iter_mut().zip(alpha).for_each(|(o, a)| *o = a / sum);
    }
}

/// Multinomial(n, p) into `out` by conditional binomials. `order` lists the categories to draw,
/// the largest last: the last one takes the remainder and is never drawn, and the loop stops as
/// soon as no ballots are left.
#[inline]
pub fn multinomial(rng: &mut Rng, n: u64, p: &[f64], order: &[usize], out: &mut [u64]) {
    out.iter_mut().for_each(|o| *o = 0);
    let mut left = n;
    let mut mass: f64 = order.iter().map(|&i| p[i]).sum();
    let (&last, rest) = order.split_last().expect("at least one category");
    for &i in rest {
        if left == 0 {
            return;
        }
        let k = if mass > 0.0 { binomial(rng, left, p[i] / mass) } else { 0 };
        out[i] = k;
        left -= k;
        mass -= p[i];
    }
    out[last] = left;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    /// Mean and variance of `n` draws.
    fn moments(n: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
        let xs: Vec<f64> = (0..n).map(|_| f()).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (m, v)
    }

    /// Asserts a sample mean lies within 5 standard errors of the exact mean.
    fn check_mean(label: &str, n: usize, exact_mean: f64, exact_var: f64, got: (f64, f64)) {
        let se = (exact_var / n as f64).sqrt();
        assert!(
            (got.0 - exact_mean).abs() < 5.0 * se,
            "{label}: mean {} vs {exact_mean} (se {se})",
            got.0
        );
        // The variance of a sample variance is roughly 2 var^2 / n for these near-normal cases;
        // 10% relative tolerance is over 10 of its standard errors at n = 200k.
        assert!(
            (got.1 / exact_var - 1.0).abs() < 0.1,
            "{label}: variance {} vs {exact_var}",
            got.1
        );
    }

    #[test]
    fn gamma_moments() {
        let mut rng = stream(1, 0);
        for shape in [0.19, 0.7, 1.0, 2.25, 13.6, 44.0] {
            let n = 200_000;
            let got = moments(n, || gamma(&mut rng, shape));
            check_mean(&format!("gamma({shape})"), n, shape, shape, got);
        }
    }

    #[test]
    fn beta_moments() {
        let mut rng = stream(2, 0);
        let (a, b): (f64, f64) = (13.6, 6.4);
        let n = 200_000;
        let mean = a / (a + b);
        let var = a * b / ((a + b).powi(2) * (a + b + 1.0));
        check_mean("beta", n, mean, var, moments(n, || beta(&mut rng, a, b)));
    }

    #[test]
    fn binomial_moments_both_methods() {
        let mut rng = stream(3, 0);
        for (n_trials, p) in [(5u64, 0.1), (40, 0.3), (600, 0.07), (600, 0.012), (1000, 0.9)] {
            let n = 200_000;
            let got = moments(n, || binomial(&mut rng, n_trials, p) as f64);
            let m = n_trials as f64 * p;
            check_mean(&format!("bin({n_trials},{p})"), n, m, m * (1.0 - p), got);
        }
    }

    #[test]
    fn binomial_inversion_matches_pmf() {
        // Chi-square goodness of fit of the inversion branch against the exact pmf.
        let (n_trials, p, draws) = (30u64, 0.2, 400_000usize);
        let mut rng = stream(4, 0);
        let mut counts = vec![0u64; n_trials as usize + 1];
        for _ in 0..draws {
            counts[binomial(&mut rng, n_trials, p) as usize] += 1;
        }
        let mut pmf = vec![0.0; n_trials as usize + 1];
        pmf[0] = (1.0 - p).powi(n_trials as i32);
        for k in 1..=n_trials as usize {
            pmf[k] = pmf[k - 1] * (n_trials as f64 - k as f64 + 1.0) / k as f64 * p / (1.0 - p);
        }
        // Pool cells with expected count under 5 into one.
        let (mut chi2, mut dof, mut pooled_e, mut pooled_o) = (0.0, 0usize, 0.0, 0.0);
        for k in 0..=n_trials as usize {
            let e = pmf[k] * draws as f64;
            if e < 5.0 {
                pooled_e += e;
                pooled_o += counts[k] as f64;
            } else {
                chi2 += (counts[k] as f64 - e).powi(2) / e;
                dof += 1;
            }
        }
        if pooled_e > 0.0 {
            chi2 += (pooled_o - pooled_e).powi(2) / pooled_e;
            dof += 1;
        }
        // The 0.999 quantile of chi-square with ~17 degrees of freedom is about 40.8.
        assert!(dof <= 18, "dof {dof}");
        assert!(chi2 < 42.3, "chi2 {chi2} with {} dof", dof - 1);
    }

    #[test]
    fn multinomial_conserves_and_matches_means() {
        let mut rng = stream(5, 0);
        let p = [0.05, 0.03, 0.9, 0.02];
        let order = [3, 1, 0, 2];
        let mut out = [0u64; 4];
        let mut sums = [0u64; 4];
        let draws = 100_000;
        for _ in 0..draws {
            multinomial(&mut rng, 700, &p, &order, &mut out);
            assert_eq!(out.iter().sum::<u64>(), 700);
            sums.iter_mut().zip(out).for_each(|(s, o)| *s += o);
        }
        for i in 0..4 {
            let m = sums[i] as f64 / draws as f64;
            let se = (700.0 * p[i] * (1.0 - p[i]) / draws as f64).sqrt();
            assert!((m - 700.0 * p[i]).abs() < 5.0 * se, "cat {i}: {m}");
        }
    }
}
