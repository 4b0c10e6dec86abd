//! Exact samplers tuned to the parameter ranges of an election model.
//!
//! The hot loop draws a Beta turnout, a Dirichlet share vector and a multinomial count vector for
//! every precinct, and binomials for every irregular one. These functions are exact (no normal or
//! Poisson shortcut): Marsaglia-Tsang for the gamma (with its constants precomputed in [`Gamma`]
//! where the shape repeats), inversion from zero for binomials with small means and Hoermann's BTRD
//! (transformed rejection) for larger ones, and conditional binomials for the multinomial.
//! The approximations behind `--sampler fast` are in `approx`; `kind` names the three samplers.

use crate::numeric::math;
use crate::sample::rng::Rng;
use crate::sample::ziggurat::{standard_exp, standard_normal};
use rand::Rng as _;

/// `n as f64` for counts (n < 2^63) through i64: the same value, but one instruction on x86-64
/// (the unsigned conversion is a branchy sequence there).
#[inline(always)]
pub fn count_f64(n: u64) -> f64 {
    debug_assert!(n < 1 << 63);
    n as i64 as f64
}

/// `x as u64` for 0 <= x < 2^63 (truncation) through i64: the same value, one instruction.
#[inline(always)]
pub fn trunc_count(x: f64) -> u64 {
    debug_assert!((0.0..9.2e18).contains(&x));
    x as i64 as u64
}

/// `x.round() as u64` for 0 <= x < 2^63 (half away from zero) without the libm call: x minus its
/// truncation is exact, so this is the same value.
#[inline(always)]
pub fn round_count(x: f64) -> u64 {
    let t = trunc_count(x);
    t + u64::from(x - count_f64(t) >= 0.5)
}

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

    /// One draw (forced inline: the hot loop's dozen gammas per precinct, each small).
    #[inline(always)]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        if !self.positive {
            return 0.0;
        }
        let g = marsaglia_tsang(rng, self.d, self.c);
        if self.inv_shape > 0.0 {
            let e: f64 = standard_exp(rng);
            g * math::exp(-e * self.inv_shape)
        } else {
            g
        }
    }
}

/// Marsaglia and Tsang (2000) for shape d + 1/3 >= 1, c = 1 / sqrt(9 d).
#[inline(always)]
fn marsaglia_tsang(rng: &mut Rng, d: f64, c: f64) -> f64 {
    loop {
        let x: f64 = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        // A uniform in (0, 1), safe for the logarithm.
        let u = ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
        let x2 = x * x;
        // The squeeze accepts ~98% of draws without a logarithm.
        if u < 1.0 - 0.0331 * x2 * x2 || math::ln(u) < 0.5 * x2 + d * (1.0 - v + math::ln(v)) {
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

/// Means below this use inversion from zero, from it on Hoermann's BTRD (which needs
/// n min(p, q) >= 10). Measured on this engine's draws, inversion is faster below a mean of about
/// 12 to 14 (with (1 - p)^n by squaring or by exp/log1p), BTRD above.
const BTRD_MIN_MEAN: f64 = 12.0;

/// A binomial sampler chosen at compile time, so the multinomials below are compiled once per
/// sampler with no branch on it: [`Exact`] here, `approx::Fast` for the fast samplers.
pub trait Binomial {
    fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64;
}

/// The exact binomial ([`binomial`]).
pub struct Exact;

impl Binomial for Exact {
    #[inline]
    fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64 {
        binomial(rng, n, p)
    }
}

/// `binomial`, never inlined.
#[inline(never)]
pub(crate) fn binomial_outlined(rng: &mut Rng, n: u64, p: f64) -> u64 {
    binomial(rng, n, p)
}

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
    if count_f64(n) * p < BTRD_MIN_MEAN {
        binomial_inversion(rng, n, p)
    } else {
        binomial_btrd(rng, n, p)
    }
}

/// x^n by repeated squaring (deterministic: plain multiplications); the reference for `powu8`.
#[cfg(test)]
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

/// x^n for n <= 255: `powu` unrolled over 8 bits without branches (multiplying by 1.0 where a
/// bit is clear is exact, so the result is bit for bit `powu`'s).
#[inline]
fn powu8(mut x: f64, n: u64) -> f64 {
    debug_assert!(n <= 255);
    let mut r = 1.0;
    for bit in 0..8 {
        // An indexed load, not an `if`: the compiler made the `if` a branch, which the random
        // bits of n mispredict half the time.
        r *= [1.0, x][((n >> bit) & 1) as usize];
        x *= x;
    }
    r
}

/// (1 - p)^n: by squaring for small n, through exp and log1p for large n.
#[inline]
fn q_pow_n(p: f64, n: u64) -> f64 {
    if n <= 255 {
        powu8(1.0 - p, n)
    } else {
        math::exp(n as f64 * math::ln_1p(-p))
    }
}

/// 1 / x for x < 256 (entry 0 unused), for the inversion loop.
static RECIPROCALS: [f64; 256] = {
    let mut t = [0.0; 256];
    let mut x = 1;
    while x < 256 {
        t[x] = 1.0 / x as f64;
        x += 1;
    }
    t
};

/// Sequential-search inversion (Kachitvichyanukul and Schmeiser's BINV), exact, expected cost
/// O(n p); used only for small means.
#[inline(always)]
fn binomial_inversion(rng: &mut Rng, n: u64, p: f64) -> u64 {
    let q = 1.0 - p;
    let s = p / q;
    let a = (count_f64(n) + 1.0) * s;
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
            // a / x by a table of reciprocals: no dependent division in the loop.
            let inv_x = if (x as usize) < RECIPROCALS.len() {
                RECIPROCALS[x as usize]
            } else {
                1.0 / x as f64
            };
            r *= a * inv_x - s;
        }
        return x;
    }
}

