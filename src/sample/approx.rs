//! Moment-preserving approximations for `--sampler fast` .
//!
//! National totals sum thousands of precincts, so what carries through to the headline
//! probabilities is each precinct count's mean and variance (and covariances), not the shape of
//! its law. Every approximation here keeps those moments exactly (or to a tested tolerance) and
//! never clamps a mean away: a quantile table for the turnout Beta, a dithered uniform or a
//! rounded normal for binomials, and two-point shares for the Dirichlet's small categories.
//! Each has a unit test of its moments against the exact law; `tests/fast_sampler.rs` checks
//! every named scenario's probabilities against the exact samplers (`sampler`).

use crate::numeric::math;
use crate::sample::exact::{
    Binomial, Gamma, binomial_outlined, count_f64, dirichlet_multinomial_rest, trunc_count, uniform,
};
use crate::sample::rng::Rng;
use crate::sample::ziggurat::standard_normal;
use rand::Rng as _;
use std::sync::OnceLock;

/// Cells of a `BetaTable`.
const BETA_TABLE_CELLS: usize = 1024;

/// Simpson panels of a `BetaTable`'s quadrature over [0, 1].
const PANELS: usize = 1024;

/// (ln x, ln(1 - x)) at x = i / (2 PANELS), i = 0..=2 PANELS: the quadrature's points (panel
/// ends and midpoints), computed once per process.
fn log_grid() -> &'static [(f64, f64)] {
    static GRID: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    GRID.get_or_init(|| {
        let h = 1.0 / PANELS as f64;
        (0..=2 * PANELS)
            .map(|i| {
                // Written as the quadrature wrote its points (k h, k h + h / 2), all exact.
                let x = (i / 2) as f64 * h + if i % 2 == 1 { 0.5 * h } else { 0.0 };
                (math::ln(x), math::ln(1.0 - x))
            })
            .collect()
    })
}

/// Beta(a, b) for `--sampler fast` by inversion of a tabulated quantile function: the
/// quantiles at u = k / 1024, linearly interpolated. Every cell between two tabulated quantiles
/// keeps its exact probability 1/1024 (only the law inside a cell becomes uniform; the two end
/// cells are placed to keep their conditional means), so the mean is the Beta's to 1e-4 of its
/// standard deviation and the variance to 5e-4 (tested); one uniform instead of two gammas.
/// Built once per parameter pair (a region's turnout): Simpson's rule over 1,024 panels.
#[derive(Debug, Clone)]
pub struct BetaTable {
    q: Vec<f64>,
}

