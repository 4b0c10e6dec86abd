//! Honest counting errors in ballots (`count_errors`), applied to one station's protocol after
//! the irregularities: a slip (k ballots off one party's pile, to a neighbour on the ballot, any
//! other party or invalid), then a swap of two parties' figures, then a figure entered as 0.
//!
//! Errors are rare, so a trial does not decide each station: it draws the gap to the next
//! station with an error (`sample::count::gap`) at the highest probability any station has, and
//! keeps a candidate with its own probability over that (thinning). A station's chance of each
//! error is then exactly its probability, and a trial costs one comparison per station and kind
//! plus the work at the few stations with an error.

use crate::election::draw::CountDraw;
use crate::model::count_errors::{CountErrorsModel, CountLawModel, Frequency, SlipsModel};
use crate::model::scenario::SlipTarget;
use crate::sample::count::{gap, negative_binomial, poisson};
use crate::sample::exact::{count_f64, trunc_count, uniform};
use crate::sample::rng::Rng;

/// One kind of error in one trial: its prevalence and the next station that may have it.
#[derive(Debug, Clone, Copy)]
struct Next {
    frequency: Frequency,
    prevalence: f64,
    /// The highest probability of any station, at which candidates are drawn.
    highest: f64,
    /// The index of the next candidate station (u64::MAX: none).
    at: u64,
}

impl Next {
    fn new(rng: &mut Rng, frequency: Frequency, prevalence: f64) -> Next {
        let highest = frequency.highest(prevalence);
        Next {
            frequency,
            prevalence,
            highest,
            at: gap(rng, highest),
        }
    }

    /// Whether the `i`-th station visited has the error (called for i = 0, 1, 2, ... in turn).
    #[inline]
    fn hits(&mut self, rng: &mut Rng, i: u64, urban: bool) -> bool {
        if i != self.at {
            return false;
        }
        self.at = i.saturating_add(1).saturating_add(gap(rng, self.highest));
        let p = self.frequency.probability(self.prevalence, urban).min(1.0);
        p >= self.highest || uniform(rng) * self.highest < p
    }
}

/// Draws the election-level unknowns of `model` in a fixed order: the slips' prevalence and
/// their law's means, then the zeroed figures' and the swaps' prevalences (nothing for a kind
/// the scenario lacks, and no random number for a fixed prior).
pub fn draw(model: &CountErrorsModel, rng: &mut Rng) -> CountDraw {
    let mut d = CountDraw::default();
    if let Some(s) = &model.slips {
        d.slips = s.frequency.prevalence.sample(rng);
        for (x, prior) in d.slip_means.iter_mut().zip(s.size.means()) {
            *x = prior.sample(rng);
        }
    }
    if let Some(z) = &model.zeroed {
        d.zeroed = z.frequency.prevalence.sample(rng);
    }
    if let Some(s) = &model.swapped {
        d.swapped = s.frequency.prevalence.sample(rng);
    }
    d
}

/// The counting errors of one trial, ready to apply station by station: each kind's next
/// candidate beside what it does.
pub struct CountErrors<'a> {
    means: [f64; crate::model::count_errors::MAX_COMPONENTS],
    slips: Option<(Next, &'a SlipsModel)>,
    zeroed: Option<(Next, &'a [usize])>,
    swapped: Option<(Next, &'a [(usize, usize)])>,
    /// How many stations have been visited.
    visited: u64,
}

impl<'a> CountErrors<'a> {
    /// The errors of a trial with unknowns `d`, drawing the first candidate of each kind.
    pub fn new(model: &'a CountErrorsModel, d: &CountDraw, rng: &mut Rng) -> CountErrors<'a> {
        CountErrors {
            means: d.slip_means,
            slips: model
                .slips
                .as_ref()
                .map(|s| (Next::new(rng, s.frequency, d.slips), s)),
            zeroed: model
                .zeroed
                .as_ref()
                .map(|z| (Next::new(rng, z.frequency, d.zeroed), &z.parties[..])),
            swapped: model
                .swapped
                .as_ref()
                .map(|s| (Next::new(rng, s.frequency, d.swapped), &s.pairs[..])),
            visited: 0,
        }
    }

    /// Applies the errors of the next station (every station is visited once, in the trial's
    /// order) to its counts (parties, then invalid).
    #[inline]
    pub fn apply(&mut self, rng: &mut Rng, urban: bool, votes: &mut [u64]) {
        let i = self.visited;
        self.visited += 1;
        if let Some((next, s)) = &mut self.slips
            && next.hits(rng, i, urban)
        {
            slip(rng, s, &self.means, votes);
        }
        if let Some((next, pairs)) = &mut self.swapped
            && next.hits(rng, i, urban)
        {
            let (a, b) = pairs[pick(rng, pairs.len())];
            votes.swap(a, b);
        }
        if let Some((next, parties)) = &mut self.zeroed
            && next.hits(rng, i, urban)
        {
            votes[parties[pick(rng, parties.len())]] = 0;
        }
    }
}

/// A uniform index below `n` (n >= 1).
#[inline]
fn pick(rng: &mut Rng, n: usize) -> usize {
    (trunc_count(uniform(rng) * count_f64(n as u64)) as usize).min(n - 1)
}

/// One slip: a ballot drawn among the `from` parties' piles picks the pile; k ballots (from the
/// count law, at most the pile) leave it for their target.
fn slip(rng: &mut Rng, s: &SlipsModel, means: &[f64], votes: &mut [u64]) {
    let parties = votes.len() - 1;
    let pile: u64 = (0..parties).filter(|&j| s.from[j]).map(|j| votes[j]).sum();
    if pile == 0 {
        return;
    }
    let mut ballot = trunc_count(uniform(rng) * count_f64(pile)).min(pile - 1);
    let mut from = 0;
    while !s.from[from] || ballot >= votes[from] {
        if s.from[from] {
            ballot -= votes[from];
        }
        from += 1;
    }
    let k = size(rng, &s.size, means).min(votes[from]);
    let to = match s.to {
        SlipTarget::Invalid => parties,
        SlipTarget::Other => {
            let j = pick(rng, parties - 1);
            if j >= from { j + 1 } else { j }
        }
        SlipTarget::Neighbour if from == 0 => 1,
        SlipTarget::Neighbour if from == parties - 1 => from - 1,
        SlipTarget::Neighbour => {
            if uniform(rng) < 0.5 {
                from - 1
            } else {
                from + 1
            }
        }
    };
    votes[from] -= k;
    votes[to] += k;
}

/// The ballots of one slip, before the cap at its pile.
fn size(rng: &mut Rng, law: &CountLawModel, means: &[f64]) -> u64 {
    match law {
        CountLawModel::Poisson(_) => poisson(rng, means[0]),
        CountLawModel::NegativeBinomial(_, shape) => negative_binomial(rng, means[0], *shape),
        CountLawModel::Mixture(components) => {
            let u = uniform(rng);
            let mut cumulative = 0.0;
            let last = components.len() - 1;
            let c = (0..last)
                .find(|&c| {
                    cumulative += components[c].0;
                    u < cumulative
                })
                .unwrap_or(last);
            poisson(rng, means[c])
        }
    }
}