/// Stirling-series correction fc(k) = ln k! - [(k + 1/2) ln(k + 1) - (k + 1) + ln(2 pi) / 2]:
/// tabulated below 10, series above.
#[inline]
fn stirling_correction(k: u64) -> f64 {
    const TABLE: [f64; 10] = [
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_29,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_09,
        0.016_644_691_189_821_19,
        0.013_876_128_823_070_75,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_09,
        0.009_255_462_182_712_733,
        0.008_330_563_433_362_87,
    ];
    if k < 10 {
        TABLE[k as usize]
    } else {
        let r = 1.0 / (k as f64 + 1.0);
        let r2 = r * r;
        (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 * r2) * r2) * r
    }
}

/// Hoermann's BTRD (W. Hoermann, "The generation of binomial random variates", J. Statist.
/// Comput. Simul. 46, 1993): transformed rejection with a decomposition, exact for
/// n p >= 10, p <= 0.5. About 80% of draws (for large n p) cost one uniform and a division; the
/// rest are accepted or rejected by the exact pmf ratio (a product for |k - m| <= 15, squeezes
/// and Stirling's series beyond).
#[inline(never)]
fn binomial_btrd(rng: &mut Rng, n: u64, p: f64) -> u64 {
    debug_assert!(p <= 0.5 && n as f64 * p >= 9.999);
    let nf = count_f64(n);
    let q = 1.0 - p;
    let npq = nf * p * q;
    let spq = npq.sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = nf * p + 0.5;
    let inv_b = 1.0 / b;
    let v_r = 0.92 - 4.2 * inv_b;
    let inv_v_r = 1.0 / v_r;
    let u_rv_r = 0.86 * v_r;
    loop {
        // Step 1: the central part, accepted at once.
        let mut v = uniform(rng);
        if v <= u_rv_r {
            let u = v * inv_v_r - 0.43;
            let x = (2.0 * a / (0.5 - u.abs()) + b) * u + c;
            // Inside the support for n p >= 10; a point outside it is rejected (zero mass).
            // For x >= 0 the truncating cast is the floor (no libm call).
            if x >= 0.0 {
                let k = trunc_count(x);
                if k <= n {
                    return k;
                }
            }
            continue;
        }
        // Step 2: a point (u, v) of the remaining hat region.
        let u;
        if v >= v_r {
            u = uniform(rng) - 0.5;
        } else {
            let w = v * inv_v_r - 0.93;
            u = 0.5f64.copysign(w) - w;
            v = v_r * uniform(rng);
        }
        // Step 3.0
        let us = 0.5 - u.abs();
        let x = (2.0 * a / us + b) * u + c;
        if x < 0.0 || x >= nf + 1.0 {
            continue;
        }
        let k = trunc_count(x);
        let alpha = (2.83 + 5.1 * inv_b) * spq;
        v *= alpha / (a / (us * us) + b);
        let m = trunc_count((nf + 1.0) * p);
        let km = k.abs_diff(m);
        if km <= 15 {
            // Step 3.1: f(k) / f(m) by the recurrence f(i) / f(i - 1) = (n + 1) r / i - r.
            let r = p / q;
            let nr = (nf + 1.0) * r;
            let mut f = 1.0;
            if m < k {
                for i in m + 1..=k {
                    f *= nr / count_f64(i) - r;
                }
            } else if m > k {
                for i in k + 1..=m {
                    v *= nr / count_f64(i) - r;
                }
            }
            if v <= f {
                return k;
            }
            continue;
        }
        // Step 3.2: squeeze on ln(f(k) / f(m)).
        let v = math::ln(v);
        let kmf = count_f64(km);
        let rho = (kmf / npq) * (((kmf / 3.0 + 0.625) * kmf + 1.0 / 6.0) / npq + 0.5);
        let t = -kmf * kmf / (2.0 * npq);
        if v < t - rho {
            return k;
        }
        if v > t + rho {
            continue;
        }
        // Steps 3.3 and 3.4: the exact ratio by Stirling's series (rare; out of line so the
        // compiler cannot hoist its loop-invariant logarithm into every call's setup).
        if btrd_accept_exact(v, n, p, m, k) {
            return k;
        }
    }
}