impl BetaTable {
    /// The table for Beta(a, b), or None unless a, b >= 1 (a bounded density, which the
    /// quadrature needs) and its standard deviation is at least 1/64 (so the quadrature resolves
    /// it).
    pub fn new(a: f64, b: f64) -> Option<BetaTable> {
        if !(a >= 1.0 && b >= 1.0 && a.is_finite() && b.is_finite()) {
            return None;
        }
        // At least 16 panels per standard deviation, for the quadrature's accuracy.
        let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
        if sd < 16.0 / PANELS as f64 {
            return None;
        }
        // The log density relative to its mode, so the density is at most 1 (no overflow).
        let mode = if a + b > 2.0 {
            (a - 1.0) / (a + b - 2.0)
        } else {
            0.5
        };
        let log_f = |x: f64| (a - 1.0) * math::ln(x) + (b - 1.0) * math::ln(1.0 - x);
        let log_mode = if a > 1.0 && b > 1.0 { log_f(mode) } else { 0.0 };
        // The density at grid point i (x = i / (2 PANELS)), from the cached logarithms: the
        // same values as computing them here (the grid points and 1 - x are exact in binary),
        // but a table is built every trial and the logarithms were half its cost.
        // Where x is 0 or 1 the log density is -inf and the density 0 (e^-inf).
        let log_density: Vec<f64> = log_grid()
            .iter()
            .map(|&(ln_x, ln_1mx)| {
                (if a > 1.0 { (a - 1.0) * ln_x } else { 0.0 })
                    + (if b > 1.0 { (b - 1.0) * ln_1mx } else { 0.0 })
                    - log_mode
            })
            .collect();
        let mut density = vec![0.0; log_density.len()];
        math::exp_each(&log_density, &mut density);
        let f = |i: usize| density[i];
        let h = 1.0 / PANELS as f64;
        // The cumulative mass and first moment at the panel ends.
        let mut cdf = vec![0.0; PANELS + 1];
        let mut cm1 = vec![0.0; PANELS + 1];
        let mut left = f(0);
        for k in 0..PANELS {
            let x0 = k as f64 * h;
            let (mid, right) = (f(2 * k + 1), f(2 * k + 2));
            cdf[k + 1] = cdf[k] + h / 6.0 * (left + 4.0 * mid + right);
            cm1[k + 1] =
                cm1[k] + h / 6.0 * (4.0 * (x0 + 0.5 * h) * mid + (x0 + h) * right + x0 * left);
            left = right;
        }
        let total = cdf[PANELS];
        let mut q = vec![0.0; BETA_TABLE_CELLS + 1];
        let mut j = 0;
        let mut first_moment = [0.0; BETA_TABLE_CELLS + 1];
        for k in 1..BETA_TABLE_CELLS {
            let target = k as f64 / BETA_TABLE_CELLS as f64 * total;
            while cdf[j + 1] < target {
                j += 1;
            }
            let (c0, c1) = (cdf[j], cdf[j + 1]);
            let t = if c1 > c0 {
                (target - c0) / (c1 - c0)
            } else {
                0.0
            };
            q[k] = (j as f64 + t) * h;
            first_moment[k] = cm1[j] + t * (cm1[j + 1] - cm1[j]);
        }
        // The two end cells reach to 0 and 1 but hold little mass near them: their outer ends
        // are placed so each uniform cell has the exact conditional mean (the tails would
        // otherwise shift the mean by ~1e-4).
        let cell = total / BETA_TABLE_CELLS as f64;
        let mean_first = first_moment[1] / cell;
        let mean_last = (cm1[PANELS] - first_moment[BETA_TABLE_CELLS - 1]) / cell;
        q[0] = (2.0 * mean_first - q[1]).clamp(0.0, q[1]);
        q[BETA_TABLE_CELLS] =
            (2.0 * mean_last - q[BETA_TABLE_CELLS - 1]).clamp(q[BETA_TABLE_CELLS - 1], 1.0);
        Some(BetaTable { q })
    }

    /// One draw: the cell from the top 10 bits of a random number, the position in it from the
    /// next 53 (integer operations only: no float-to-integer conversion).
    #[inline(always)]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        const _: () = assert!(BETA_TABLE_CELLS == 1 << 10);
        let bits = rng.next_u64();
        let i = (bits >> 54) as usize;
        let t = count_f64((bits << 10) >> 11) * (1.0 / (1u64 << 53) as f64);
        // i < BETA_TABLE_CELLS, so both entries exist.
        let (lo, hi) = (self.q[i], self.q[i + 1]);
        lo + t * (hi - lo)
    }

    /// `sample` from 32 random bits (`pooled`): the cell from the top 10, the position in it from
    /// the other 22, at the midpoints of 2^22 equal steps (so its mean is still exactly the
    /// cell's middle and its variance the uniform's to 2^-44).
    #[inline(always)]
    pub fn sample32(&self, bits: u32) -> f64 {
        let i = (bits >> 22) as usize;
        let t = (f64::from(bits & 0x3f_ffff) + 0.5) * (1.0 / (1u64 << 22) as f64);
        let (lo, hi) = (self.q[i], self.q[i + 1]);
        lo + t * (hi - lo)
    }

    /// The table's mean and variance (exact for its piecewise-uniform law).
    #[cfg(test)]
    pub fn moments(&self) -> (f64, f64) {
        let n = BETA_TABLE_CELLS as f64;
        let (mut m1, mut m2) = (0.0, 0.0);
        for w in self.q.windows(2) {
            m1 += (w[0] + w[1]) / 2.0 / n;
            m2 += (w[0] * w[0] + w[0] * w[1] + w[1] * w[1]) / 3.0 / n;
        }
        (m1, m2 - m1 * m1)
    }
}

