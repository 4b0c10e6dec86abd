//! Exact samplers tuned to the parameter ranges of an election model.
//!
//! The hot loop draws a Beta turnout, a Dirichlet share vector and a multinomial count vector for
//! every precinct, and binomials for every irregular one. These functions are exact (no normal or
//! Poisson shortcut): Marsaglia-Tsang for the gamma (with its constants precomputed in [`Gamma`]
//! where the shape repeats), inversion for binomials, from zero for small means and from the mode
//! for larger ones, and conditional binomials for the multinomial.

use crate::rng::Rng;
use rand::{Rng as _, RngExt};
use rand_distr::{Exp1, StandardNormal};
use std::sync::LazyLock;

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Gamma(shape, 1) with its Marsaglia-Tsang constants computed once, for shapes that repeat
/// (a region's Dirichlet parameters, a trial's mechanism intensities).
///
/// Shapes below 1 use the boost Gamma(a) = Gamma(a + 1) * U^(1/a), with U^(1/a) drawn as
/// exp(-E / a) for a standard exponential E (ziggurat), which avoids `powf` and a logarithm.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gamma {
    d: f64,
    c: f64,
    /// 1 / shape for shapes below 1 (boosted), 0 otherwise.
    inv_shape: f64,
    /// Whether the shape is positive (a zero shape always gives 0).
    positive: bool,
}

impl Gamma {
    /// Gamma(shape, 1); a shape <= 0 (or NaN) gives a sampler that always returns 0.
    #[inline]
    pub fn new(shape: f64) -> Gamma {
        if shape.is_nan() || shape <= 0.0 {
            return Gamma::default();
        }
        let (boosted, inv_shape) = if shape < 1.0 {
            (shape + 1.0, 1.0 / shape)
        } else {
            (shape, 0.0)
        };
        let d = boosted - 1.0 / 3.0;
        Gamma {
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            inv_shape,
            positive: true,
        }
    }

    /// One draw.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        if !self.positive {
            return 0.0;
        }
        let g = marsaglia_tsang(rng, self.d, self.c);
        if self.inv_shape > 0.0 {
            let e: f64 = rng.sample(Exp1);
            g * (-e * self.inv_shape).exp()
        } else {
            g
        }
    }
}

/// Marsaglia and Tsang (2000) for shape d + 1/3 >= 1, c = 1 / sqrt(9 d).
#[inline]
fn marsaglia_tsang(rng: &mut Rng, d: f64, c: f64) -> f64 {
    loop {
        let x: f64 = rng.sample(StandardNormal);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        // A uniform in (0, 1), safe for the logarithm.
        let u = ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
        let x2 = x * x;
        // The squeeze accepts ~98% of draws without a logarithm.
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// Gamma(shape, 1), shape > 0 (Marsaglia and Tsang 2000; shape < 1 by the boost
/// Gamma(a) = Gamma(a + 1) * U^(1/a)).
#[inline]
pub fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    debug_assert!(shape > 0.0);
    Gamma::new(shape).sample(rng)
}

/// Beta(a, b) with its gamma constants computed once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Beta {
    x: Gamma,
    y: Gamma,
    mean: f64,
}

impl Beta {
    /// Beta(a, b); a, b > 0.
    #[inline]
    pub fn new(a: f64, b: f64) -> Beta {
        Beta {
            x: Gamma::new(a),
            y: Gamma::new(b),
            mean: a / (a + b),
        }
    }

    /// Beta with the given mean in (0, 1) and concentration a + b > 0.
    #[inline]
    pub fn with_mean(mean: f64, concentration: f64) -> Beta {
        Beta::new(mean * concentration, (1.0 - mean) * concentration)
    }

    /// One draw.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        let x = self.x.sample(rng);
        let y = self.y.sample(rng);
        if x + y > 0.0 { x / (x + y) } else { self.mean }
    }
}

/// Beta(a, b) as a ratio of gammas; a, b > 0.
#[inline]
pub fn beta(rng: &mut Rng, a: f64, b: f64) -> f64 {
    Beta::new(a, b).sample(rng)
}

/// Beta with the given mean in (0, 1) and concentration a + b > 0.
#[inline]
pub fn beta_mean(rng: &mut Rng, mean: f64, concentration: f64) -> f64 {
    Beta::with_mean(mean, concentration).sample(rng)
}

