//! Honest counting errors measured in ballots (`count_errors` in a scenario), validated.
//!
//! Three kinds, each with its own prevalence per station (drawn once per election) and an
//! optional urban multiplier: a slip moves k ballots off one party's pile (k from a count law),
//! a zeroed figure loses a party's votes from the protocol, a swap exchanges two parties'
//! figures. Where they act on a station's counts is `election::count_errors`.

use crate::model::prior::{Dist, Number};
use crate::model::problems::{FieldError, Problems};
use crate::model::scenario::{self, CountErrors, SlipTarget};
use crate::sample::count::CountLaw;

/// The most components a mixture count law may have.
pub const MAX_COMPONENTS: usize = 4;

/// Largest mean slip a scenario may give, in ballots (a whole small station).
const MAX_MEAN_BALLOTS: f64 = 1e5;

/// How often an error happens: a prevalence per station and its urban multiplier.
#[derive(Debug, Clone, Copy)]
pub struct Frequency {
    pub prevalence: Dist,
    pub urban_multiplier: f64,
}

impl Frequency {
    /// The probability that a station has the error, given the election's prevalence (capped at
    /// 1 by the caller, like `IrregularModel::irregular_probability`).
    #[inline]
    pub fn probability(&self, prevalence: f64, urban: bool) -> f64 {
        if urban {
            prevalence * self.urban_multiplier
        } else {
            prevalence
        }
    }

    /// The largest probability any station has (for skipping to the next station with an error).
    pub fn highest(&self, prevalence: f64) -> f64 {
        (prevalence * self.urban_multiplier.max(1.0)).min(1.0)
    }
}

/// A count law, validated: the means are priors, drawn once per election.
#[derive(Debug, Clone)]
pub enum CountLawModel {
    Poisson(Dist),
    /// Mean and Gamma shape.
    NegativeBinomial(Dist, f64),
    /// (weight, mean) per component, weights summing to 1.
    Mixture(Vec<(f64, Dist)>),
}

impl CountLawModel {
    /// The means' priors, in the order `Draw`'s `slip_means` holds them.
    pub fn means(&self) -> Vec<Dist> {
        match self {
            CountLawModel::Poisson(m) | CountLawModel::NegativeBinomial(m, _) => vec![*m],
            CountLawModel::Mixture(c) => c.iter().map(|x| x.1).collect(),
        }
    }

    /// P(a slip draws k ballots), or P(at least k) when `at_least` (a slip capped at a pile of
    /// k), for an election's drawn means.
    pub fn probability(&self, means: &[f64], k: u64, at_least: bool) -> f64 {
        match self {
            CountLawModel::Poisson(_) => CountLaw::Poisson(means[0]).probability(k, at_least),
            CountLawModel::NegativeBinomial(_, shape) => {
                CountLaw::NegativeBinomial(means[0], *shape).probability(k, at_least)
            }
            CountLawModel::Mixture(c) => c
                .iter()
                .zip(means)
                .map(|((w, _), m)| w * CountLaw::Poisson(*m).probability(k, at_least))
                .sum(),
        }
    }

    /// The mean ballots of one slip for an election's drawn means (before the cap at the pile).
    pub fn mean(&self, means: &[f64]) -> f64 {
        match self {
            CountLawModel::Poisson(_) | CountLawModel::NegativeBinomial(..) => means[0],
            CountLawModel::Mixture(c) => c.iter().zip(means).map(|(c, m)| c.0 * m).sum(),
        }
    }
}

/// Slips, validated.
#[derive(Debug, Clone)]
pub struct SlipsModel {
    pub frequency: Frequency,
    pub size: CountLawModel,
    /// Whether each party's pile can lose ballots.
    pub from: Vec<bool>,
    pub to: SlipTarget,
}

/// Zeroed figures, validated.
#[derive(Debug, Clone)]
pub struct ZeroedModel {
    pub frequency: Frequency,
    /// The parties whose figure can be lost.
    pub parties: Vec<usize>,
}

/// Exchanged figures, validated.
#[derive(Debug, Clone)]
pub struct SwappedModel {
    pub frequency: Frequency,
    pub pairs: Vec<(usize, usize)>,
}

/// `count_errors`, validated.
#[derive(Debug, Clone)]
pub struct CountErrorsModel {
    pub slips: Option<SlipsModel>,
    pub zeroed: Option<ZeroedModel>,
    pub swapped: Option<SwappedModel>,
}

