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
