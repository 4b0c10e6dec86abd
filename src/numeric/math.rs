//! Elementary functions that give the same bits on every machine.
//!
//! `f64::ln`, `exp` and the like call the platform's C library, whose results may differ in the
//! last bit between libraries (glibc, musl, macOS, Windows) and even between one library's
//! variants for different CPUs (glibc picks an FMA version at run time). The samplers feed these
//! values into accept/reject decisions and rounding, so a last-bit difference can change a
//! count, and with it a result that must be byte-identical everywhere. These wrappers call the
//! pure-Rust `libm` crate instead (musl's algorithms, no FMA), whose code is the same on every
//! target; clippy.toml forbids the `f64` methods in the crate.

/// ln x.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// ln(1 + x), accurate for small x.
#[inline]
pub fn ln_1p(x: f64) -> f64 {
    libm::log1p(x)
}

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// out[i] = e^xs[i], with the same bits as `exp`, in two passes: the first follows musl's `exp`
/// for 1.5 ln 2 <= |x| < 708.39 (x reduced by k ln 2 with k = trunc(x / ln 2 +- 1/2), then
/// scaled by 2^k in one exact product), without a branch, so that the compiler vectorises it;
/// the second calls `exp` for the points outside that range. Built for `approx::BetaTable`,
/// which takes 2,049 exponentials a table and a table every trial.
pub fn exp_each(xs: &[f64], out: &mut [f64]) {
    // libm's constants (FreeBSD's e_exp.c), by their bits.
    const LN2HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const INVLN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe);
    const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
    const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
    const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
    const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
    const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
    const MAGIC: f64 = 4_503_599_627_370_496.0; // 2^52
    let in_range =
        |x: f64| (0x3ff0_a2b2..0x4086_232b).contains(&((x.to_bits() >> 32) as u32 & 0x7fff_ffff));
    for (y, &x) in out.iter_mut().zip(xs) {
        let half = if x < 0.0 { -0.5 } else { 0.5 };
        let k = f64::from((INVLN2 * x + half) as i32);
        let hi = x - k * LN2HI;
        let lo = k * LN2LO;
        let r = hi - lo;
        let rr = r * r;
        let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
        let e = 1.0 + (r * c / (2.0 - c) - lo + hi);
        // 2^k from the low bits of k + 1023 + 2^52 (1 <= k + 1023 <= 2045 in range).
        *y = e * f64::from_bits((k + 1023.0 + MAGIC).to_bits() << 52);
    }
    for (y, &x) in out.iter_mut().zip(xs) {
        if !in_range(x) {
            *y = libm::exp(x);
        }
    }
}

/// sin x.
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// log10 x.
#[inline]
pub fn log10(x: f64) -> f64 {
    libm::log10(x)
}

/// `x` where `bit` is 1 and 0 where it is 0, by masking x's bits: a comparison's bool becomes
/// a branch wherever it meets a float (x86-64's baseline has no float select), and the hot
/// loops' selections are coin flips that no branch predictor learns.
#[inline(always)]
pub fn keep(bit: u64, x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0u64.wrapping_sub(bit))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `exp_each` gives `exp`'s bits: at random points of every range it treats differently
    /// (including the tables' use, -745 to 0) and at the edges of its own.
    #[test]
    fn exp_each_is_exp() {
        let mut rng = crate::sample::rng::stream(7, 0);
        let edges = [
            0.0,
            -0.0,
            1e-300,
            0.3,
            0.34657359,
            0.5,
            1.0397207708,
            1.04,
            2.0,
            -1.0397207708,
            -1.04,
            708.39,
            708.4,
            709.78,
            710.0,
            -708.39,
            -708.4,
            -745.13,
            -746.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let random = (0..200_000).map(|i| {
            let scale = [1.0, 10.0, 100.0, 750.0][i % 4];
            scale * (2.0 * crate::sample::exact::uniform(&mut rng) - 1.0)
        });
        let xs: Vec<f64> = edges.into_iter().chain(random).collect();
        let mut out = vec![0.0; xs.len()];
        exp_each(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert_eq!(y.to_bits(), exp(x).to_bits(), "e^{x}");
        }
        exp_each(&[f64::NAN], &mut out[..1]);
        assert!(out[0].is_nan());
    }
}