/// `Fast` draws binomials whose variance n p (1 - p) is at least this from a rounded normal
/// (skewness error (1 - 2p) / sqrt(n p q) <= 1/3 per draw; the mean is kept to about 1e-3
/// ballots and the variance gains 1/12 from the rounding, so sums over precincts keep their mean
/// and spread). Smaller variances are drawn exactly.
pub const FAST_MIN_VARIANCE: f64 = 9.0;

/// The fast binomial ([`binomial_fast`]), for the multinomials of `exact` compiled for it.
pub struct Fast;

impl Binomial for Fast {
    #[inline]
    fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64 {
        binomial_fast(rng, n, p)
    }
}

/// Approximate Binomial(n, p): a rounded, clamped normal when n p (1 - p) >= FAST_MIN_VARIANCE,
/// else a dithered uniform (`dithered_uniform`) where its support fits in [0, n], else the exact
/// sampler (out of line, so the common cases stay small where they are inlined).
#[inline(always)]
pub fn binomial_fast(rng: &mut Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let nf = count_f64(n);
    let mean = nf * p;
    let var = mean * (1.0 - p);
    if var < FAST_MIN_VARIANCE {
        // Below the normal's range: a dithered uniform where its support fits in [0, n].
        let l = (12.0 * var - 2.0).sqrt();
        let half = 0.5 * (l + 1.0);
        if l >= 1.0 && mean >= half && nf - mean >= half {
            return dithered_uniform(rng, mean, l);
        }
        return binomial_outlined(rng, n, p);
    }
    let z: f64 = standard_normal(rng);
    // max/min rather than clamp, which checks its bounds (a branch and a panic path per draw).
    let x = (mean + var.sqrt() * z + 0.5).max(0.0).min(nf);
    // x >= 0: the truncating cast is the floor, so this rounds to the nearest integer.
    trunc_count(x).min(n)
}

/// For `binomial_fast`, a count with mean `mean` and variance (l^2 + 2) / 12 (l >= 1), without
/// clamping: floor(mean - w / 2 + w U1 + U2) for U1, U2 uniform and an integer width w, l's floor
/// or the next integer, chosen with the probability that makes E[w^2] = l^2. Given w, the
/// fractional part of mean - w / 2 + w U1 is exactly uniform (w is an integer), so the dither U2
/// keeps the mean and adds exactly 1/6 to the variance w^2 / 12: the mean is exact and the
/// variance is E[w^2] / 12 + 1/6 = (l^2 + 2) / 12. The support, [floor(mean - w / 2),
/// floor(mean + w / 2)], lies in [0, n] when mean and n - mean are at least (l + 1) / 2 (the
/// caller's check). The three uniforms come from one 64-bit number, 21 bits each (cell
/// midpoints, so each has mean exactly 1/2; the dither's resolution moves a draw's mean by at
/// most 2^-22 of a ballot).
#[inline(always)]
fn dithered_uniform(rng: &mut Rng, mean: f64, l: f64) -> u64 {
    const SCALE: f64 = 1.0 / (1u64 << 21) as f64;
    const MASK: u64 = (1 << 21) - 1;
    let bits = rng.next_u64();
    let u1 = (count_f64(bits >> 43) + 0.5) * SCALE;
    let u2 = (count_f64((bits >> 22) & MASK) + 0.5) * SCALE;
    let u3 = (count_f64(bits & MASK) + 0.5) * SCALE;
    let w1 = count_f64(trunc_count(l));
    let w2 = w1 + 1.0;
    // P(w = w1) so that E[w^2] = l^2.
    let lambda = (w2 * w2 - l * l) / (w2 * w2 - w1 * w1);
    let w = if u3 < lambda { w1 } else { w2 };
    trunc_count(mean - 0.5 * w + w * u1 + u2)
}

/// A category that `dirichlet_multinomial_fast` gives a two-point share: `h` with probability
/// `pi`, else 0. With h = m + (1 - m) / (1 + A) and pi = m / h its mean m and variance
/// m (1 - m) / (1 + A) are those of the Dirichlet(alpha) share it replaces (m = alpha / A, A the
/// total concentration).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpikeShare {
    pub category: usize,
    pub pi: f64,
    pub h: f64,
    /// 1 / pi and 1 / (1 - pi): rescale the uniform of the decision for the next spike.
    pub inv_pi: f64,
    pub inv_miss: f64,
}

