//! The sampler as a type: one simulator per sampler, chosen once where a run starts
//! (`Sampler::new`), so the trial loops below never ask which sampler they are.
//!
//! `exact` and `fast` simulate every precinct's counts (`trial::Simulator`); `pooled` draws
//! every precinct's turnout, shares and irregularities but pools the ballots' noise over the
//! country (`pooled`), so it has no precinct counts to show.

use crate::election::country::Layout;
use crate::election::draw::{Draw, Totals};
use crate::election::pooled::Tables;
use crate::election::trial::Simulator;
use crate::model::Model;
use crate::sample::kind::SamplerKind;
use crate::sample::rng::Rng;

/// A trial simulator for one model, layout and sampler, reusing its buffers between trials.
pub enum Sampler<'a> {
    /// Every precinct's counts drawn (`exact` or `fast`).
    Precincts(Simulator<'a>),
    /// Ballot noise pooled over the country (`pooled`), with its tables.
    Pooled(Simulator<'a>, Box<Tables>),
}

impl<'a> Sampler<'a> {
    pub fn new(model: &'a Model, layout: &'a Layout, kind: SamplerKind) -> Sampler<'a> {
        let sim = Simulator::new(model, layout).with_sampler(kind);
        match kind {
            SamplerKind::Pooled => Sampler::Pooled(sim, Box::default()),
            SamplerKind::Exact | SamplerKind::Fast => Sampler::Precincts(sim),
        }
    }

    /// The shared part: the model, the layout and the draws of the election-level unknowns.
    pub fn simulator(&self) -> &Simulator<'a> {
        match self {
            Sampler::Precincts(s) | Sampler::Pooled(s, _) => s,
        }
    }

    /// Draws the election-level unknowns from their priors.
    pub fn draw(&self, rng: &mut Rng) -> Draw {
        self.simulator().draw(rng)
    }

    /// Simulates one whole election for `d`.
    pub fn run(&mut self, rng: &mut Rng, d: &Draw) -> Totals {
        match self {
            Sampler::Precincts(s) => s.run(rng, d),
            Sampler::Pooled(s, t) => s.run_pooled(t, rng, d),
        }
    }

    /// `run`, calling `observe(precinct, true_votes, reported_votes)` for every precinct; None
    /// (and nothing simulated) for pooled, which draws no precinct counts.
    pub fn run_observed<F: FnMut(usize, &[u64], &[u64])>(
        &mut self,
        rng: &mut Rng,
        d: &Draw,
        observe: F,
    ) -> Option<Totals> {
        match self {
            Sampler::Precincts(s) => Some(s.run_observed(rng, d, observe)),
            Sampler::Pooled(..) => None,
        }
    }

    /// Whether each precinct's count was irregular in the last trial.
    pub fn irregular(&self) -> &[bool] {
        &self.simulator().irregular
    }
}