/// Means below this use inversion from zero; above it inversion from the mode.
const INVERSION_MAX_MEAN: f64 = 8.0;

/// Binomial(n, p) with p clamped to [0, 1].
#[inline]
pub fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        // 1 - p is exact here (Sterbenz).
        return n - binomial(rng, n, 1.0 - p);
    }
    if (n as f64) * p < INVERSION_MAX_MEAN {
        binomial_inversion(rng, n, p)
    } else {
        binomial_mode_inversion(rng, n, p)
    }
}

/// x^n by repeated squaring (deterministic: plain multiplications).
#[inline]
fn powu(mut x: f64, mut n: u64) -> f64 {
    let mut r = 1.0;
    while n > 0 {
        if n & 1 == 1 {
            r *= x;
        }
        x *= x;
        n >>= 1;
    }
    r
}

/// (1 - p)^n: by squaring for small n, through exp and log1p for large n.
#[inline]
fn q_pow_n(p: f64, n: u64) -> f64 {
    if n <= 64 {
        powu(1.0 - p, n)
    } else {
        (n as f64 * (-p).ln_1p()).exp()
    }
}

/// Sequential-search inversion (Kachitvichyanukul and Schmeiser's BINV), exact, expected cost
/// O(n p); used only for small means.
#[inline]
fn binomial_inversion(rng: &mut Rng, n: u64, p: f64) -> u64 {
    let q = 1.0 - p;
    let s = p / q;
    let a = (n as f64 + 1.0) * s;
    let r0 = q_pow_n(p, n);
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

/// Entries in the table of ln k!.
const LN_FACTORIAL_TABLE: usize = 4096;

/// ln k! for k < LN_FACTORIAL_TABLE: summed exactly-rounded terms below 32, Stirling above.
static LN_FACTORIAL: LazyLock<Box<[f64]>> = LazyLock::new(|| {
    let mut t = vec![0.0; LN_FACTORIAL_TABLE];
    for k in 2..LN_FACTORIAL_TABLE {
        t[k] = if k < 32 {
            t[k - 1] + (k as f64).ln()
        } else {
            ln_factorial_stirling(k as f64)
        };
    }
    t.into_boxed_slice()
});

/// ln k! by the Stirling series, accurate to double precision for k >= 32.
fn ln_factorial_stirling(k: f64) -> f64 {
    let x = k + 1.0;
    let r = 1.0 / x;
    let r2 = r * r;
    // 0.5 ln(2 pi)
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
    (x - 0.5) * x.ln() - x
        + HALF_LN_2PI
        + r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0))))
}

/// ln k!.
#[inline]
fn ln_factorial(k: u64) -> f64 {
    if (k as usize) < LN_FACTORIAL_TABLE {
        LN_FACTORIAL[k as usize]
    } else {
        ln_factorial_stirling(k as f64)
    }
}

