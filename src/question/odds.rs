//! How much the evidence changed the odds of the headline event (some focus party truly at or
//! over the threshold): the Bayes factor (posterior odds over prior odds, the same for any prior
//! that differs from the scenario's only in the total weight it gives the event), and the
//! probability the evidence would give at even prior odds.
//!
//! The inverse run's trials are drawn near the official result, so they cannot say how likely
//! the event was before any evidence. That comes from a pass of its own: elections simulated
//! from the priors alone (the forward question on the same country, the same seed's layout and
//! sampler), on trials numbered from `PRIOR_FIRST`, far past any run's own, so the pass is the
//! same whatever the thread count, and the same after shards are merged.

use crate::engine::summary::Accumulator;
use crate::engine::{self, Plan};
use crate::model::Model;
use crate::numeric::math;
use crate::numeric::stats::Estimate;
use serde::Serialize;

/// Trials of the prior pass (at most the run's own count): the Bayes factor to about 10-20%
/// (a 95% interval) where the prior probability is between 0.1 and 0.9 (at 0.94, about 20%).
pub const PRIOR_TRIALS: u64 = 2_048;
/// The prior pass's first trial number (a multiple of the batch size).
const PRIOR_FIRST: u64 = 1 << 40;

/// The evidence's effect on the odds of the headline event.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Odds {
    /// P(event) under the priors alone.
    pub prior: Estimate,
    /// Elections simulated from the priors for `prior`.
    pub prior_trials: u64,
    /// Posterior odds / prior odds.
    pub bayes_factor: f64,
    /// 95% interval of the Bayes factor from the Monte Carlo error of both probabilities.
    pub bayes_factor_ci95: [f64; 2],
    /// P(event | evidence) had the prior odds been even: bayes_factor / (1 + bayes_factor).
    pub at_even_odds: f64,
}

/// The prior pass for `plan`'s run: P(event) among min(`plan.trials`, `PRIOR_TRIALS`) elections
/// drawn from the priors, and their count; None if it was stopped (Ctrl-C) before the end.
/// `progress(done)` counts the pass's trials.
pub fn prior_probability(
    model: &Model,
    plan: &Plan,
    mut progress: impl FnMut(u64),
) -> Option<(Estimate, u64)> {
    let n = plan.trials.min(PRIOR_TRIALS);
    let mut acc = Accumulator::new(model);
    let done = engine::run_forward(
        model,
        plan,
        &mut acc,
        PRIOR_FIRST,
        PRIOR_FIRST + n,
        |done| progress(done - PRIOR_FIRST),
    );
    (done == PRIOR_FIRST + n).then(|| (acc.results(model).p_any_true_cross, n))
}

/// The Bayes factor of the posterior probability `posterior` against the prior one; None where
/// either is 0 or 1 (odds of 0 or infinity: the factor has no finite estimate).
pub fn odds(posterior: &Estimate, prior: &Estimate, prior_trials: u64) -> Option<Odds> {
    let (p, q) = (posterior.estimate, prior.estimate);
    let inside = |x: f64| x > 0.0 && x < 1.0;
    if !inside(p) || !inside(q) {
        return None;
    }
    let logit = |x: f64| math::ln(x / (1.0 - x));
    let log_bf = logit(p) - logit(q);
    // Delta method: the s.e. of a logit is s.e. / (x (1 - x)); the two passes are independent.
    let se = ((posterior.mcse / (p * (1.0 - p))).powi(2) + (prior.mcse / (q * (1.0 - q))).powi(2))
        .sqrt();
    let bayes_factor = math::exp(log_bf);
    Some(Odds {
        prior: *prior,
        prior_trials,
        bayes_factor,
        bayes_factor_ci95: [math::exp(log_bf - 1.96 * se), math::exp(log_bf + 1.96 * se)],
        at_even_odds: bayes_factor / (1.0 + bayes_factor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(p: f64, mcse: f64) -> Estimate {
        Estimate {
            estimate: p,
            ci95: [p - 1.96 * mcse, p + 1.96 * mcse],
            mcse,
        }
    }

    #[test]
    fn the_bayes_factor_is_the_ratio_of_posterior_to_prior_odds() {
        // Prior 0.5 (odds 1), posterior 0.2 (odds 0.25): the evidence quartered the odds.
        let o = odds(&est(0.2, 0.01), &est(0.5, 0.01), 2048).unwrap();
        assert!((o.bayes_factor - 0.25).abs() < 1e-12, "{o:?}");
        assert!((o.at_even_odds - 0.2).abs() < 1e-12, "{o:?}");
        // Prior 0.8 (odds 4), posterior 0.5 (odds 1).
        let o = odds(&est(0.5, 0.01), &est(0.8, 0.01), 2048).unwrap();
        assert!((o.bayes_factor - 0.25).abs() < 1e-12, "{o:?}");
        assert!(o.bayes_factor_ci95[0] < 0.25 && 0.25 < o.bayes_factor_ci95[1]);
    }

    #[test]
    fn the_interval_widens_with_either_error_and_certainty_has_no_factor() {
        let narrow = odds(&est(0.2, 0.001), &est(0.5, 0.001), 2048).unwrap();
        let wide = odds(&est(0.2, 0.001), &est(0.5, 0.02), 2048).unwrap();
        let width = |o: &Odds| o.bayes_factor_ci95[1] - o.bayes_factor_ci95[0];
        assert!(width(&wide) > 5.0 * width(&narrow));
        assert!(odds(&est(0.0, 0.0), &est(0.5, 0.01), 2048).is_none());
        assert!(odds(&est(0.3, 0.01), &est(1.0, 0.0), 2048).is_none());
    }
}