/// BTRD's steps 3.3 and 3.4: whether ln v <= ln(f(k) / f(m)), by Stirling's series.
#[cold]
#[inline(never)]
fn btrd_accept_exact(v: f64, n: u64, p: f64, m: u64, k: u64) -> bool {
    let nf = n as f64;
    let q = 1.0 - p;
    let kf = k as f64;
    let r = p / q;
    let mf = m as f64;
    let nm = nf - mf + 1.0;
    let h = (mf + 0.5) * math::ln((mf + 1.0) / (r * nm))
        + stirling_correction(m)
        + stirling_correction(n - m);
    let nk = nf - kf + 1.0;
    v <= h + (nf + 1.0) * math::ln(nm / nk) + (kf + 0.5) * math::ln(nk * r / (kf + 1.0))
        - stirling_correction(k)
        - stirling_correction(n - k)
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

/// Multinomial(n, p) into `out` by conditional binomials. `order` lists the categories to draw
/// (the others in `out` are left as they are),
/// the largest last. The largest is drawn first against all the others together, so the small
/// categories are then drawn from the few ballots left (small n: (1 - p)^n by squaring, no libm
/// call); among the others, the last listed takes the remainder, and the loop stops as soon as no
/// ballots are left.
#[inline]
pub fn multinomial(rng: &mut Rng, n: u64, p: &[f64], order: &[usize], out: &mut [u64]) {
    multinomial_with::<Exact>(rng, n, p, order, out)
}

/// `multinomial` with the binomials of `B`.
#[inline]
pub fn multinomial_with<B: Binomial>(
    rng: &mut Rng,
    n: u64,
    p: &[f64],
    order: &[usize],
    out: &mut [u64],
) {
    for &i in order {
        out[i] = 0;
    }
    let (&largest, rest) = order.split_last().expect("at least one category");
    let mut mass: f64 = rest.iter().map(|&i| p[i]).sum();
    let total = mass + p[largest];
    let mut left = if total > 0.0 {
        B::binomial(rng, n, mass / total)
    } else {
        0
    };
    out[largest] = n - left;
    let Some((&last, rest)) = rest.split_last() else {
        return;
    };
    for &i in rest {
        if left == 0 {
            return;
        }
        let k = if mass > 0.0 {
            B::binomial(rng, left, p[i] / mass)
        } else {
            0
        };
        out[i] = k;
        left -= k;
        mass -= p[i];
    }
    out[last] = left;
}

/// Beta-binomial(n, a, b) (the Dirichlet-multinomial's marginal) by inversion from zero, with
/// P(0) = prod_{j < n} (b + j) / (a + b + j) tabulated for every n up to a bound once per
/// parameter set, and the exact pmf ratio P(k) / P(k - 1) = (n - k + 1) (a + k - 1) /
/// (k (b + n - k)) in the loop: exact, no special function, expected cost O(n a / (a + b)).
/// For a small category this replaces a gamma with shape below 1 (an exponential each) and a
/// binomial.
#[derive(Debug, Clone, Default)]
pub struct BetaBinomial {
    a: f64,
    b: f64,
    p0: Vec<f64>,
}

impl BetaBinomial {
    /// Sets a > 0 or a = 0 (always 0, no table), b > 0, and tabulates P(0) for n <= max_n
    /// (reusing the allocation). O(max_n).
    pub fn set(&mut self, a: f64, b: f64, max_n: u64) {
        debug_assert!(a >= 0.0 && b > 0.0);
        self.a = a;
        self.b = b;
        let len = if a > 0.0 { max_n as usize + 1 } else { 0 };
        self.p0.resize(len, 0.0);
        let (mut p, mut j) = (1.0, 0.0);
        for slot in self.p0.iter_mut() {
            *slot = p;
            p *= (b + j) / (a + b + j);
            j += 1.0;
        }
    }

    /// One draw; n beyond the table's bound is served too (P(0) computed on the spot).
    #[inline]
    pub fn sample(&self, rng: &mut Rng, n: u64) -> u64 {
        let (a, b) = (self.a, self.b);
        if a <= 0.0 {
            return 0;
        }
        let p0 = match self.p0.get(n as usize) {
            Some(&p) => p,
            None => (0..n).fold(1.0, |p, j| {
                let j = count_f64(j);
                p * (b + j) / (a + b + j)
            }),
        };
        let nf = count_f64(n);
        'retry: loop {
            let mut u = uniform(rng);
            let mut p = p0;
            // k as a float (exact integers): no conversions in the loop.
            let mut kf = 0.0;
            while u > p {
                u -= p;
                kf += 1.0;
                if kf > nf {
                    // Floating-point residue past the support: draw again.
                    continue 'retry;
                }
                p *= (nf - kf + 1.0) * (a + kf - 1.0) / (kf * (b + nf - kf));
            }
            return trunc_count(kf);
        }
    }
}

