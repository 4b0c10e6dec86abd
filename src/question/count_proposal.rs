//! The guided proposal for the counting errors' unknowns when recounts weigh them
//! (`observations.recounts`), and the offset that keeps the recounts' weights in range.
//!
//! Drawn from their priors, the counting errors' prevalences and slip means would mostly miss
//! what a few hundred recounts say, and the effective sample size would fall with every station
//! recounted. Their likelihood depends on these few unknowns alone and is cheap, so before any
//! trial the proposal is fitted by adaptive importance sampling on a fixed stream: `ROUNDS`
//! rounds of `POOL` draws, each round's weighted mean and spread (widened by `WIDEN`) giving the
//! next round's independent truncated normals. Trials then draw from the last fit and carry
//! prior / proposal in their weight, so the answer is the one prior draws would give. The fit
//! depends on the scenario only, never on the seed or the threads, so runs, shards and resumed
//! runs share it.

use crate::election::count_errors;
use crate::election::draw::CountDraw;
use crate::model::prior::Dist;
use crate::model::scenario::ProposalKind;
use crate::model::{InverseModel, Model};
use crate::numeric::math;
use crate::question::unknowns::log_density;
use crate::sample::rng::{Rng, stream};
use crate::sample::truncated::truncated_normal;

/// Draws per round of the fit.
const POOL: usize = 2048;
/// Rounds of the fit (the first draws from the priors).
const ROUNDS: usize = 3;
/// How much wider than the fitted posterior spread the proposal is, so that its tails cover the
/// posterior's (a proposal narrower than the target gives a few huge weights).
const WIDEN: f64 = 1.5;
/// The fixed stream the fit draws from.
const FIT_STREAM: u64 = 0x7265_636f_756e_7473;

/// One unknown the proposal draws: where it sits in `CountDraw`, its prior, and the fitted
/// normal.
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: usize,
    prior: Dist,
    mu: f64,
    sd: f64,
}

/// The counting errors' unknown at `index`: the slips' prevalence, the slips' law's means, the
/// zeroed figures' prevalence, the swaps' prevalence.
fn value(d: &mut CountDraw, index: usize) -> &mut f64 {
    match index {
        0 => &mut d.slips,
        i if i <= d.slip_means.len() => &mut d.slip_means[i - 1],
        i if i == d.slip_means.len() + 1 => &mut d.zeroed,
        _ => &mut d.swapped,
    }
}

/// The guided proposal and the recounts' offset.
#[derive(Debug, Clone)]
pub struct CountProposal {
    /// The unknowns the proposal draws (none with `"proposal": "prior"`).
    slots: Vec<Slot>,
    /// The largest recount log-likelihood the fit saw, subtracted from every trial's, so that
    /// exp(ll - offset) neither underflows for good trials nor overflows.
    pub offset: f64,
}

impl CountProposal {
    /// The proposal for a scenario with recounts (None without).
    pub fn new(model: &Model, inv: &InverseModel) -> Option<CountProposal> {
        let (r, c) = (inv.recounts.as_ref()?, model.count_errors.as_ref()?);
        let mut priors: Vec<(usize, Dist)> = Vec::new();
        if let Some(s) = &c.slips {
            priors.push((0, s.frequency.prevalence));
            priors.extend(
                s.size
                    .means()
                    .into_iter()
                    .enumerate()
                    .map(|(k, m)| (k + 1, m)),
            );
        }
        let after_means = CountDraw::default().slip_means.len() + 1;
        if let Some(z) = &c.zeroed {
            priors.push((after_means, z.frequency.prevalence));
        }
        if let Some(s) = &c.swapped {
            priors.push((after_means + 1, s.frequency.prevalence));
        }
        priors.retain(|(_, p)| !matches!(p, Dist::Fixed(_)));
        let guided = inv.proposal == ProposalKind::Guided && !priors.is_empty();
        let mut rng = stream(FIT_STREAM, 0);
        let mut fitted: Vec<Slot> = Vec::new();
        let mut best = f64::NEG_INFINITY;
        for _ in 0..if guided { ROUNDS } else { 1 } {
            let this = CountProposal {
                slots: fitted.clone(),
                offset: 0.0,
            };
            let mut pool: Vec<(Vec<f64>, f64)> = Vec::with_capacity(POOL);
            for _ in 0..POOL {
                let mut d = count_errors::draw(c, &mut rng);
                let log_ratio = this.propose(&mut rng, &mut d);
                let ll = r.log_likelihood(c, d.slips, &d.slip_means, d.zeroed, d.swapped);
                best = best.max(ll);
                let x = priors.iter().map(|&(i, _)| *value(&mut d, i)).collect();
                pool.push((x, ll + log_ratio));
            }
            let top = pool.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            if !top.is_finite() {
                // No draw explains the recounts: keep the last fit (the weights will say so).
                break;
            }
            let w: Vec<f64> = pool.iter().map(|p| math::exp(p.1 - top)).collect();
            let total: f64 = w.iter().sum();
            fitted = priors
                .iter()
                .enumerate()
                .map(|(k, &(index, prior))| {
                    let mu = pool.iter().zip(&w).map(|(p, w)| w * p.0[k]).sum::<f64>() / total;
                    let var = pool
                        .iter()
                        .zip(&w)
                        .map(|(p, w)| w * (p.0[k] - mu) * (p.0[k] - mu))
                        .sum::<f64>()
                        / total;
                    // A pool dominated by one draw has no spread: keep a sliver of the prior's.
                    let (lo, hi) = prior.support();
                    let sd = (WIDEN * var.sqrt()).max(1e-3 * (hi - lo));
                    Slot {
                        index,
                        prior,
                        mu,
                        sd,
                    }
                })
                .collect();
        }
        Some(CountProposal {
            slots: if guided { fitted } else { Vec::new() },
            offset: if best.is_finite() { best } else { 0.0 },
        })
    }

    /// Replaces the guided unknowns of `d` by draws from the proposal and returns log(prior /
    /// proposal) of what it replaced (0 when it draws nothing).
    pub fn propose(&self, rng: &mut Rng, d: &mut CountDraw) -> f64 {
        let mut log_ratio = 0.0;
        for s in &self.slots {
            let (x, log_q) = truncated_normal(rng, s.mu, s.sd, s.prior.support());
            *value(d, s.index) = x;
            log_ratio += log_density(&s.prior, x) - log_q;
        }
        log_ratio
    }
}
