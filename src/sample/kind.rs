//! The three samplers by name: what `--sampler` chooses and every output records.

use crate::sample::approx;
use crate::sample::exact;
use crate::sample::rng::Rng;

/// Which samplers the engine uses. `Exact` (the default) draws every distribution exactly. `Fast`
/// makes moment-preserving approximations: binomials with a large variance
/// (n p (1 - p) >= `FAST_MIN_VARIANCE`) come from a normal, rounded to the nearest integer and
/// clamped to [0, n], smaller ones from a dithered uniform with the exact mean and variance where
/// its support fits in [0, n] (`binomial_fast`), in each precinct's Dirichlet-multinomial the
/// categories with a Dirichlet parameter below 2 get a two-point share with the Dirichlet share's
/// mean and variance (`dirichlet_multinomial_fast`), the turnout Beta is inverted from a quantile
/// table (`BetaTable`), and the mechanisms' per-precinct intensity Betas become two-point
/// intensities (`mechanism`). National totals sum thousands of precincts, so only the
/// precinct counts' means and covariances carry through to the headline probabilities
/// (tests/fast_sampler.rs checks them for every named scenario). `Pooled` draws every precinct's
/// turnout, shares and irregularities as `Fast` does, but not its ballot counts: their binomial
/// noise is pooled over the trial (`pooled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerKind {
    #[default]
    Exact,
    Fast,
    Pooled,
}

impl SamplerKind {
    /// The name recorded in outputs and accepted by `--sampler`.
    pub fn name(self) -> &'static str {
        match self {
            SamplerKind::Exact => "exact",
            SamplerKind::Fast => "fast",
            SamplerKind::Pooled => "pooled",
        }
    }

    /// The sampler of that name (as `name` gives it), if any.
    pub fn from_name(name: &str) -> Option<SamplerKind> {
        [SamplerKind::Exact, SamplerKind::Fast, SamplerKind::Pooled]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// The samplers a precinct's draws use: `Pooled` draws what it draws as `Fast` does.
    pub fn base(self) -> SamplerKind {
        match self {
            SamplerKind::Pooled => SamplerKind::Fast,
            k => k,
        }
    }
}

/// Binomial(n, p) with the given sampler kind.
#[inline]
pub fn binomial_with(rng: &mut Rng, kind: SamplerKind, n: u64, p: f64) -> u64 {
    match kind {
        SamplerKind::Exact => exact::binomial(rng, n, p),
        SamplerKind::Fast | SamplerKind::Pooled => approx::binomial_fast(rng, n, p),
    }
}
