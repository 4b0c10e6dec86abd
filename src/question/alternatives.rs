//! The answer under other priors (`inference.alternatives`), by reweighting the same trials.
//!
//! A trial carries the weight w = prior x likelihood / proposal. Under another prior p' for some
//! unknowns in place of the scenario's p, the same trial's weight is w x p'(theta) / p(theta):
//! the proposal and the likelihood do not change. That is exact wherever p' lives inside p's
//! support, which every proposal covers; an alternative reaching beyond it is refused, since no
//! trial drew the values it adds (run the scenario with that prior instead). The sums stream,
//! merge and resume like every other sum; each alternative's effective sample size says how many
//! of the trials it keeps.

use crate::model::Model;
use crate::model::prior::Dist;
use crate::numeric::math;
use crate::numeric::stats::{Estimate, Proportion, Weights};
use crate::question::unknowns::{Space, log_density};
use serde::{Deserialize, Serialize};

/// One alternative, resolved against the model's unknowns.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    /// (index in `Space` order, the scenario's prior, the alternative's).
    changes: Vec<(usize, Dist, Dist)>,
    /// "transfer.intensity Uniform(0, 0.4)", one per change.
    pub priors: Vec<String>,
}

impl Resolved {
    /// ln p'(theta) - ln p(theta) over the changed unknowns (-inf outside the alternative).
    #[inline]
    pub fn log_ratio(&self, theta: &[f64]) -> f64 {
        self.changes
            .iter()
            .map(|&(i, p, q)| log_density(&q, theta[i]) - log_density(&p, theta[i]))
            .sum()
    }
}

/// The model's alternatives resolved against its unknowns, or the first problem as a message
/// naming the field: an unknown the model does not have, a fixed value (no density to reweight
/// by), or a prior reaching beyond the scenario's own.
pub fn resolve(model: &Model) -> Result<Vec<Resolved>, String> {
    let Some(inv) = &model.inverse else {
        return Ok(Vec::new());
    };
    let space = Space::new(model);
    inv.alternatives
        .iter()
        .map(|a| {
            let mut changes = Vec::new();
            let mut priors = Vec::new();
            for (name, alt, field) in &a.priors {
                let Some(i) = space.params.iter().position(|p| &p.name == name) else {
                    let names: Vec<&str> = space.params.iter().map(|p| p.name.as_str()).collect();
                    return Err(format!(
                        "field `{field}`: \"{name}\" is not one of this scenario's unknowns ({})",
                        names.join(", ")
                    ));
                };
                let p = space.params[i].prior;
                if matches!(alt, Dist::Fixed(_)) || matches!(alt, Dist::Uniform(a, b) if a >= b) {
                    return Err(format!(
                        "field `{field}`: a fixed value (or a uniform of no width) has no density to reweight the trials by; give a narrow `uniform` instead, or fix the value in the scenario and run it"
                    ));
                }
                let ((lo, hi), (a_lo, a_hi)) = (p.support(), alt.support());
                if a_lo < lo || a_hi > hi {
                    return Err(format!(
                        "field `{field}`: reaches beyond the scenario's prior {} (from {lo} to {hi}), where no trial was drawn; keep it inside, or give the scenario this prior and run it",
                        p.describe()
                    ));
                }
                changes.push((i, p, *alt));
                priors.push(format!("{name} {}", alt.describe()));
            }
            Ok(Resolved {
                name: a.name.clone(),
                changes,
                priors,
            })
        })
        .collect()
}

/// The reweighted trials of one alternative.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sums {
    weights: Weights,
    hits: Proportion,
}

impl Sums {
    /// Adds a trial of weight `w` (under the scenario's priors) whose weight under the
    /// alternative is w x exp(`log_ratio`), with the headline event `hit`.
    #[inline]
    pub fn add(&mut self, w: f64, log_ratio: f64, hit: bool) {
        let w = if w > 0.0 {
            w * math::exp(log_ratio)
        } else {
            0.0
        };
        self.weights.add(w);
        self.hits.add(hit, w);
    }

    /// Adds the sums of other trials (exact).
    pub fn merge(&mut self, o: &Sums) {
        self.weights.merge(&o.weights);
        self.hits.merge(&o.hits);
    }
}

/// The answer under one alternative, as published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlternativeAnswer {
    pub name: String,
    /// The priors it changes ("transfer.intensity Uniform(0, 0.4)").
    pub priors: Vec<String>,
    /// The headline under it; None where fewer than 30 effective trials remain.
    pub headline: Option<Estimate>,
    /// Effective sample size of the reweighted trials.
    pub ess: f64,
}

/// The published answer of `r` from its sums.
pub fn answer(r: &Resolved, s: &Sums) -> AlternativeAnswer {
    let ess = s.weights.ess();
    AlternativeAnswer {
        name: r.name.clone(),
        priors: r.priors.clone(),
        headline: (ess >= crate::question::rests_on::MIN_ESS).then(|| s.weights.estimate(&s.hits)),
        ess,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narrower_uniform_keeps_only_its_trials_and_weighs_them_alike() {
        let r = Resolved {
            name: "half".into(),
            changes: vec![(0, Dist::Uniform(0.0, 0.8), Dist::Uniform(0.0, 0.4))],
            priors: vec![],
        };
        // Inside: twice the density; outside: none.
        assert!((r.log_ratio(&[0.1]) - math::ln(2.0)).abs() < 1e-12);
        assert_eq!(r.log_ratio(&[0.5]), f64::NEG_INFINITY);
        let mut s = Sums::default();
        for i in 0..100 {
            let x = (i as f64 + 0.5) / 125.0; // 0.004 to 0.796
            s.add(1.0, r.log_ratio(&[x]), x < 0.2);
        }
        let a = answer(&r, &s);
        // 50 trials below 0.4, 25 of them below 0.2.
        assert_eq!(a.ess, 50.0);
        assert_eq!(a.headline.unwrap().estimate, 0.5);
    }
}