impl SpikeShare {
    /// The two-point share of a category with mean share `m` under total concentration `a`.
    pub fn new(category: usize, m: f64, a: f64) -> SpikeShare {
        let h = m + (1.0 - m) / (1.0 + a);
        let pi = if h > 0.0 { m / h } else { 0.0 };
        SpikeShare {
            category,
            pi,
            h,
            inv_pi: 1.0 / pi,
            inv_miss: 1.0 / (1.0 - pi),
        }
    }
}

/// `split_spikes` gives a two-point share to categories with a Dirichlet parameter below this.
pub const SPIKE_MAX_ALPHA: f64 = 2.0;

/// The categories of a Dirichlet(alpha) share vector (sorted smallest first, largest last, as
/// `order`) that `dirichlet_multinomial_fast` draws with a `SpikeShare`: those with alpha <
/// `SPIKE_MAX_ALPHA` (the gammas that need an exponential each or often a logarithm, and whose
/// counts are small enough for the exact binomial's slow inversion), never the largest,
/// while the spikes' total `h` stays at most 1/2 (so the other categories keep at least half the
/// share). Returns the number of spikes written to `spikes`; `rest` gets the other categories,
/// still smallest first.
pub fn split_spikes(
    alpha: &[f64],
    order: &[usize],
    spikes: &mut [SpikeShare],
    rest: &mut [usize],
) -> (usize, usize) {
    let total: f64 = alpha.iter().sum();
    let (mut n_spikes, mut n_rest, mut h_sum) = (0, 0, 0.0);
    let last = order.len().saturating_sub(1);
    for (j, &i) in order.iter().enumerate() {
        let spike = SpikeShare::new(i, alpha[i] / total, total);
        if j < last && alpha[i] < SPIKE_MAX_ALPHA && h_sum + spike.h <= 0.5 {
            spikes[n_spikes] = spike;
            n_spikes += 1;
            h_sum += spike.h;
        } else {
            rest[n_rest] = i;
            n_rest += 1;
        }
    }
    (n_spikes, n_rest)
}

/// Approximate Dirichlet-multinomial(n, alpha) for `--sampler fast`, with the exact mean and,
/// but for the small covariances between two spike categories, the exact covariance.
///
/// The spike categories get a two-point share (`SpikeShare`: the Dirichlet share's mean and
/// variance) instead of a gamma with an exponential, and their counts are drawn first, each a
/// binomial of the ballots left given the share left (so ballots are conserved). The other
/// categories (`order`, smallest first) share the remaining ballots exactly as in the exact
/// sampler: a Dirichlet-multinomial of them, which is also the exact Dirichlet-multinomial's
/// conditional law given the spike categories' counts, with `binomial_fast` for the binomials.
/// Hence every category's mean n m and variance n m (1 - m) (n + A) / (1 + A), and every
/// covariance involving a non-spike category, are exact; two spike categories are uncorrelated
/// in share (-m_i m_j / (1 + A) for the Dirichlet: about 2% of their variances in odihr-43).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn dirichlet_multinomial_fast(
    rng: &mut Rng,
    n: u64,
    spikes: &[SpikeShare],
    gammas: &[Gamma],
    alpha: &[f64],
    order: &[usize],
    weights: &mut [f64],
    out: &mut [u64],
) {
    let left = spike_counts(rng, n, spikes, out);
    dirichlet_multinomial_rest::<Fast>(rng, left, gammas, alpha, order, weights, out);
}

/// The fewest precincts a stick-breaking `BetaTable` must serve in a trial to be built (`trial`):
/// building one costs about 1e5 instructions, what its lookups save over gammas in about 1,000
/// precincts.
pub const STICK_TABLE_MIN_PRECINCTS: u64 = 2_000;

