//! Numbers with sources, and priors over uncertain quantities.
//!
//! Every number in a scenario file is an object that says where it comes from. A `Prior` is one of
//! `value` (fixed), `uniform` [low, high], `beta` [a, b], or `observed` {negative, of} (the Beta
//! posterior of a rate after seeing `negative` of `of`, from a uniform prior), plus a `source`.

use crate::sample::exact;
use crate::sample::rng::Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A fixed number and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Number {
    /// The value.
    pub value: f64,
    /// A citation or "assumption: why".
    pub source: String,
}

/// "k of n observed counts were assessed negatively".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    /// How many of the observed cases had the property (k).
    pub negative: f64,
    /// How many cases were observed (n).
    pub of: f64,
}

/// An uncertain quantity: exactly one of `value`, `uniform`, `beta`, `observed`, plus `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prior {
    /// A fixed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Uniform on [low, high].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uniform: Option<[f64; 2]>,
    /// Beta(a, b) on [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<[f64; 2]>,
    /// Beta(negative + 1, of - negative + 1): a rate after observing `negative` of `of` cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
    /// A citation or "assumption: why".
    pub source: String,
}

/// A validated prior, ready to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    Fixed(f64),
    Uniform(f64, f64),
    Beta(f64, f64),
}

impl Dist {
    /// One draw.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform(lo, hi) => lo + (hi - lo) * exact::uniform(rng),
            Dist::Beta(a, b) => exact::beta(rng, a, b),
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform(lo, hi) => 0.5 * (lo + hi),
            Dist::Beta(a, b) => a / (a + b),
        }
    }

    /// The smallest and largest values the prior can produce.
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Dist::Fixed(v) => (v, v),
            Dist::Uniform(lo, hi) => (lo, hi),
            Dist::Beta(..) => (0.0, 1.0),
        }
    }

    /// The p-quantile for p in [0, 1]: exact for fixed and uniform; for the Beta by bisection on
    /// its regularised incomplete beta function (only used to describe priors in reports).
    pub fn quantile(&self, p: f64) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform(lo, hi) => lo + (hi - lo) * p,
            Dist::Beta(a, b) => {
                let (mut lo, mut hi) = (0.0, 1.0);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if crate::numeric::stats::beta_cdf(mid, a, b) < p {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            }
        }
    }

    /// Short human form, e.g. "Beta(65, 87)".
    pub fn describe(&self) -> String {
        match *self {
            Dist::Fixed(v) => show(v),
            Dist::Uniform(lo, hi) => format!("Uniform({}, {})", show(lo), show(hi)),
            Dist::Beta(a, b) => format!("Beta({}, {})", show(a), show(b)),
        }
    }
}

impl Prior {
    /// Checks the prior and returns its distribution, or a message naming the allowed range.
    /// `range` bounds every value the prior can produce.
    pub fn resolve(&self, range: (f64, f64)) -> Result<Dist, String> {
        let given = [
            self.value.is_some(),
            self.uniform.is_some(),
            self.beta.is_some(),
            self.observed.is_some(),
        ];
        let count = given.iter().filter(|g| **g).count();
        if count != 1 {
            return Err(format!(
                "give exactly one of `value`, `uniform`, `beta`, `observed` (found {count})"
            ));
        }
        if self.source.trim().is_empty() {
            return Err("`source` is empty: cite a source or write \"assumption: why\"".into());
        }
        let (lo, hi) = range;
        let in_range = |x: f64| x.is_finite() && x >= lo && x <= hi;
        if let Some(v) = self.value {
            if !in_range(v) {
                return Err(format!("value {}", out_of_range(v, lo, hi)));
            }
            return Ok(Dist::Fixed(v));
        }
        if let Some([a, b]) = self.uniform {
            if !(in_range(a) && in_range(b) && a <= b) {
                return Err(format!(
                    "uniform [{}, {}] must satisfy {} <= low <= high <= {}",
                    show(a),
                    show(b),
                    show(lo),
                    show(hi)
                ));
            }
            return Ok(Dist::Uniform(a, b));
        }
        let (a, b) = match (&self.beta, &self.observed) {
            (Some([a, b]), _) => (*a, *b),
            (_, Some(o)) => {
                if !(o.of.is_finite() && o.negative.is_finite())
                    || o.of < 1.0
                    || o.negative < 0.0
                    || o.negative > o.of
                    || o.of.fract() != 0.0
                    || o.negative.fract() != 0.0
                {
                    return Err(format!(
                        "observed {{negative: {}, of: {}}} needs whole numbers with 0 <= negative <= of and of >= 1",
                        show(o.negative),
                        show(o.of)
                    ));
                }
                (o.negative + 1.0, o.of - o.negative + 1.0)
            }
            _ => unreachable!("exactly one form is present"),
        };
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0 && a + b <= 1e7) {
            return Err(format!(
                "beta [{}, {}] needs finite a > 0 and b > 0 (a + b <= 1e7)",
                show(a),
                show(b)
            ));
        }
        if lo > 0.0 || hi < 1.0 {
            return Err(format!(
                "a Beta prior spans [0, 1] but this field allows only [{}, {}]: use `uniform` or `value`",
                show(lo),
                show(hi)
            ));
        }
        Ok(Dist::Beta(a, b))
    }
}

/// "7 is outside the allowed range [0, 1]", with a hint where a fraction was written as a
/// percentage ("shares and probabilities are fractions: 0.07?").
pub fn out_of_range(v: f64, lo: f64, hi: f64) -> String {
    let hint = if lo == 0.0 && hi == 1.0 && v > 1.0 && v <= 100.0 {
        format!(
            "; shares and probabilities are fractions: {}?",
            (v * 1e8).round() / 1e10
        )
    } else {
        String::new()
    };
    format!(
        "{} is outside the allowed range [{}, {}]{hint}",
        show(v),
        show(lo),
        show(hi)
    )
}

/// A number as a message shows it: as written for everyday sizes, in scientific notation beyond
/// a trillion or below a billionth (`1e300`, not three hundred digits).
pub fn show(v: f64) -> String {
    let a = v.abs();
    if a.is_finite() && (a >= 1e12 || (a > 0.0 && a < 1e-9)) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
