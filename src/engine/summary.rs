//! Streaming accumulation of trial records into the published estimates.
//!
//! Memory does not grow with the trial count: each quantity is a running weighted sum or a
//! fixed-bin histogram. Sums are exact, so the result depends only on which trials were added:
//! byte-identical whatever the thread count or the split into shards.

use crate::election::outcome::Record;
use crate::model::Model;
use crate::numeric::stats::{Distribution, Estimate, Proportion, Summary, Weights};
use crate::numeric::sum::ExactSum;
use serde::{Deserialize, Serialize};

/// Per-party running sums.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PartyAcc {
    true_share: Distribution,
    reported_share: Distribution,
    true_cross: Proportion,
    reported_cross: Proportion,
    flipped: Proportion,
    true_seats: ExactSum,
    reported_seats: ExactSum,
    /// Votes added by the irregularities (reported minus true), on +- the registered voters.
    moved: Distribution,
    /// Trials in which the irregularities and errors took at least the party's official deficit
    /// from it (counted only for parties the official count left under the threshold).
    deficit_closed: Proportion,
}

impl PartyAcc {
    fn new(registered: f64) -> PartyAcc {
        PartyAcc {
            moved: Distribution::with_range(-registered, registered),
            ..PartyAcc::default()
        }
    }

    fn merge(&mut self, o: &PartyAcc) {
        self.true_share.merge(&o.true_share);
        self.reported_share.merge(&o.reported_share);
        self.true_cross.merge(&o.true_cross);
        self.reported_cross.merge(&o.reported_cross);
        self.flipped.merge(&o.flipped);
        self.true_seats.merge(&o.true_seats);
        self.reported_seats.merge(&o.reported_seats);
        self.moved.merge(&o.moved);
        self.deficit_closed.merge(&o.deficit_closed);
    }
}

/// Running sums over all trials so far (saved in partial-result files to resume exactly).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accumulator {
    threshold: f64,
    focus: Vec<usize>,
    pub weights: Weights,
    parties: Vec<PartyAcc>,
    any_true: Proportion,
    all_true: Proportion,
    any_reported: Proportion,
    all_reported: Proportion,
    any_flipped: Proportion,
    /// Per party: the votes its official count lacked to reach the threshold (0: it reached it;
    /// None: the scenario gives no official votes).
    deficits: Vec<Option<f64>>,
    /// The official valid votes (the deficits' scale; 0 without official votes).
    official_total: f64,
    any_deficit_closed: Proportion,
    true_turnout: Distribution,
    reported_turnout: Distribution,
    irregular_fraction: Distribution,
}

/// Published per-party figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartyResult {
    pub id: String,
    pub name: String,
    /// The official share of valid votes, where the scenario gives official votes.
    pub official_share: Option<f64>,
    pub true_share: Summary,
    pub reported_share: Summary,
    /// P(true share >= threshold).
    pub p_true_cross: Estimate,
    /// P(reported share >= threshold).
    pub p_reported_cross: Estimate,
    /// P(truly over the threshold, reported under it).
    pub p_flipped: Estimate,
    pub expected_seats_true: f64,
    pub expected_seats_reported: f64,
    /// Votes the irregularities added to the party (reported minus true; negative: taken from
    /// it). Quantiles are resolved to 1/10,000 of the registered voters.
    pub votes_moved: Summary,
    /// Votes the party's official count lacked to reach the threshold of the official valid
    /// votes (0 when it reached it), where the scenario gives official votes.
    pub official_deficit: Option<f64>,
    /// P(the irregularities and errors took at least the official deficit from the party): the
    /// votes moved were -deficit or fewer. Only for a party the official count left under the
    /// threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_deficit_closed: Option<Estimate>,
}

/// Whether a focus party's official count left it under the threshold (what
/// `p_any_deficit_closed` needs).
pub fn any_focus_deficit(model: &Model) -> bool {
    focus_deficit(&deficits(model), &model.focus)
}

fn focus_deficit(deficits: &[Option<f64>], focus: &[usize]) -> bool {
    focus.iter().any(|&j| deficits[j].is_some_and(|d| d > 0.0))
}

/// Per party: the votes its official count lacked to reach the threshold of the official valid
/// votes (0 where it reached it); None where the scenario gives no official votes.
fn deficits(model: &Model) -> Vec<Option<f64>> {
    let official_total = official_total(model);
    model
        .parties
        .iter()
        .map(|p| {
            p.official_votes
                .filter(|_| official_total > 0.0)
                .map(|v| deficit(model.threshold * official_total, v))
        })
        .collect()
}