/// The leading categories of `order` (smallest Dirichlet parameter first, largest last) that
/// `dirichlet_multinomial_exact` draws as sequential beta-binomials: while a category's expected
/// count at `typical_n` ballots is at most `BETA_BINOMIAL_MAX_MEAN` (the inversion's cost grows
/// with it), never the largest. Writes `(category, a, b)` to `params[..s]`, with the conditional
/// parameters a = alpha_i and b = the alphas not yet drawn minus alpha_i, and the other
/// categories to `rest`, still smallest first. Returns (s, rest count).
pub fn split_beta_binomial(
    alpha: &[f64],
    order: &[usize],
    typical_n: f64,
    params: &mut [(usize, f64, f64)],
    rest: &mut [usize],
) -> (usize, usize) {
    let mut left: f64 = alpha.iter().sum();
    let total = left;
    let (mut s, mut n_rest) = (0, 0);
    let last = order.len().saturating_sub(1);
    for (j, &i) in order.iter().enumerate() {
        let small = j < last && s == j && typical_n * alpha[i] / total <= BETA_BINOMIAL_MAX_MEAN;
        if small && left - alpha[i] > 0.0 {
            params[s] = (i, alpha[i], left - alpha[i]);
            left -= alpha[i];
            s += 1;
        } else {
            rest[n_rest] = i;
            n_rest += 1;
        }
    }
    (s, n_rest)
}

/// `split_beta_binomial` takes categories whose expected count is at most this: measured on
/// odihr-43, the inversion is cheaper than a gamma plus a binomial up to about this mean.
pub const BETA_BINOMIAL_MAX_MEAN: f64 = 12.0;

/// Regions with a precinct larger than this draw no beta-binomials (their tables, rebuilt every
/// trial, would cost more than they save).
pub const BETA_BINOMIAL_MAX_TABLE: u64 = 1 << 16;