/// Inversion from the mode: the pmf at the mode from a log-factorial table, then the cells are
/// visited alternately below and above the mode with the pmf recurrence until the uniform is
/// used up. Exact; expected cost O(sqrt(n p q)), three transcendental calls per draw.
#[inline]
fn binomial_mode_inversion(rng: &mut Rng, n: u64, p: f64) -> u64 {
    let q = 1.0 - p;
    let s = p / q;
    let r = q / p;
    let nf = n as f64;
    // The mode floor((n + 1) p) <= n for p <= 0.5.
    let m = ((nf + 1.0) * p) as u64;
    let m = m.min(n);
    let ln_fm = ln_factorial(n) - ln_factorial(m) - ln_factorial(n - m)
        + m as f64 * p.ln()
        + (n - m) as f64 * (-p).ln_1p();
    let fm = ln_fm.exp();
    loop {
        let mut u = uniform(rng) - fm;
        if u < 0.0 {
            return m;
        }
        let (mut lo, mut hi) = (m, m);
        let (mut flo, mut fhi) = (fm, fm);
        loop {
            if lo > 0 {
                // f(k - 1) = f(k) k / ((n - k + 1) s)
                flo *= lo as f64 * r / (nf - lo as f64 + 1.0);
                lo -= 1;
                u -= flo;
                if u < 0.0 {
                    return lo;
                }
            }
            if hi < n {
                // f(k + 1) = f(k) (n - k) s / (k + 1)
                fhi *= (nf - hi as f64) * s / (hi as f64 + 1.0);
                hi += 1;
                u -= fhi;
                if u < 0.0 {
                    return hi;
                }
            } else if lo == 0 {
                // Floating-point residue past the support: draw again.
                break;
            }
        }
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

/// Unnormalised Dirichlet weights: independent gammas with precomputed constants. Shares are
/// `out[k] / sum`; the multinomial only needs the weights. Returns the sum.
#[inline]
pub fn dirichlet_weights(rng: &mut Rng, gammas: &[Gamma], out: &mut [f64]) -> f64 {
    let mut total = 0.0;
    for (o, g) in out.iter_mut().zip(gammas) {
        *o = g.sample(rng);
        total += *o;
    }
    total
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
        let k = if mass > 0.0 {
            binomial(rng, left, p[i] / mass)
        } else {
            0
        };
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
        let (a, b) = (13.6_f64, 6.4_f64);
        let n = 200_000;
        let mean = a / (a + b);
        let var: f64 = a * b / ((a + b) * (a + b) * (a + b + 1.0));
        check_mean("beta", n, mean, var, moments(n, || beta(&mut rng, a, b)));
    }

    #[test]
    fn binomial_moments_both_methods() {
        let mut rng = stream(3, 0);
        for (n_trials, p) in [
            (5u64, 0.1),
            (40, 0.3),
            (600, 0.07),
            (600, 0.012),
            (1000, 0.9),
        ] {
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

    /// Chi-square statistic and degrees of freedom (cells - 1) of observed counts against
    /// expected probabilities, pooling cells with expected count under 5 into one.
    fn chi_square(counts: &[u64], probs: &[f64], draws: usize) -> (f64, usize) {
        let (mut chi2, mut cells, mut pooled_e, mut pooled_o) = (0.0, 0usize, 0.0, 0.0);
        for (&c, &q) in counts.iter().zip(probs) {
            let e = q * draws as f64;
            if e < 5.0 {
                pooled_e += e;
                pooled_o += c as f64;
            } else {
                chi2 += (c as f64 - e).powi(2) / e;
                cells += 1;
            }
        }
        if pooled_e > 0.0 || pooled_o > 0.0 {
            // A pooled cell of tiny expected mass still counts: an impossible value would blow up.
            let e = pooled_e.max(1e-300);
            chi2 += (pooled_o - e).powi(2) / e;
            cells += 1;
        }
        (chi2, cells.saturating_sub(1))
    }

    /// The 0.999 quantile of chi-square (alpha 0.001), exact for 1 and 2 degrees of freedom.
    fn chi2_crit(dof: usize) -> f64 {
        match dof {
            0 => 0.0,
            1 => 10.828,
            2 => 13.816,
            d => crate::stats::chi2_quantile(d as f64, 3.090_232_306_167_813) * 1.01,
        }
    }

    /// Exact Binomial(n, p) pmf by log-gamma (independent of the sampler's tables).
    fn binomial_pmf(n: u64, p: f64) -> Vec<f64> {
        let lg = |k: u64| crate::stats::ln_gamma(k as f64 + 1.0);
        (0..=n)
            .map(|k| {
                (lg(n) - lg(k) - lg(n - k) + k as f64 * p.ln() + (n - k) as f64 * (-p).ln_1p())
                    .exp()
            })
            .collect()
    }

    #[test]
    fn binomial_matches_pmf_over_grid() {
        // Every branch: p > 0.5 by symmetry, inversion from zero with (1 - p)^n by squaring
        // (n <= 64) and by exp/log1p (n > 64), inversion from the mode with the ln k! table
        // (n < 4096) and with Stirling's series beyond it.
        let draws = 60_000usize;
        let mut seed = 100;
        for n in [1u64, 7, 30, 64, 65, 200, 600, 1500, 3000, 5000] {
            for p in [0.001, 0.01, 0.05, 0.2, 0.5, 0.7] {
                seed += 1;
                let mut rng = stream(seed, 0);
                let mut counts = vec![0u64; n as usize + 1];
                for _ in 0..draws {
                    counts[binomial(&mut rng, n, p) as usize] += 1;
                }
                let (chi2, dof) = chi_square(&counts, &binomial_pmf(n, p), draws);
                assert!(
                    chi2 < chi2_crit(dof),
                    "bin({n},{p}): chi2 {chi2} with {dof} dof"
                );
            }
        }
    }

    #[test]
    fn binomial_mode_branch_matches_pmf_at_threshold() {
        // Just above and below the switch between the two inversion methods, many draws.
        for (k, (n, p)) in [(40u64, 0.199), (40, 0.201), (600, 0.0132), (600, 0.0134)]
            .into_iter()
            .enumerate()
        {
            let draws = 400_000usize;
            let mut rng = stream(200 + k as u64, 0);
            let mut counts = vec![0u64; n as usize + 1];
            for _ in 0..draws {
                counts[binomial(&mut rng, n, p) as usize] += 1;
            }
            let (chi2, dof) = chi_square(&counts, &binomial_pmf(n, p), draws);
            assert!(
                chi2 < chi2_crit(dof),
                "bin({n},{p}): chi2 {chi2} with {dof} dof"
            );
        }
    }

    #[test]
    fn ln_factorial_table_is_accurate() {
        for k in [0u64, 1, 2, 10, 31, 32, 33, 100, 1000, 4095, 4096, 10_000] {
            let exact = crate::stats::ln_gamma(k as f64 + 1.0);
            assert!(
                (ln_factorial(k) - exact).abs() < 1e-12 * exact.max(1.0),
                "{k}"
            );
        }
    }

    #[test]
    fn beta_and_small_shape_gamma_match_cdf() {
        // Chi-square over 20 equiprobable bins of the exact Beta CDF; shapes below 1 exercise the
        // exponential boost of the gamma.
        let draws = 200_000usize;
        for (k, (a, b)) in [(0.19, 1.2), (0.4, 0.6), (0.7, 3.2), (13.6, 6.4), (2.0, 5.0)]
            .into_iter()
            .enumerate()
        {
            let bins = 20;
            let edges: Vec<f64> = (1..bins)
                .map(|j| {
                    let target = j as f64 / bins as f64;
                    let (mut lo, mut hi) = (0.0f64, 1.0f64);
                    for _ in 0..200 {
                        let mid = 0.5 * (lo + hi);
                        if crate::stats::beta_cdf(mid, a, b) < target {
                            lo = mid
                        } else {
                            hi = mid
                        }
                    }
                    0.5 * (lo + hi)
                })
                .collect();
            let mut rng = stream(300 + k as u64, 0);
            let mut counts = vec![0u64; bins];
            for _ in 0..draws {
                let x = beta(&mut rng, a, b);
                counts[edges.partition_point(|&e| e <= x)] += 1;
            }
            let probs = vec![1.0 / bins as f64; bins];
            let (chi2, dof) = chi_square(&counts, &probs, draws);
            assert!(
                chi2 < chi2_crit(dof),
                "beta({a},{b}): chi2 {chi2} with {dof} dof"
            );
        }
    }

    #[test]
    fn multinomial_with_unnormalised_weights_matches_dirichlet_multinomial_means() {
        let mut rng = stream(6, 0);
        let alpha = [0.2, 0.7, 3.0, 40.0, 1.2];
        let gammas: Vec<Gamma> = alpha.iter().map(|&a| Gamma::new(a)).collect();
        let order = [0, 1, 4, 2, 3];
        let (mut w, mut out, mut sums) = ([0.0; 5], [0u64; 5], [0u64; 5]);
        let draws = 200_000;
        for _ in 0..draws {
            let total = dirichlet_weights(&mut rng, &gammas, &mut w);
            assert!(total > 0.0);
            multinomial(&mut rng, 600, &w, &order, &mut out);
            assert_eq!(out.iter().sum::<u64>(), 600);
            sums.iter_mut().zip(out).for_each(|(s, o)| *s += o);
        }
        let a0: f64 = alpha.iter().sum();
        for i in 0..5 {
            let p = alpha[i] / a0;
            // Dirichlet-multinomial variance: n p (1 - p) (n + a0) / (1 + a0).
            let var = 600.0 * p * (1.0 - p) * (600.0 + a0) / (1.0 + a0);
            let m = sums[i] as f64 / draws as f64;
            let se = (var / draws as f64).sqrt();
            assert!(
                (m - 600.0 * p).abs() < 5.0 * se,
                "cat {i}: {m} vs {}",
                600.0 * p
            );
        }
    }
}