/// `dirichlet_multinomial_fast` with the non-spike categories drawn by stick-breaking instead of
/// gammas: category `order[i]` (smallest first) gets Binomial(ballots left, V_i) with V_i from
/// `sticks[i]`, a `BetaTable` of Beta(alpha_i, sum of the later categories' alpha), and the
/// largest category takes the rest. With exact Betas this is the Dirichlet-multinomial's exact
/// sequential law (each count given the earlier ones is Beta-binomial); the tables keep every
/// Beta's mean and variance (to 1e-4 of its standard deviation and 5e-4), so every count keeps
/// its mean and variance and the covariances as in `dirichlet_multinomial_fast`. Two table
/// lookups replace three gammas and their normalisation in odihr-43.
#[inline]
pub fn dirichlet_multinomial_tabled(
    rng: &mut Rng,
    n: u64,
    spikes: &[SpikeShare],
    sticks: &[&BetaTable],
    order: &[usize],
    out: &mut [u64],
) {
    let mut left = spike_counts(rng, n, spikes, out);
    let (&largest, rest) = order.split_last().expect("at least one category");
    for (&i, table) in rest.iter().zip(sticks) {
        let k = if left > 0 {
            let p = table.sample(rng);
            binomial_fast(rng, left, p)
        } else {
            0
        };
        out[i] = k;
        left -= k;
    }
    out[largest] = left;
}

/// The spike categories' counts out of `n` ballots (the first step of both fast
/// Dirichlet-multinomials); returns the ballots left for the other categories.
#[inline(always)]
fn spike_counts(rng: &mut Rng, n: u64, spikes: &[SpikeShare], out: &mut [u64]) -> u64 {
    let mut left = n;
    // The share not yet given to a drawn spike category (>= 1/2 by `split_spikes`).
    let mut mass = 1.0;
    // One uniform for all the spike decisions: given u < pi, u / pi is again uniform on [0, 1)
    // and independent of the decision, and so is (u - pi) / (1 - pi) given u >= pi (each step
    // costs the 53-bit uniform about a bit of resolution: a few spikes leave over 40).
    let mut u = uniform(rng);
    for s in spikes {
        out[s.category] = 0;
        let hit = u < s.pi;
        u = if hit {
            u * s.inv_pi
        } else {
            (u - s.pi) * s.inv_miss
        };
        if hit {
            if left > 0 {
                let k = binomial_fast(rng, left, s.h / mass);
                out[s.category] = k;
                left -= k;
            }
            mass -= s.h;
        }
    }
    left
}