/// Dirichlet-multinomial(n, alpha), exact: the categories of `tables` (category, index in `pool`)
/// one after another as beta-binomials of the ballots left (the Dirichlet-multinomial's
/// sequential conditionals), then the other categories (`order`, smallest first) share the rest
/// by independent gammas and conditional binomials (the exact conditional law given the first
/// ones).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn dirichlet_multinomial_exact(
    rng: &mut Rng,
    n: u64,
    tables: &[(usize, usize)],
    pool: &[BetaBinomial],
    gammas: &[Gamma],
    alpha: &[f64],
    order: &[usize],
    weights: &mut [f64],
    out: &mut [u64],
) {
    let mut left = n;
    for &(i, t) in tables {
        let k = pool[t].sample(rng, left);
        out[i] = k;
        left -= k;
    }
    dirichlet_multinomial_rest::<Exact>(rng, left, gammas, alpha, order, weights, out);
}

/// The last step of both Dirichlet-multinomials (`dirichlet_multinomial_exact` and
/// `approx::dirichlet_multinomial_fast`): the categories in `order` share the `left` ballots by
/// independent gammas (unnormalised Dirichlet weights) and conditional binomials.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn dirichlet_multinomial_rest<B: Binomial>(
    rng: &mut Rng,
    left: u64,
    gammas: &[Gamma],
    alpha: &[f64],
    order: &[usize],
    weights: &mut [f64],
    out: &mut [u64],
) {
    let mut total = 0.0;
    for &i in order {
        weights[i] = gammas[i].sample(rng);
        total += weights[i];
    }
    // All gammas underflowed (only possible with tiny shapes): use the mean shares.
    let w = if total > 0.0 { &*weights } else { alpha };
    multinomial_with::<B>(rng, left, w, order, out);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sample::rng::stream;

    /// Mean and variance of `n` draws.
    pub(crate) fn moments(n: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
        let xs: Vec<f64> = (0..n).map(|_| f()).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (m, v)
    }

    /// Asserts a sample mean lies within 5 standard errors of the exact mean.
    pub(crate) fn check_mean(
        label: &str,
        n: usize,
        exact_mean: f64,
        exact_var: f64,
        got: (f64, f64),
    ) {
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
            d => crate::numeric::stats::chi2_quantile(d as f64, 3.090_232_306_167_813) * 1.01,
        }
    }

    /// Exact Binomial(n, p) pmf by log-gamma (independent of the sampler's tables).
    fn binomial_pmf(n: u64, p: f64) -> Vec<f64> {
        let lg = |k: u64| crate::numeric::stats::ln_gamma(k as f64 + 1.0);
        (0..=n)
            .map(|k| {
                math::exp(
                    lg(n) - lg(k) - lg(n - k)
                        + k as f64 * math::ln(p)
                        + (n - k) as f64 * math::ln_1p(-p),
                )
            })
            .collect()
    }

    #[test]
    fn binomial_matches_pmf_over_grid() {
        // Every branch: p > 0.5 by symmetry, inversion from zero with (1 - p)^n by squaring
        // (n <= 255) and by exp/log1p (n > 255), BTRD from mean 12.
        let draws = 60_000usize;
        let mut seed = 100;
        for n in [1u64, 7, 30, 64, 200, 255, 256, 600, 1500, 5000] {
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
    fn binomial_matches_pmf_at_switch_to_btrd() {
        // Just above and below the switch from inversion to BTRD (mean 12), many draws.
        for (k, (n, p)) in [(40u64, 0.299), (40, 0.301), (600, 0.0199), (600, 0.0201)]
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
    fn binomial_btrd_matches_pmf_at_switch_and_in_tails() {
        // BTRD's own range starts at mean 10 (called directly), then through `binomial` from its
        // switch at mean 12 (also with p = 0.5 and by symmetry from p > 0.5): the election's
        // typical draws, and large n p where
        // |k - m| > 15 is common (squeezes and Stirling's series of steps 3.2-3.4).
        let cases = [
            (100u64, 0.1f64),
            (100, 0.1201),
            (24, 0.5),
            (25, 0.5),
            (1000, 0.99),
            (600, 0.07),
            (600, 0.2),
            (1200, 0.8),
            (5000, 0.013),
            (50_000, 0.2),
            (200_000, 0.37),
        ];
        for (j, (n, p)) in cases.into_iter().enumerate() {
            assert!(n as f64 * p.min(1.0 - p) >= 9.99);
            let draws = 400_000usize;
            let mut rng = stream(400 + j as u64, 0);
            let mut counts = vec![0u64; n as usize + 1];
            for _ in 0..draws {
                let k = if j == 0 {
                    binomial_btrd(&mut rng, n, p)
                } else {
                    binomial(&mut rng, n, p)
                };
                counts[k as usize] += 1;
            }
            let (chi2, dof) = chi_square(&counts, &binomial_pmf(n, p), draws);
            assert!(
                chi2 < chi2_crit(dof),
                "bin({n},{p}): chi2 {chi2} with {dof} dof"
            );
        }
    }

    /// Exact Beta-binomial(n, a, b) pmf by log-gamma (independent of the sampler's recurrence).
    fn beta_binomial_pmf(n: u64, a: f64, b: f64) -> Vec<f64> {
        let lg = crate::numeric::stats::ln_gamma;
        let nf = n as f64;
        (0..=n)
            .map(|k| {
                let kf = k as f64;
                math::exp(
                    lg(nf + 1.0) - lg(kf + 1.0) - lg(nf - kf + 1.0) + lg(kf + a) + lg(nf - kf + b)
                        - lg(nf + a + b)
                        - lg(a)
                        - lg(b)
                        + lg(a + b),
                )
            })
            .collect()
    }

    #[test]
    fn beta_binomial_matches_pmf_in_and_beyond_its_table() {
        let draws = 200_000usize;
        for (j, (n, a, b)) in [
            (600u64, 0.19, 48.7),
            (350, 0.76, 45.0),
            (50, 2.0, 3.0),
            (7, 0.5, 0.5),
            (1, 0.3, 0.9),
            (900, 0.39, 48.0),
        ]
        .into_iter()
        .enumerate()
        {
            let mut t = BetaBinomial::default();
            // The last case is beyond the table (P(0) computed on the spot).
            t.set(a, b, if j == 5 { 100 } else { n });
            let mut rng = stream(500 + j as u64, 0);
            let mut counts = vec![0u64; n as usize + 1];
            for _ in 0..draws {
                counts[t.sample(&mut rng, n) as usize] += 1;
            }
            let (chi2, dof) = chi_square(&counts, &beta_binomial_pmf(n, a, b), draws);
            assert!(
                chi2 < chi2_crit(dof),
                "bb({n},{a},{b}): chi2 {chi2} with {dof} dof"
            );
        }
        let mut t = BetaBinomial::default();
        t.set(0.0, 3.0, 10);
        let mut rng = stream(1, 1);
        assert_eq!(t.sample(&mut rng, 10), 0, "a = 0: never");
        assert_eq!(t.sample(&mut rng, 0), 0);
        // A zero-share category or a huge precinct is never tabulated.
        let mut params = [(0, 0.0, 0.0); 3];
        let mut rest = [0usize; 3];
        let alpha = [0.0, 0.5, 40.0];
        assert_eq!(
            split_beta_binomial(&alpha, &[0, 1, 2], 600.0, &mut params, &mut rest),
            (2, 1)
        );
        let far = f64::INFINITY;
        assert_eq!(
            split_beta_binomial(&alpha, &[0, 1, 2], far, &mut params, &mut rest),
            (0, 3)
        );
    }

    #[test]
    fn exact_dirichlet_multinomial_has_the_exact_marginals_and_sums() {
        // odihr-43's shape. Every category's count and the sum of pairs drawn by different
        // methods (beta-binomial and gamma) must follow the Dirichlet-multinomial's
        // beta-binomial marginals (aggregation property), by chi-square at alpha 0.001.
        let alpha = [40.0, 3.2, 2.5, 1.2, 0.76, 0.65, 0.39, 0.19];
        let a0: f64 = alpha.iter().sum();
        let mut order: Vec<usize> = (0..8).collect();
        order.sort_by(|&x, &y| alpha[x].total_cmp(&alpha[y]));
        let n = 300u64;
        let mut params = [(0, 0.0, 0.0); 8];
        let mut rest = [0usize; 8];
        let (s, nr) = split_beta_binomial(&alpha, &order, n as f64, &mut params, &mut rest);
        assert_eq!(
            s, 5,
            "small parties and spoiled: means <= 12 at 300 ballots"
        );
        let mut pool = vec![BetaBinomial::default(); s];
        let tables: Vec<(usize, usize)> = (0..s).map(|k| (params[k].0, k)).collect();
        for (t, p) in pool.iter_mut().zip(&params[..s]) {
            t.set(p.1, p.2, n);
        }
        let gammas: Vec<Gamma> = alpha.iter().map(|&a| Gamma::new(a)).collect();
        let pairs = [(7usize, 6usize), (4, 3), (7, 1), (3, 2)];
        let draws = 200_000usize;
        let mut rng = stream(600, 0);
        let (mut w, mut out) = ([0.0; 8], [0u64; 8]);
        let mut single = vec![vec![0u64; n as usize + 1]; 8];
        let mut pair = vec![vec![0u64; n as usize + 1]; pairs.len()];
        for _ in 0..draws {
            dirichlet_multinomial_exact(
                &mut rng,
                n,
                &tables,
                &pool,
                &gammas,
                &alpha,
                &rest[..nr],
                &mut w,
                &mut out,
            );
            assert_eq!(out.iter().sum::<u64>(), n);
            for i in 0..8 {
                single[i][out[i] as usize] += 1;
            }
            for (c, &(i, j)) in pair.iter_mut().zip(&pairs) {
                c[(out[i] + out[j]) as usize] += 1;
            }
        }
        for i in 0..8 {
            let pmf = beta_binomial_pmf(n, alpha[i], a0 - alpha[i]);
            let (chi2, dof) = chi_square(&single[i], &pmf, draws);
            assert!(
                chi2 < chi2_crit(dof),
                "category {i}: chi2 {chi2} with {dof} dof"
            );
        }
        for (c, &(i, j)) in pair.iter().zip(&pairs) {
            let a = alpha[i] + alpha[j];
            let (chi2, dof) = chi_square(c, &beta_binomial_pmf(n, a, a0 - a), draws);
            assert!(
                chi2 < chi2_crit(dof),
                "categories {i}+{j}: chi2 {chi2} with {dof} dof"
            );
        }
    }

    #[test]
    fn count_conversions_match_the_plain_casts() {
        let mut rng = stream(9, 0);
        let edge = [
            0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            654.4999999999999,
            1e15 + 0.5,
        ];
        let random = (0..100_000).map(|_| uniform(&mut rng) * 5000.0);
        for x in edge.into_iter().chain(random) {
            assert_eq!(round_count(x), x.round() as u64, "{x}");
            assert_eq!(trunc_count(x), x as u64, "{x}");
        }
        for n in [0u64, 1, 255, 1 << 40, (1 << 53) + 1, (1 << 62) + 12345] {
            assert_eq!(count_f64(n).to_bits(), (n as f64).to_bits(), "{n}");
        }
    }

    #[test]
    fn powu8_is_bit_for_bit_powu() {
        for x in [0.0, 1e-300, 0.3, 0.5, 0.98, 0.999_999, 1.0] {
            for n in 0..=255u64 {
                assert_eq!(powu8(x, n).to_bits(), powu(x, n).to_bits(), "{x}^{n}");
            }
        }
    }

    #[test]
    fn stirling_correction_matches_ln_gamma() {
        const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
        for k in [0u64, 1, 5, 9, 10, 11, 16, 100, 5000, 1_000_000] {
            let x = k as f64;
            let exact = crate::numeric::stats::ln_gamma(x + 1.0)
                - ((x + 0.5) * math::ln(x + 1.0) - (x + 1.0) + HALF_LN_2PI);
            let got = stirling_correction(k);
            assert!(
                (got - exact).abs() < 1e-9 * (1.0 + x),
                "fc({k}) {got} vs {exact}"
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
                        if crate::numeric::stats::beta_cdf(mid, a, b) < target {
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
