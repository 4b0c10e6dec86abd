//! The observation model of the inverse question: the observers' sample of counts, the exit
//! polls, and the kernel comparing a simulated election with the official totals.
//!
//! The observers' sample has an exact likelihood: observers visit n precincts (uniformly, or
//! favouring towns), m of which were irregular in this simulated election; an irregular count is
//! assessed negatively with probability `sensitivity`, a regular one with `false_positive`, so
//! P(k negative) = sum_a Bin(a; m, sens) Bin(k - a; n - m, fp).

use crate::election::country::Layout;
use crate::election::outcome::Record;
use crate::model::scenario::{Kernel, Selection};
use crate::model::{InverseModel, MAX_PARTIES};
use crate::numeric::math;
use crate::numeric::stats::ln_gamma;
use crate::sample::exact::uniform;
use crate::sample::rng::Rng;

/// Draws observed precincts and evaluates likelihoods; holds scratch space.
pub struct Observer<'a> {
    inv: &'a InverseModel,
    layout: &'a Layout,
    chosen: Vec<u32>,
    taken: Vec<bool>,
    ln_fact: Vec<f64>,
}

impl<'a> Observer<'a> {
    pub fn new(inv: &'a InverseModel, layout: &'a Layout) -> Observer<'a> {
        let n = inv.observed as usize;
        Observer {
            inv,
            layout,
            chosen: Vec::with_capacity(n),
            taken: vec![false; layout.len()],
            ln_fact: (0..=n).map(|i| ln_gamma(i as f64 + 1.0)).collect(),
        }
    }

    /// How many of the observed precincts were irregular: n distinct precincts drawn without
    /// replacement, each with weight `urban_weight` if urban and 1 if rural (by rejection).
    pub fn irregular_in_sample(&mut self, rng: &mut Rng, irregular: &[bool]) -> u32 {
        let n_total = self.layout.len();
        let w_urban = match self.inv.selection {
            Selection::Uniform => 1.0,
            Selection::Urban => self.inv.urban_weight,
        };
        let w_max = w_urban.max(1.0);
        self.chosen.clear();
        while self.chosen.len() < self.inv.observed as usize {
            let i = ((uniform(rng) * n_total as f64) as usize).min(n_total - 1);
            if self.taken[i] {
                continue;
            }
            let w = if self.layout.urban[i] { w_urban } else { 1.0 };
            if w < w_max && uniform(rng) * w_max >= w {
                continue;
            }
            self.taken[i] = true;
            self.chosen.push(i as u32);
        }
        let mut m = 0;
        for &i in &self.chosen {
            self.taken[i as usize] = false;
            m += irregular[i as usize] as u32;
        }
        m
    }

    /// P(k of n assessed negatively | m of them irregular).
    pub fn assessment_likelihood(&self, m: u32, sensitivity: f64, false_positive: f64) -> f64 {
        let (n, k) = (self.inv.observed, self.inv.negative);
        let lf = &self.ln_fact;
        let ln_pmf = |x: u32, size: u32, p: f64| -> f64 {
            if x > size {
                return f64::NEG_INFINITY;
            }
            let (x, size) = (x as usize, size as usize);
            let term = |c: usize, q: f64| if c == 0 { 0.0 } else { c as f64 * math::ln(q) };
            lf[size] - lf[x] - lf[size - x] + term(x, p) + term(size - x, 1.0 - p)
        };
        let lo = k.saturating_sub(n - m);
        let hi = k.min(m);
        (lo..=hi)
            .map(|a| math::exp(ln_pmf(a, m, sensitivity) + ln_pmf(k - a, n - m, false_positive)))
            .sum()
    }
}

/// Exit-poll likelihood (up to a constant): product of normal densities of each poll share
/// around the true share plus the common bias.
pub fn exit_poll_likelihood(inv: &InverseModel, true_share: &[f64; MAX_PARTIES], bias: f64) -> f64 {
    let Some(e) = &inv.exit_poll else { return 1.0 };
    let z2: f64 = e
        .shares
        .iter()
        .map(|&(j, poll)| ((poll - true_share[j] - bias) / e.standard_error).powi(2))
        .sum();
    math::exp(-0.5 * z2)
}

/// Squared distance between reported and official shares, summed over compared parties.
pub fn distance2(inv: &InverseModel, reported_share: &[f64; MAX_PARTIES]) -> f64 {
    inv.compare
        .iter()
        .map(|&(j, official)| (reported_share[j] - official).powi(2))
        .sum()
}

/// Kernel weight of a simulated election's reported shares (and, where the scenario gives them,
/// its preliminary shares, turnout and invalid share) against the official ones, and whether every compared figure
/// lies within the tolerance.
pub fn kernel(inv: &InverseModel, reported: &Record, tolerance: f64) -> (f64, bool) {
    let mut z2 = 0.0;
    let mut within = true;
    let compared = inv
        .compare
        .iter()
        .map(|&(j, official)| (reported.reported_share[j], official))
        .chain(
            inv.preliminary
                .iter()
                .map(|&(j, published)| (reported.preliminary_share[j], published)),
        )
        .chain(inv.turnout.map(|t| (reported.reported_turnout, t)))
        .chain(inv.invalid.map(|v| (reported.reported_invalid, v)));
    for (simulated, official) in compared {
        let z = (simulated - official) / tolerance;
        z2 += z * z;
        within &= z.abs() <= 1.0;
    }
    let w = match inv.kernel {
        Kernel::Gaussian => math::exp(-0.5 * z2),
        Kernel::Uniform => within as u8 as f64,
    };
    (w, within)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::stats::binomial_upper_tail;

    #[test]
    fn assessment_likelihood_sums_to_one_over_k() {
        // With fp = 0 the likelihood is Bin(k; m, sens); summing over k must give 1.
        let layout = Layout {
            registered: vec![100; 10],
            region: vec![0; 10],
            urban: vec![false; 10],
            evoting: vec![false; 10],
            region_range: std::iter::once(0..10).collect(),
        };
        let mut total = 0.0;
        for k in 0..=8 {
            let inv = test_inverse(8, k);
            let obs = Observer::new(&inv, &layout);
            total += obs.assessment_likelihood(5, 0.3, 0.1);
        }
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        // Only regular counts and fp = 0.5: Bin(k; 8, 0.5); P(k >= 6) = 37/256.
        let tail: f64 = (6..=8)
            .map(|k| {
                let inv = test_inverse(8, k);
                Observer::new(&inv, &layout).assessment_likelihood(0, 0.9, 0.5)
            })
            .sum();
        assert!((tail - binomial_upper_tail(8, 0.5, 6)).abs() < 1e-12);
    }

    fn test_inverse(n: u32, k: u32) -> InverseModel {
        InverseModel {
            observed: n,
            negative: k,
            selection: Selection::Uniform,
            urban_weight: 1.0,
            sensitivity: crate::model::prior::Dist::Fixed(0.5),
            false_positive: crate::model::prior::Dist::Fixed(0.1),
            exit_poll: None,
            kernel: Kernel::Gaussian,
            tolerance: 0.001,
            compare: vec![],
            fingerprint: None,
            turnout: None,
            invalid: None,
            preliminary: vec![],
            recounts: None,
            proposal: crate::model::scenario::ProposalKind::Guided,
            alternatives: vec![],
        }
    }
}
