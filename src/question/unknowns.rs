//! The vector of unknowns the inverse question infers, and its prior density.
//!
//! Every prior in the scenario that is not a fixed value is one coordinate: true support of each
//! party (but the remainder), spoiled share, prevalence, each mechanism's probability and
//! intensity, the counting errors' prevalences and slip sizes, the tabulation stage's shares,
//! the observers' assessment rates and the exit polls' bias. Coordinates map onto the
//! engine's `Draw` and the observation model's `ObsDraw`.

use crate::election::draw::Draw;
use crate::model::Model;
use crate::model::prior::Dist;
use crate::numeric::math;
use crate::numeric::stats::ln_gamma;

/// Observation-model unknowns of one trial.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObsDraw {
    pub sensitivity: f64,
    pub false_positive: f64,
    pub exit_bias: f64,
}

/// Where a coordinate lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Support(usize),
    Spoiled,
    Prevalence,
    Transfer(usize),
    Stuffing(usize),
    Invalidation(usize),
    Miscount(usize),
    Rewrite,
    Slips,
    SlipMean(usize),
    Zeroed,
    Swapped,
    TabulationTransfer,
    TabulationAdded,
    Sensitivity,
    FalsePositive,
    ExitBias,
}

/// One unknown.
#[derive(Debug, Clone)]
pub struct Unknown {
    pub name: String,
    pub slot: Slot,
    pub prior: Dist,
}

impl Unknown {
    /// The scenario path `recount sweep --param` takes for this unknown.
    pub fn sweep_path(&self) -> String {
        match self.slot {
            Slot::Support(j) => format!("parties[{j}].support"),
            Slot::Sensitivity | Slot::FalsePositive | Slot::ExitBias => {
                format!("observations.{}", self.name)
            }
            // The others are named by their path (`irregularities.` and `count_errors.` may be
            // left out).
            _ => self.name.clone(),
        }
    }
}

/// The unknowns of a model, in a fixed order.
#[derive(Debug, Clone)]
pub struct Space {
    pub params: Vec<Unknown>,
}

impl Space {
    /// Every non-fixed prior of `model` (and of its observation model).
    pub fn new(model: &Model) -> Space {
        let mut params = Vec::new();
        let mut push = |name: String, slot: Slot, prior: Dist| {
            if !matches!(prior, Dist::Fixed(_)) {
                params.push(Unknown { name, slot, prior });
            }
        };
        for (j, s) in model.support.iter().enumerate() {
            if let Some(d) = s {
                push(
                    format!("support.{}", model.parties[j].id),
                    Slot::Support(j),
                    *d,
                );
            }
        }
        push("spoiled".into(), Slot::Spoiled, model.spoiled);
        let ir = &model.irregular;
        push("prevalence".into(), Slot::Prevalence, ir.prevalence);
        for (name, mm, slot) in [
            (
                "transfer",
                &ir.transfer,
                Slot::Transfer as fn(usize) -> Slot,
            ),
            ("stuffing", &ir.stuffing, Slot::Stuffing),
            ("invalidation", &ir.invalidation, Slot::Invalidation),
        ] {
            if let Some(m) = mm {
                push(format!("{name}.probability"), slot(0), m.probability);
                push(format!("{name}.intensity"), slot(1), m.intensity);
            }
        }
        if let Some(m) = &ir.miscount {
            push(
                "miscount.probability".into(),
                Slot::Miscount(0),
                m.probability,
            );
            push("miscount.intensity".into(), Slot::Miscount(1), m.intensity);
        }
        if let Some(r) = &ir.rewrite {
            push("rewrite.probability".into(), Slot::Rewrite, r.probability);
        }
        if let Some(c) = &model.count_errors {
            if let Some(s) = &c.slips {
                push(
                    "slips.prevalence".into(),
                    Slot::Slips,
                    s.frequency.prevalence,
                );
                let means = s.size.means();
                for (k, prior) in means.iter().enumerate() {
                    let name = if means.len() == 1 {
                        "slips.size.mean".to_string()
                    } else {
                        format!("slips.size.components[{k}].mean")
                    };
                    push(name, Slot::SlipMean(k), *prior);
                }
            }
            if let Some(z) = &c.zeroed {
                push(
                    "zeroed.prevalence".into(),
                    Slot::Zeroed,
                    z.frequency.prevalence,
                );
            }
            if let Some(s) = &c.swapped {
                push(
                    "swapped.prevalence".into(),
                    Slot::Swapped,
                    s.frequency.prevalence,
                );
            }
        }
        if let Some(t) = &model.tabulation {
            push(
                "tabulation.transfer".into(),
                Slot::TabulationTransfer,
                t.transfer,
            );
            push("tabulation.added".into(), Slot::TabulationAdded, t.added);
        }
        if let Some(inv) = &model.inverse {
            push(
                "observers.p_negative_if_irregular".into(),
                Slot::Sensitivity,
                inv.sensitivity,
            );
            push(
                "observers.p_negative_if_regular".into(),
                Slot::FalsePositive,
                inv.false_positive,
            );
            if let Some(e) = &inv.exit_poll {
                push("exit_poll.bias".into(), Slot::ExitBias, e.bias);
            }
        }
        Space { params }
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Reads the coordinates out of a trial's draws.
    pub fn read(&self, d: &Draw, o: &ObsDraw, out: &mut [f64]) {
        for (x, p) in out.iter_mut().zip(&self.params) {
            *x = match p.slot {
                Slot::Support(j) => d.support[j],
                Slot::Spoiled => d.spoiled,
                Slot::Prevalence => d.prevalence,
                Slot::Transfer(k) => d.transfer[k],
                Slot::Stuffing(k) => d.stuffing[k],
                Slot::Invalidation(k) => d.invalidation[k],
                Slot::Miscount(k) => d.miscount[k],
                Slot::Rewrite => d.rewrite,
                Slot::Slips => d.count.slips,
                Slot::SlipMean(k) => d.count.slip_means[k],
                Slot::Zeroed => d.count.zeroed,
                Slot::Swapped => d.count.swapped,
                Slot::TabulationTransfer => d.tabulation[0],
                Slot::TabulationAdded => d.tabulation[1],
                Slot::Sensitivity => o.sensitivity,
                Slot::FalsePositive => o.false_positive,
                Slot::ExitBias => o.exit_bias,
            };
        }
    }
}

/// Log density of a prior at `x`.
pub fn log_density(d: &Dist, x: f64) -> f64 {
    match *d {
        Dist::Fixed(v) => {
            if x == v {
                0.0
            } else {
                f64::NEG_INFINITY
            }
        }
        Dist::Uniform(lo, hi) => {
            if x >= lo && x <= hi && hi > lo {
                -math::ln(hi - lo)
            } else {
                f64::NEG_INFINITY
            }
        }
        Dist::Beta(a, b) => {
            if x <= 0.0 || x >= 1.0 {
                f64::NEG_INFINITY
            } else {
                ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b)
                    + (a - 1.0) * math::ln(x)
                    + (b - 1.0) * math::ln(1.0 - x)
            }
        }
    }
}