/// The official valid votes (every party's official votes; validation refuses a scenario that
/// gives some parties' and not others').
fn official_total(model: &Model) -> f64 {
    model.parties.iter().filter_map(|p| p.official_votes).sum()
}

/// Whether the trial's irregularities and errors took at least party `j`'s official `deficit`
/// from it. Both sides are shares of their own count (the votes taken of the trial's reported
/// valid votes, the deficit of the official valid votes), so a simulated country of another size
/// than the official count compares like for like.
fn closes(deficit: Option<f64>, official_total: f64, j: usize, r: &Record) -> bool {
    deficit.is_some_and(|d| d > 0.0 && -r.moved[j] * official_total >= d * r.reported_valid)
}

/// Whole votes `votes` lacks to reach `needed` (0 if it does), ignoring the rounding noise of
/// `needed` (0.07 x 10,000 is 700.0000000000001 in floating point; under 1e-6 of a vote for any
/// electorate below 10^9).
fn deficit(needed: f64, votes: f64) -> f64 {
    let d = (needed - votes - 1e-6).ceil();
    // ceil of a small negative is -0.0, which would print as "-0".
    if d > 0.0 { d } else { 0.0 }
}

/// Published figures of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Results {
    pub parties: Vec<PartyResult>,
    /// The focus parties (e.g. NSDP and Ak Zhol).
    pub focus: Vec<String>,
    /// P(at least one focus party truly >= threshold).
    pub p_any_true_cross: Estimate,
    /// P(every focus party truly >= threshold).
    pub p_all_true_cross: Estimate,
    pub p_any_reported_cross: Estimate,
    pub p_all_reported_cross: Estimate,
    /// P(at least one focus party truly over and reported under).
    pub p_any_flipped: Estimate,
    /// P(the votes moved closed the official deficit of at least one focus party under the
    /// threshold); None when no focus party was officially under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_any_deficit_closed: Option<Estimate>,
    pub true_turnout: Summary,
    pub reported_turnout: Summary,
    pub irregular_fraction: Summary,
}

impl Accumulator {
    pub fn new(model: &Model) -> Accumulator {
        let registered: u64 = model.regions.iter().map(|r| r.registered).sum();
        Accumulator {
            threshold: model.threshold,
            focus: model.focus.clone(),
            weights: Weights::default(),
            parties: vec![PartyAcc::new(registered.max(1) as f64); model.n_parties()],
            any_true: Proportion::default(),
            all_true: Proportion::default(),
            any_reported: Proportion::default(),
            all_reported: Proportion::default(),
            any_flipped: Proportion::default(),
            deficits: deficits(model),
            official_total: official_total(model),
            any_deficit_closed: Proportion::default(),
            true_turnout: Distribution::default(),
            reported_turnout: Distribution::default(),
            irregular_fraction: Distribution::default(),
        }
    }

    /// Posterior (or, forward, predictive) share of trials in which party `j`'s true share is
    /// below `x`: the rank statistic of simulation-based calibration.
    pub fn true_share_cdf(&self, j: usize, x: f64) -> f64 {
        self.parties[j].true_share.cdf(x)
    }

    /// Posterior (or predictive) share of trials in which the irregularities added fewer than
    /// `x` votes to party `j`: the rank statistic of simulation-based calibration.
    pub fn moved_cdf(&self, j: usize, x: f64) -> f64 {
        self.parties[j].moved.cdf(x)
    }

