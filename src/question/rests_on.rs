//! What the inverse answer rests on: for each unknown, how far the evidence narrowed it, and the
//! headline probability (some focus party truly over the threshold) in each half of its prior,
//! below and above the prior's median.
//!
//! An unknown the evidence barely narrowed, whose two halves give different headlines, is one
//! the answer depends on through its prior alone: a reader should see that beside the answer,
//! not only in a sweep. The headline is also kept across the prior in twenty bins of equal prior
//! mass (the halves are their first and last ten): what the answer would be had the unknown been
//! known to lie in each, which the report draws. The bins are fixed before any trial (at the
//! prior's quantiles), so their sums stream, merge across threads and shards, and resume exactly
//! like every other sum.

use crate::numeric::stats::{Estimate, Proportion, Weights};
use serde::{Deserialize, Serialize};

/// Below this narrowing of its 90% range (a fifth) the evidence says little about an unknown.
pub const LITTLE: f64 = 0.2;
/// The fewest effective trials in a half for its headline to be shown.
pub const MIN_ESS: f64 = 30.0;
/// The smallest gap between the two halves' headlines worth a warning (5 points).
pub const GAP: f64 = 0.05;

/// Bins of an unknown's prior, each holding a twentieth of its mass.
pub const BINS: usize = 20;

/// The weighted headline among the trials in one bin of an unknown's prior.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Bin {
    weights: Weights,
    hits: Proportion,
}

impl Bin {
    fn merge(&mut self, o: &Bin) {
        self.weights.merge(&o.weights);
        self.hits.merge(&o.hits);
    }

    /// The bin's headline; None under `MIN_ESS` effective trials (the posterior all but
    /// excludes it).
    fn estimate(&self) -> Option<Estimate> {
        (self.weights.ess() >= MIN_ESS).then(|| self.weights.estimate(&self.hits))
    }
}

/// The weighted headline across one unknown's prior, in `BINS` bins of equal prior mass (cut at
/// its quantiles, fixed before any trial). The two halves, below and at or above the median, are
/// the first and last ten bins; each bin is the answer had the unknown been known to lie there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// The `BINS - 1` inner edges, the prior's quantiles at 1/20, ..., 19/20; the middle one is
    /// its median.
    edges: Vec<f64>,
    bins: Vec<Bin>,
}

/// One bin of a profile, as published.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ProfileBin {
    /// The unknown's range in this bin (the outer bins end at the prior's ends).
    pub from: f64,
    pub to: f64,
    /// Effective sample size of the bin's trials.
    pub ess: f64,
    /// The headline among them; None under 30 effective trials.
    pub headline: Option<Estimate>,
}

impl Profile {
    /// No trials yet, for an unknown whose prior has quantile function `quantile`.
    pub fn new(quantile: impl Fn(f64) -> f64) -> Profile {
        Profile {
            edges: (1..BINS)
                .map(|i| quantile(i as f64 / BINS as f64))
                .collect(),
            bins: vec![Bin::default(); BINS],
        }
    }

    /// Adds a trial whose unknown is `x`, with the headline event `hit`.
    #[inline]
    pub fn add(&mut self, x: f64, hit: bool, w: f64) {
        let b = self.edges.partition_point(|&e| e <= x);
        self.bins[b].weights.add(w);
        self.bins[b].hits.add(hit, w);
    }

    /// Where the two halves meet: the prior's median, the middle inner edge.
    pub fn median(&self) -> f64 {
        self.edges[BINS / 2 - 1]
    }

    /// Whether `o` has the same bins (the same prior), which `merge` adds up.
    pub fn compatible(&self, o: &Profile) -> bool {
        self.edges == o.edges && self.bins.len() == o.bins.len()
    }

    /// Adds the sums of other trials (exact, like the accumulator's); `compatible` must hold.
    pub fn merge(&mut self, o: &Profile) {
        for (b, c) in self.bins.iter_mut().zip(&o.bins) {
            b.merge(c);
        }
    }

    /// The trials below the median and at or above it.
    fn halves(&self) -> [Bin; 2] {
        let half = |bins: &[Bin]| {
            let mut all = Bin::default();
            for b in bins {
                all.merge(b);
            }
            all
        };
        let (below, above) = self.bins.split_at(BINS / 2);
        [half(below), half(above)]
    }

