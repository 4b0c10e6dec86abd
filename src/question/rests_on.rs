//! What the inverse answer rests on: for each unknown, how far the evidence narrowed it, and the
//! headline probability (some focus party truly over the threshold) in each half of its prior,
//! below and above the prior's median.
//!
//! An unknown the evidence barely narrowed, whose two halves give different headlines, is one
//! the answer depends on through its prior alone: a reader should see that beside the answer,
//! not only in a sweep. The halves are fixed before any trial (at the prior's median), so their
//! sums stream, merge across threads and shards, and resume exactly like every other sum.

use crate::numeric::stats::{Estimate, Proportion, Weights};
use serde::{Deserialize, Serialize};

/// Below this narrowing of its 90% range (a fifth) the evidence says little about an unknown.
pub const LITTLE: f64 = 0.2;
/// The fewest effective trials in a half for its headline to be shown.
pub const MIN_ESS: f64 = 30.0;
/// The smallest gap between the two halves' headlines worth a warning (5 points).
pub const GAP: f64 = 0.05;

/// The weighted headline in the two halves of one unknown's prior.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Split {
    below: Weights,
    below_hit: Proportion,
    above: Weights,
    above_hit: Proportion,
}

impl Split {
    /// Adds a trial whose unknown is `x` (split at `median`), with the headline event `hit`.
    #[inline]
    pub fn add(&mut self, x: f64, median: f64, hit: bool, w: f64) {
        let (weights, hits) = if x < median {
            (&mut self.below, &mut self.below_hit)
        } else {
            (&mut self.above, &mut self.above_hit)
        };
        weights.add(w);
        hits.add(hit, w);
    }

    /// Adds the sums of other trials (exact, like the accumulator's).
    pub fn merge(&mut self, o: &Split) {
        self.below.merge(&o.below);
        self.below_hit.merge(&o.below_hit);
        self.above.merge(&o.above);
        self.above_hit.merge(&o.above_hit);
    }

    /// The effective sample size of each half (below, at or above the median).
    pub fn ess(&self) -> [f64; 2] {
        [self.below.ess(), self.above.ess()]
    }

    /// P(headline | below the median) and P(headline | at or above it); None for a half with
    /// fewer than `MIN_ESS` effective trials (the posterior all but excludes it).
    pub fn estimates(&self) -> [Option<Estimate>; 2] {
        let est = |w: &Weights, p: &Proportion| (w.ess() >= MIN_ESS).then(|| w.estimate(p));
        [
            est(&self.below, &self.below_hit),
            est(&self.above, &self.above_hit),
        ]
    }
}

/// How the answer depends on one unknown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dependence {
    /// 1 - (posterior 90% range / prior 90% range): how far the evidence narrowed the unknown
    /// (0: not at all; 1: to a point). None where the posterior has no range (no weight).
    pub narrowed: Option<f64>,
    /// The prior's median, where the two halves meet.
    pub split_at: f64,
    /// The headline probability among trials with the unknown below `split_at`.
    pub headline_below: Option<Estimate>,
    /// The headline probability among trials with the unknown at or above `split_at`.
    pub headline_above: Option<Estimate>,
    /// The effective sample size behind each half's headline (below, above): each half is the
    /// answer under another prior, the unknown's own cut to that half, by reweighting.
    pub ess_halves: [f64; 2],
    /// The evidence narrowed the unknown by less than a fifth, and the two halves' headlines
    /// differ by more than 5 points and 4 standard errors: the answer rests on its prior.
    pub rests_on_prior: bool,
    /// The scenario path `recount sweep --param` takes for it.
    pub sweep_path: String,
}

/// The dependence of the answer on an unknown with these prior and posterior 90% ranges.
pub fn dependence(
    prior: [f64; 2],
    posterior: [f64; 2],
    split_at: f64,
    s: &Split,
    sweep_path: String,
) -> Dependence {
    let width = prior[1] - prior[0];
    let range = posterior[1] - posterior[0];
    let narrowed = if !range.is_finite() {
        None
    } else if width > 0.0 {
        Some((1.0 - range / width).clamp(0.0, 1.0))
    } else {
        Some(1.0)
    };
    let [below, above] = s.estimates();
    let rests_on_prior = narrowed.is_some_and(|n| n < LITTLE)
        && match (below, above) {
            (Some(b), Some(a)) => {
                let gap = (a.estimate - b.estimate).abs();
                gap > GAP && gap > 4.0 * (a.mcse.powi(2) + b.mcse.powi(2)).sqrt()
            }
            _ => false,
        };
    Dependence {
        narrowed,
        split_at,
        headline_below: below,
        headline_above: above,
        ess_halves: s.ess(),
        rests_on_prior,
        sweep_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(below: (u32, u32), above: (u32, u32)) -> Split {
        // (trials, of which hits) in each half, weight 1 each.
        let mut s = Split::default();
        for (x, (n, hits)) in [(0.2, below), (0.8, above)] {
            for i in 0..n {
                s.add(x, 0.5, i < hits, 1.0);
            }
        }
        s
    }

    #[test]
    fn the_halves_count_their_own_trials() {
        let [b, a] = split((100, 10), (300, 150)).estimates();
        assert_eq!(b.unwrap().estimate, 0.1);
        assert_eq!(a.unwrap().estimate, 0.5);
        assert!(split((0, 0), (100, 1)).estimates()[0].is_none());
        assert!(
            split((29, 3), (100, 1)).estimates()[0].is_none(),
            "under 30 trials"
        );
    }

    #[test]
    fn an_unknown_rests_on_its_prior_only_when_unnarrowed_and_influential() {
        let s = split((1000, 50), (1000, 300));
        // Barely narrowed, headlines 5% and 30%: the answer rests on the prior.
        let d = dependence([0.0, 1.0], [0.05, 0.95], 0.5, &s, "x".into());
        assert!((d.narrowed.unwrap() - 0.1).abs() < 1e-12);
        assert!(d.rests_on_prior);
        // A posterior without weight has no range: nothing is said of it.
        let none = dependence([0.0, 1.0], [f64::NAN, f64::NAN], 0.5, &s, "x".into());
        assert_eq!(none.narrowed, None);
        assert!(!none.rests_on_prior);
        // Narrowed by half: the evidence speaks.
        assert!(!dependence([0.0, 1.0], [0.2, 0.7], 0.5, &s, "x".into()).rests_on_prior);
        // Unnarrowed but without influence (the same headline in both halves).
        let flat = split((1000, 200), (1000, 205));
        assert!(!dependence([0.0, 1.0], [0.05, 0.95], 0.5, &flat, "x".into()).rests_on_prior);
        // A gap within the noise of 40 trials a half is not a warning.
        let noisy = split((40, 4), (40, 8));
        assert!(!dependence([0.0, 1.0], [0.05, 0.95], 0.5, &noisy, "x".into()).rests_on_prior);
    }
}
