//! The normal distribution restricted to an interval, drawn with its exact log density: what
//! the inverse question's guided proposals draw from (the importance weights need the density of
//! what was drawn, not just the draw). Below 5% of the normal inside, a uniform draw instead.

use crate::numeric::math;
use crate::sample::exact::uniform;
use crate::sample::rng::Rng;
use crate::sample::ziggurat::standard_normal;

/// A draw from N(mu, sd) restricted to [lo, hi] and its log density. When less than 5% of the
/// normal lies inside (its centre far outside the prior), a uniform draw on [lo, hi] instead:
/// either way the density is known exactly, which is all importance sampling needs.
pub fn truncated_normal(rng: &mut Rng, mu: f64, sd: f64, (lo, hi): (f64, f64)) -> (f64, f64) {
    let (a, b) = ((lo - mu) / sd, (hi - mu) / sd);
    let mass = normal_cdf(b) - normal_cdf(a);
    if mass < 0.05 || !mass.is_finite() {
        let x = lo + (hi - lo) * uniform(rng);
        return (x, -math::ln(hi - lo));
    }
    loop {
        // The crate's ziggurat: rand_distr's numbers, with `math`'s portable ln and exp.
        let z = standard_normal(rng);
        if z >= a && z <= b {
            let log_q = -0.5 * z * z
                - math::ln(sd)
                - 0.5 * math::ln(2.0 * std::f64::consts::PI)
                - math::ln(mass);
            return (mu + sd * z, log_q);
        }
    }
}

/// Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let erfc = t * math::exp(
        -z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))),
    );
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_tables() {
        for (x, p) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.959_964, 0.025),
            (3.0, 0.998_650_102),
        ] {
            assert!((normal_cdf(x) - p).abs() < 2e-7, "{x}: {}", normal_cdf(x));
        }
    }
}