    /// Adds one trial.
    pub fn add(&mut self, r: &Record) {
        let w = r.weight;
        self.weights.add(w);
        let th = self.threshold;
        let (deficits, official_total) = (&self.deficits, self.official_total);
        let closes = |j: usize| closes(deficits[j], official_total, j, r);
        for (j, p) in self.parties.iter_mut().enumerate() {
            let (t, rep) = (r.true_share[j], r.reported_share[j]);
            p.true_share.add(t, w);
            p.reported_share.add(rep, w);
            p.true_cross.add(t >= th, w);
            p.reported_cross.add(rep >= th, w);
            p.flipped.add(t >= th && rep < th, w);
            p.true_seats.add(w * r.true_seats[j] as f64);
            p.reported_seats.add(w * r.reported_seats[j] as f64);
            p.moved.add(r.moved[j], w);
            if deficits[j].is_some_and(|d| d > 0.0) {
                p.deficit_closed.add(closes(j), w);
            }
        }
        let focus = &self.focus;
        let any = |s: &[f64]| focus.iter().any(|&j| s[j] >= th);
        let all = |s: &[f64]| focus.iter().all(|&j| s[j] >= th);
        self.any_true.add(self.any_truly_crosses(r), w);
        self.all_true.add(all(&r.true_share), w);
        self.any_reported.add(any(&r.reported_share), w);
        self.all_reported.add(all(&r.reported_share), w);
        let flipped = self
            .focus
            .iter()
            .any(|&j| r.true_share[j] >= th && r.reported_share[j] < th);
        self.any_flipped.add(flipped, w);
        let closed = focus.iter().any(|&j| closes(j));
        self.any_deficit_closed.add(closed, w);
        self.true_turnout.add(r.true_turnout, w);
        self.reported_turnout.add(r.reported_turnout, w);
        self.irregular_fraction.add(r.irregular_fraction, w);
    }

    /// The headline event of a trial: some focus party truly at or over the threshold.
    pub fn any_truly_crosses(&self, r: &Record) -> bool {
        self.focus
            .iter()
            .any(|&j| r.true_share[j] >= self.threshold)
    }

    /// Adds the trials of another accumulator of the same model. Sums are exact, so merging
    /// accumulators of disjoint trials gives the figures of folding all the trials into one.
    pub fn merge(&mut self, o: &Accumulator) {
        self.weights.merge(&o.weights);
        for (p, q) in self.parties.iter_mut().zip(&o.parties) {
            p.merge(q);
        }
        self.any_true.merge(&o.any_true);
        self.all_true.merge(&o.all_true);
        self.any_reported.merge(&o.any_reported);
        self.all_reported.merge(&o.all_reported);
        self.any_flipped.merge(&o.any_flipped);
        self.any_deficit_closed.merge(&o.any_deficit_closed);
        self.true_turnout.merge(&o.true_turnout);
        self.reported_turnout.merge(&o.reported_turnout);
        self.irregular_fraction.merge(&o.irregular_fraction);
    }

    /// Whether `o` accumulates the same quantities (same parties, focus and threshold).
    pub fn compatible(&self, o: &Accumulator) -> bool {
        self.threshold == o.threshold
            && self.focus == o.focus
            && self.parties.len() == o.parties.len()
            && self.deficits == o.deficits
    }

    /// The published figures.
    pub fn results(&self, model: &Model) -> Results {
        let w = &self.weights;
        let official_total = official_total(model);
        let parties = model
            .parties
            .iter()
            .zip(&self.parties)
            .zip(&self.deficits)
            .map(|((info, acc), deficit)| PartyResult {
                id: info.id.clone(),
                name: info.name.clone(),
                official_share: info
                    .official_votes
                    .filter(|_| official_total > 0.0)
                    .map(|v| v / official_total),
                true_share: acc.true_share.summary(),
                reported_share: acc.reported_share.summary(),
                p_true_cross: w.estimate(&acc.true_cross),
                p_reported_cross: w.estimate(&acc.reported_cross),
                p_flipped: w.estimate(&acc.flipped),
                expected_seats_true: acc.true_seats.value() / w.sum(),
                expected_seats_reported: acc.reported_seats.value() / w.sum(),
                votes_moved: acc.moved.summary(),
                official_deficit: *deficit,
                p_deficit_closed: deficit
                    .filter(|&d| d > 0.0)
                    .map(|_| w.estimate(&acc.deficit_closed)),
            })
            .collect();
        let any_closable = focus_deficit(&self.deficits, &self.focus);
        Results {
            parties,
            focus: self
                .focus
                .iter()
                .map(|&j| model.parties[j].id.clone())
                .collect(),
            p_any_true_cross: w.estimate(&self.any_true),
            p_all_true_cross: w.estimate(&self.all_true),
            p_any_reported_cross: w.estimate(&self.any_reported),
            p_all_reported_cross: w.estimate(&self.all_reported),
            p_any_flipped: w.estimate(&self.any_flipped),
            p_any_deficit_closed: any_closable.then(|| w.estimate(&self.any_deficit_closed)),
            true_turnout: self.true_turnout.summary(),
            reported_turnout: self.reported_turnout.summary(),
            irregular_fraction: self.irregular_fraction.summary(),
        }
    }
}