/// Validates `count_errors`: every out-of-range number into `chk`, a structural problem as the
/// error. `find` resolves a party id (recording an unknown one in `chk`).
pub(crate) fn build(
    c: &CountErrors,
    n_parties: usize,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<CountErrorsModel, String> {
    if c.slips.is_none() && c.zeroed.is_none() && c.swapped.is_none() {
        return Err(
            "field `count_errors`: empty; give `slips`, `zeroed` or `swapped`, or remove it".into(),
        );
    }
    let frequency = |name: &str, p: &crate::model::prior::Prior, m: &Option<Number>| Frequency {
        prevalence: chk.prior_in(&format!("count_errors.{name}.prevalence"), p, (0.0, 1.0)),
        urban_multiplier: m.as_ref().map_or(1.0, |m| {
            chk.number_in(
                &format!("count_errors.{name}.urban_multiplier"),
                m,
                (0.0, 100.0),
            )
        }),
    };
    let parties = |field: &str, list: &Option<Vec<String>>| -> Result<Vec<usize>, String> {
        match list {
            None => Ok((0..n_parties).collect()),
            Some(l) if l.is_empty() => Err(format!(
                "field `{field}`: empty; name at least one party, or omit it for every party"
            )),
            Some(l) => Ok(l
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    // A party listed twice would be chosen twice as often.
                    if l[..k].contains(id) {
                        chk.push(FieldError::new(
                            format!("{field}[{k}]"),
                            format!("\"{id}\" is listed twice; name each party once"),
                        ));
                    }
                    find(&format!("{field}[{k}]"), id)
                })
                .collect()),
        }
    };
    let slips = match &c.slips {
        None => None,
        Some(s) => {
            let from = parties("count_errors.slips.from", &s.from)?;
            if s.to != SlipTarget::Invalid && n_parties < 2 {
                return Err("field `count_errors.slips.to`: with one party, ballots can only slip to \"invalid\"".into());
            }
            let mut mask = vec![false; n_parties];
            from.iter().for_each(|&j| mask[j] = true);
            Some(SlipsModel {
                frequency: frequency("slips", &s.prevalence, &s.urban_multiplier),
                size: count_law(&s.size, chk)?,
                from: mask,
                to: s.to,
            })
        }
    };
    let zeroed = match &c.zeroed {
        None => None,
        Some(z) => Some(ZeroedModel {
            frequency: frequency("zeroed", &z.prevalence, &z.urban_multiplier),
            parties: parties("count_errors.zeroed.parties", &z.parties)?,
        }),
    };
    let swapped = match &c.swapped {
        None => None,
        Some(s) => {
            let field = "count_errors.swapped.pairs";
            let pairs: Vec<(usize, usize)> = match &s.pairs {
                None => (1..n_parties).map(|j| (j - 1, j)).collect(),
                Some(l) => l
                    .iter()
                    .enumerate()
                    .map(|(k, [a, b])| {
                        (
                            find(&format!("{field}[{k}][0]"), a),
                            find(&format!("{field}[{k}][1]"), b),
                        )
                    })
                    .collect(),
            };
            if pairs.is_empty() {
                return Err(format!(
                    "field `{field}`: no pair to exchange; a swap needs two parties"
                ));
            }
            if let Some(k) = pairs.iter().position(|(a, b)| a == b) {
                chk.push(FieldError::new(
                    format!("{field}[{k}]"),
                    "names one party twice; a swap exchanges two parties' figures",
                ));
            }
            // A pair given twice (in either order) would be chosen twice as often.
            fn unordered([a, b]: &[String; 2]) -> (&String, &String) {
                if a <= b { (a, b) } else { (b, a) }
            }
            if let Some(l) = &s.pairs
                && let Some(k) =
                    (1..l.len()).find(|&k| l[..k].iter().any(|q| unordered(q) == unordered(&l[k])))
            {
                chk.push(FieldError::new(
                    format!("{field}[{k}]"),
                    "repeats an earlier pair; name each pair once",
                ));
            }
            Some(SwappedModel {
                frequency: frequency("swapped", &s.prevalence, &s.urban_multiplier),
                pairs,
            })
        }
    };
    Ok(CountErrorsModel {
        slips,
        zeroed,
        swapped,
    })
}

/// Validates a slip's count law.
fn count_law(law: &scenario::CountLaw, chk: &Problems) -> Result<CountLawModel, String> {
    let field = "count_errors.slips.size";
    let mean = |f: &str, p| chk.prior_in(f, p, (0.0, MAX_MEAN_BALLOTS));
    Ok(match law {
        scenario::CountLaw::Poisson { mean: m } => {
            CountLawModel::Poisson(mean(&format!("{field}.mean"), m))
        }
        scenario::CountLaw::NegativeBinomial { mean: m, shape } => CountLawModel::NegativeBinomial(
            mean(&format!("{field}.mean"), m),
            chk.number_in(&format!("{field}.shape"), shape, (0.01, 1e6)),
        ),
        scenario::CountLaw::Mixture { components } => {
            if components.is_empty() || components.len() > MAX_COMPONENTS {
                return Err(format!(
                    "field `{field}.components`: {} components given, allowed 1 to {MAX_COMPONENTS}",
                    components.len()
                ));
            }
            let parts: Vec<(f64, Dist)> = components
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let f = format!("{field}.components[{k}]");
                    (
                        chk.number_in(&format!("{f}.weight"), &c.weight, (0.0, 1.0)),
                        mean(&format!("{f}.mean"), &c.mean),
                    )
                })
                .collect();
            let total: f64 = parts.iter().map(|p| p.0).sum();
            if (total - 1.0).abs() > 1e-9 {
                chk.push(FieldError::from_message(format!(
                    "field `{field}.components[].weight`: the weights sum to {total}, not 1"
                )));
            }
            CountLawModel::Mixture(parts)
        }
    })
}