/// Multinomial(n, w) with `binomial_fast` by conditional binomials, in the order of the fast
/// Dirichlet-multinomials (the spike categories, then `order`, the last taking the rest): the
/// counts that `dirichlet_multinomial_tabled` draws given its shares (`pooled`'s noise).
#[inline]
pub fn multinomial_shares(
    rng: &mut Rng,
    n: u64,
    spikes: &[SpikeShare],
    order: &[usize],
    w: &[f64],
    out: &mut [u64],
) {
    let mut left = n;
    let mut mass = 1.0;
    let (&largest, rest) = order.split_last().expect("at least one category");
    for i in spikes
        .iter()
        .map(|s| s.category)
        .chain(rest.iter().copied())
    {
        let k = if left > 0 && w[i] > 0.0 {
            binomial_fast(rng, left, (w[i] / mass).min(1.0))
        } else {
            0
        };
        out[i] = k;
        left -= k;
        mass -= w[i];
    }
    out[largest] = left;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::exact::tests::{check_mean, moments};
    use crate::sample::kind::{SamplerKind, binomial_with};
    use crate::sample::rng::stream;

    #[test]
    fn beta_table_keeps_mean_and_variance() {
        for (a, b) in [
            (13.6, 6.4),
            (18.0, 2.0),
            (1.0, 1.0),
            (1.0, 9.0),
            (2.0, 5.0),
            (4.0, 1.5),
        ] {
            let t = BetaTable::new(a, b).unwrap();
            let mean = a / (a + b);
            let var = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            let (m, v) = t.moments();
            assert!(
                (m - mean).abs() < 1e-4 * var.sqrt(),
                "Beta({a},{b}) mean {m} vs {mean}"
            );
            assert!(
                (v / var - 1.0).abs() < 5e-4,
                "Beta({a},{b}) var {v} vs {var}"
            );
            let mut rng = stream(21, 0);
            let n = 200_000;
            let got = moments(n, || t.sample(&mut rng));
            check_mean(&format!("table Beta({a},{b})"), n, mean, var, got);
        }
        assert!(BetaTable::new(0.5, 3.0).is_none());
        assert!(BetaTable::new(3.0, 0.9).is_none());
        assert!(
            BetaTable::new(7000.0, 3000.0).is_none(),
            "too narrow for the quadrature"
        );
    }

    #[test]
    fn fast_binomial_keeps_mean_variance_and_support() {
        let mut rng = stream(7, 0);
        for (n, p) in [
            (40u64, 0.3),
            (120, 0.1),
            (600, 0.07),
            (1000, 0.9),
            (30, 0.5),
        ] {
            let draws = 200_000;
            let got = moments(draws, || {
                let k = binomial_fast(&mut rng, n, p);
                assert!(k <= n);
                k as f64
            });
            let m = n as f64 * p;
            let v = m * (1.0 - p);
            // The rounding adds 1/12 to the variance when the normal is used.
            let v = if v >= FAST_MIN_VARIANCE {
                v + 1.0 / 12.0
            } else {
                v
            };
            check_mean(&format!("fast bin({n},{p})"), draws, m, v, got);
        }
        assert_eq!(binomial_fast(&mut rng, 0, 0.3), 0);
        assert_eq!(binomial_fast(&mut rng, 50, 0.0), 0);
        assert_eq!(binomial_fast(&mut rng, 50, 1.0), 50);
        assert_eq!(binomial_with(&mut rng, SamplerKind::Fast, 50, f64::NAN), 0);
    }

    /// The dithered uniform of `binomial_fast` (variances 1/4 to 9, support inside [0, n]) has
    /// the binomial's mean and variance: sample mean and variance within 5 of their standard
    /// errors (from the sample's own central moments), and the support stays in [0, n].
    #[test]
    fn fast_binomial_small_variance_keeps_mean_and_variance() {
        let mut rng = stream(13, 0);
        let draws = 400_000;
        for (n, p) in [
            (27u64, 0.38),
            (27, 0.18),
            (440, 0.01),
            (200, 0.05),
            (12, 0.5),
            (40, 0.9),
            (60, 0.1),
            (8, 0.4),
        ] {
            let m = n as f64 * p;
            let v = m * (1.0 - p);
            let l = (12.0 * v - 2.0).sqrt();
            assert!(
                l >= 1.0 && m >= 0.5 * (l + 1.0) && n as f64 - m >= 0.5 * (l + 1.0),
                "bin({n},{p}) is not in the dithered uniform's range"
            );
            let xs: Vec<f64> = (0..draws)
                .map(|_| {
                    let k = binomial_fast(&mut rng, n, p);
                    assert!(k <= n);
                    k as f64
                })
                .collect();
            let d = draws as f64;
            let s1 = xs.iter().sum::<f64>() / d;
            let c2 = xs.iter().map(|x| (x - s1).powi(2)).sum::<f64>() / d;
            let c4 = xs.iter().map(|x| (x - s1).powi(4)).sum::<f64>() / d;
            let se_mean = (c2 / d).sqrt();
            let se_var = ((c4 - c2 * c2) / d).sqrt();
            assert!(
                (s1 - m).abs() < 5.0 * se_mean,
                "bin({n},{p}): mean {s1} vs {m} (se {se_mean})"
            );
            assert!(
                (c2 - v).abs() < 5.0 * se_var,
                "bin({n},{p}): variance {c2} vs {v} (se {se_var})"
            );
        }
    }

    /// odihr-43's shape: Nur Otan, NSDP, Ak Zhol, spoiled, then four small parties; A ~ 49.
    const ALPHA: [f64; 8] = [40.0, 3.2, 2.5, 1.2, 0.76, 0.65, 0.39, 0.19];

    /// The spikes and the other categories of `ALPHA`, smallest first.
    fn odihr_split() -> ([SpikeShare; 8], usize, [usize; 8], usize) {
        let mut order: Vec<usize> = (0..ALPHA.len()).collect();
        order.sort_by(|&x, &y| ALPHA[x].total_cmp(&ALPHA[y]));
        let mut spikes = [SpikeShare::default(); 8];
        let mut rest = [0usize; 8];
        let (ns, nr) = split_spikes(&ALPHA, &order, &mut spikes, &mut rest);
        assert_eq!((ns, nr), (5, 3), "spoiled and the four small parties spike");
        assert!(spikes[..ns].iter().map(|s| s.h).sum::<f64>() <= 0.5);
        assert!(
            !spikes[..ns].iter().any(|s| s.category == 0),
            "never the largest"
        );
        (spikes, ns, rest, nr)
    }

    /// 200,000 draws of `draw` (n = 600 ballots over `ALPHA`) have the Dirichlet-multinomial's
    /// means (within 5 standard errors), variances (within 5%) and covariances (within 1% of
    /// their scale, 3% between two spike categories, plus 8 standard errors).
    fn check_dirichlet_multinomial_moments(mut draw: impl FnMut(&mut Rng, u64, &mut [u64])) {
        let k = ALPHA.len();
        let a0: f64 = ALPHA.iter().sum();
        let n = 600u64;
        let draws = 200_000usize;
        let mut rng = stream(8, 0);
        let mut out = [0u64; 8];
        let mut sum = [0.0f64; 8];
        let mut cross = [[0.0f64; 8]; 8];
        for _ in 0..draws {
            draw(&mut rng, n, &mut out);
            assert_eq!(out.iter().sum::<u64>(), n, "ballots conserved");
            for i in 0..k {
                sum[i] += out[i] as f64;
                for j in 0..k {
                    cross[i][j] += out[i] as f64 * out[j] as f64;
                }
            }
        }
        let nf = n as f64;
        let c = (nf + a0) / (1.0 + a0);
        let d = draws as f64;
        for i in 0..k {
            let m = ALPHA[i] / a0;
            let mean = sum[i] / d;
            let var = cross[i][i] / d - mean * mean;
            let exact_var = c * nf * m * (1.0 - m);
            let se = (exact_var / d).sqrt();
            assert!(
                (mean - nf * m).abs() < 5.0 * se,
                "cat {i}: mean {mean} vs {}",
                nf * m
            );
            // Heavy-tailed counts: 5% on the variance is several of its standard errors here.
            assert!(
                (var / exact_var - 1.0).abs() < 0.05,
                "cat {i}: variance {var} vs {exact_var}"
            );
            for j in 0..i {
                // Exact except between two spike categories (uncorrelated shares there).
                let both_spikes = i >= 3 && j >= 3;
                let mj = ALPHA[j] / a0;
                let cov = cross[i][j] / d - mean * sum[j] / d;
                let exact = -c * nf * m * mj;
                let scale = (exact_var * c * nf * mj * (1.0 - mj)).sqrt();
                let tol = if both_spikes { 0.03 } else { 0.01 } * scale + 8.0 * scale / d.sqrt();
                assert!(
                    (cov - exact).abs() < tol,
                    "cov({i},{j}) {cov} vs {exact} (tolerance {tol})"
                );
            }
        }
    }

    #[test]
    fn fast_dirichlet_multinomial_keeps_means_and_covariances() {
        let (spikes, ns, rest, nr) = odihr_split();
        let gammas: Vec<Gamma> = ALPHA.iter().map(|&a| Gamma::new(a)).collect();
        let mut w = [0.0; 8];
        check_dirichlet_multinomial_moments(|rng, n, out| {
            dirichlet_multinomial_fast(
                rng,
                n,
                &spikes[..ns],
                &gammas,
                &ALPHA,
                &rest[..nr],
                &mut w,
                out,
            )
        });
    }

    /// The stick-breaking variant keeps the same moments (its Betas from tables).
    #[test]
    fn tabled_dirichlet_multinomial_keeps_means_and_covariances() {
        let (spikes, ns, rest, nr) = odihr_split();
        // Stick i: Beta(alpha_i, the later categories' alpha).
        let tables: Vec<BetaTable> = (0..nr - 1)
            .map(|i| {
                let later: f64 = rest[i + 1..nr].iter().map(|&j| ALPHA[j]).sum();
                BetaTable::new(ALPHA[rest[i]], later).expect("tabulable")
            })
            .collect();
        let sticks: Vec<&BetaTable> = tables.iter().collect();
        check_dirichlet_multinomial_moments(|rng, n, out| {
            dirichlet_multinomial_tabled(rng, n, &spikes[..ns], &sticks, &rest[..nr], out)
        });
    }
}