    /// P(headline | below the median) and P(headline | at or above it); None for a half with
    /// fewer than `MIN_ESS` effective trials (the posterior all but excludes it).
    pub fn estimates(&self) -> [Option<Estimate>; 2] {
        self.halves().map(|h| h.estimate())
    }

    /// The effective sample size of each half (below, at or above the median).
    pub fn ess(&self) -> [f64; 2] {
        self.halves().map(|h| h.weights.ess())
    }

    /// Every bin as published, the outer ones ending at `outer` (the prior's ends).
    pub fn bins(&self, outer: [f64; 2]) -> Vec<ProfileBin> {
        self.bins
            .iter()
            .enumerate()
            .map(|(i, b)| ProfileBin {
                from: if i == 0 { outer[0] } else { self.edges[i - 1] },
                to: self.edges.get(i).copied().unwrap_or(outer[1]),
                ess: b.weights.ess(),
                headline: b.estimate(),
            })
            .collect()
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
    /// The headline across the unknown's prior, bin by bin (`Profile`).
    pub profile: Vec<ProfileBin>,
}

/// The dependence of the answer on an unknown with these prior and posterior 90% ranges.
pub fn dependence(
    prior: [f64; 2],
    posterior: [f64; 2],
    s: &Profile,
    outer: [f64; 2],
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
        split_at: s.median(),
        headline_below: below,
        headline_above: above,
        ess_halves: s.ess(),
        rests_on_prior,
        sweep_path,
        profile: s.bins(outer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(below: (u32, u32), above: (u32, u32)) -> Profile {
        // (trials, of which hits) in each half of a uniform prior on [0, 1], weight 1 each.
        let mut s = Profile::new(|q| q);
        for (x, (n, hits)) in [(0.2, below), (0.8, above)] {
            for i in 0..n {
                s.add(x, i < hits, 1.0);
            }
        }
        s
    }

    #[test]
    fn each_bin_holds_its_twentieth_of_the_prior_and_the_halves_are_their_sums() {
        // A prior on [0, 2] with quantile 2q: bins 0.1 wide; 0.5 lies at the start of bin 5.
        let mut p = Profile::new(|q| 2.0 * q);
        for i in 0..400 {
            p.add(0.5, i < 100, 1.0);
            p.add(1.95, i < 300, 2.0);
        }
        let bins = p.bins([0.0, 2.0]);
        assert_eq!(bins.len(), BINS);
        assert_eq!((bins[5].from, bins[5].to), (0.5, 0.6));
        assert_eq!((bins[0].from, bins[19].to), (0.0, 2.0));
        assert_eq!(bins[5].headline.unwrap().estimate, 0.25);
        assert_eq!(bins[19].headline.unwrap().estimate, 0.75);
        assert!(bins[19].ess == 400.0 && bins[4].ess == 0.0 && bins[4].headline.is_none());
        let [below, above] = p.estimates();
        assert_eq!(
            (below.unwrap().estimate, above.unwrap().estimate),
            (0.25, 0.75)
        );
        // Merging is adding; another prior's bins are not the same bins.
        let mut twice = p.clone();
        twice.merge(&p);
        assert_eq!(twice.ess(), [800.0, 800.0]);
        assert!(p.compatible(&twice) && !p.compatible(&Profile::new(|q| q)));
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
        let d = dependence([0.0, 1.0], [0.05, 0.95], &s, [0.0, 1.0], "x".into());
        assert!((d.narrowed.unwrap() - 0.1).abs() < 1e-12);
        assert!(d.rests_on_prior);
        // A posterior without weight has no range: nothing is said of it.
        let none = dependence([0.0, 1.0], [f64::NAN, f64::NAN], &s, [0.0, 1.0], "x".into());
        assert_eq!(none.narrowed, None);
        assert!(!none.rests_on_prior);
        // Narrowed by half: the evidence speaks.
        assert!(!dependence([0.0, 1.0], [0.2, 0.7], &s, [0.0, 1.0], "x".into()).rests_on_prior);
        // Unnarrowed but without influence (the same headline in both halves).
        let flat = split((1000, 200), (1000, 205));
        assert!(
            !dependence([0.0, 1.0], [0.05, 0.95], &flat, [0.0, 1.0], "x".into()).rests_on_prior
        );
        // A gap within the noise of 40 trials a half is not a warning.
        let noisy = split((40, 4), (40, 8));
        assert!(
            !dependence([0.0, 1.0], [0.05, 0.95], &noisy, [0.0, 1.0], "x".into()).rests_on_prior
        );
    }
}
