//! Simulation-based calibration of an inverse scenario (`recount check`): asked of elections
//! whose truth is known, does the inverse question give posteriors that cover the truth as often
//! as they say?
//!
//! Each replication draws a whole election from the scenario's priors (the truth) and publishes
//! what the scenario's evidence would show of it: each compared party's reported share (and the
//! turnout and invalid share where the scenario compares them) plus a draw of the kernel's own
//! noise, so that the ABC posterior is the exact posterior of what was published, and the
//! observers' verdicts on a sample of its stations. It then asks the inverse question of that
//! evidence with the scenario's own settings, on the same country. For a calibrated answer the
//! truth's rank in its posterior (the posterior CDF at the true share) is uniform, the central
//! 50% and 90% ranges cover the truth in 50% and 90% of replications, and the headline
//! probability is right on average. Evidence this check cannot publish yet (exit polls, a
//! preliminary count, recounts, real stations' fingerprint) is refused.

use crate::election::country::Layout;
use crate::election::outcome;
use crate::election::trial::Simulator;
use crate::engine::Plan;
use crate::error::{Error, Result};
use crate::model::load::Loaded;
use crate::model::prior::Number;
use crate::model::scenario::Kernel;
use crate::numeric::stats::chi2_quantile;
use crate::question::inverse;
use crate::question::observe::Observer;
use crate::sample::rng;
use crate::sample::{exact, ziggurat};
use serde::Serialize;

/// The stream a replication's truth is drawn from (apart from its inference's trials).
const TRUTH_STREAM: u64 = 1 << 50;
/// Bins of the rank histogram.
pub const BINS: usize = 10;
/// How many binomial standard deviations a coverage may miss by before it is called off.
const Z: f64 = 3.0;
/// Below this median effective sample size the replications' posteriors rest on a handful of
/// trials.
const MIN_MEDIAN_ESS: f64 = 100.0;

/// One replication: the truth, and where it fell in its posterior.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Replication {
    pub index: u64,
    /// The seed of its country and its inference.
    pub seed: u64,
    /// Why it was set aside (a published share below zero, no trial near the evidence), if it
    /// was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<String>,
    /// Each focus party's true share, and the posterior CDF there.
    pub truth: Vec<f64>,
    pub rank: Vec<f64>,
    /// The posterior headline probability, and whether the headline event truly happened.
    pub headline: f64,
    pub truly: bool,
    pub ess: f64,
    pub pareto_k: Option<f64>,
    pub pareto_k_limit: f64,
}

/// Refuses a scenario whose evidence this check cannot publish, saying why.
pub fn supported(loaded: &Loaded) -> Result<()> {
    let refuse = |what: &str| {
        Err(Error::Usage(format!(
            "{}: recount check cannot yet publish {what} for a simulated election; check a copy of the scenario without it",
            loaded.path.display()
        )))
    };
    let m = &loaded.model;
    let Some(inv) = &m.inverse else {
        return Err(Error::Usage(format!(
            "{}: a forward scenario (no observations): there is no inverse answer to calibrate",
            loaded.path.display()
        )));
    };
    if inv.exit_poll.is_some() {
        return refuse("exit polls (observations.exit_poll)");
    }
    if !inv.preliminary.is_empty() {
        return refuse("a preliminary count (observations.preliminary)");
    }
    if inv.recounts.is_some() {
        return refuse("recounts (observations.recounts)");
    }
    if inv.fingerprint.is_some() || m.stations.is_some() {
        return refuse("real stations' protocols");
    }
    Ok(())
}

/// Replication `index` of a check of `loaded` with `plan`'s trials, seed and sampler per
/// inference (`supported` must hold); `progress(done)` counts its inference's trials.
pub fn replicate(
    loaded: &Loaded,
    plan: &Plan,
    index: u64,
    progress: impl FnMut(u64),
) -> Result<Replication> {
    let m = &loaded.model;
    let inv = m.inverse.as_ref().expect("an inverse scenario");
    let seed = plan.seed.wrapping_add(index);
    let layout = Layout::draw(m, seed);
    let mut sim = Simulator::new(m, &layout);
    let mut rng = rng::stream(seed, TRUTH_STREAM);
    let draw = sim.draw(&mut rng);
    let sensitivity = inv.sensitivity.sample(&mut rng);
    let false_positive = inv.false_positive.sample(&mut rng);
    let totals = sim.run(&mut rng, &draw);
    let rec = outcome::record(m, layout.len(), &draw, &totals);
    let irregular = Observer::new(inv, &layout).irregular_in_sample(&mut rng, &sim.irregular);
    let negative = exact::binomial(&mut rng, irregular as u64, sensitivity)
        + exact::binomial(&mut rng, (inv.observed - irregular) as u64, false_positive);
    let truth: Vec<f64> = m.focus.iter().map(|&j| rec.true_share[j]).collect();
    let truly = truth.iter().any(|&s| s >= m.threshold);
    let mut out = Replication {
        index,
        seed,
        set_aside: None,
        truth: truth.clone(),
        rank: vec![f64::NAN; truth.len()],
        headline: f64::NAN,
        truly,
        ess: 0.0,
        pareto_k: None,
        pareto_k_limit: f64::NAN,
    };
    // What the evidence publishes: the compared figures with the kernel's noise.
    let mut noisy = |x: f64| {
        x + inv.tolerance
            * match inv.kernel {
                Kernel::Gaussian => ziggurat::standard_normal(&mut rng),
                Kernel::Uniform => 2.0 * exact::uniform(&mut rng) - 1.0,
            }
    };
    let mut s = loaded.scenario.clone();
    let total: f64 = s
        .parties
        .iter()
        .filter_map(|p| p.official_votes.as_ref().map(|v| v.value))
        .sum();
    let compared: Vec<(usize, f64)> = inv
        .compare
        .iter()
        .map(|&(j, _)| (j, noisy(rec.reported_share[j])))
        .collect();
    let turnout = inv.turnout.map(|_| noisy(rec.reported_turnout));
    let invalid = inv.invalid.map(|_| noisy(rec.reported_invalid));
    let published: Vec<f64> = compared
        .iter()
        .map(|c| c.1)
        .chain(turnout)
        .chain(invalid)
        .collect();
    if published.iter().any(|&x| !(0.0..=1.0).contains(&x)) {
        out.set_aside = Some("the kernel's noise took a published figure out of [0, 1]".into());
        return Ok(out);
    }
    // The compared parties get their published shares of the official total; the others share
    // the rest as they shared the reported count.
    let given: f64 = compared.iter().map(|c| c.1).sum();
    let others: f64 = (0..m.n_parties())
        .filter(|j| !compared.iter().any(|c| c.0 == *j))
        .map(|j| rec.reported_share[j])
        .sum();
    let source = format!("recount check: replication {index}, seed {seed}");
    let number = |value: f64| Number {
        value,
        source: source.clone(),
    };
    for (j, party) in s.parties.iter_mut().enumerate() {
        let share = match compared.iter().find(|c| c.0 == j) {
            Some(c) => c.1,
            None if others > 0.0 => (1.0 - given).max(0.0) * rec.reported_share[j] / others,
            None => 0.0,
        };
        party.official_votes = Some(number((share * total).round()));
    }
    if let Some(obs) = s.observations.as_mut() {
        if let Some(o) = obs.observers.as_mut() {
            o.negative_share = number(negative as f64 / inv.observed as f64);
        }
        if let Some(t) = turnout {
            obs.turnout = Some(number(t));
        }
        if let Some(v) = invalid {
            obs.invalid = Some(number(v));
        }
    }
    let observed = Loaded::new(loaded.name.clone(), loaded.path.clone(), s)?;
    let plan = Plan { seed, ..*plan };
    let (acc, summary) = inverse::run(&observed.model, &plan, progress);
    out.ess = summary.ess;
    out.pareto_k = summary.pareto_k;
    out.pareto_k_limit = summary.pareto_k_limit;
    if summary.ess < 1.0 {
        out.set_aside = Some("no trial came near the published figures".into());
        return Ok(out);
    }
    out.rank = m
        .focus
        .iter()
        .zip(&truth)
        .map(|(&j, &t)| acc.true_share_cdf(j, t))
        .collect();
    out.headline = acc.results(&observed.model).p_any_true_cross.estimate;
    Ok(out)
}

/// The calibration of one focus party's true share.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartyCalibration {
    pub party: String,
    /// Replications whose rank fell in each tenth.
    pub ranks: [u64; BINS],
    pub chi2: f64,
    /// The chi-square above which the ranks are not uniform (p about 0.001).
    pub chi2_critical: f64,
    /// Shares of replications whose truth lay in the posterior's central 50% and 90%.
    pub covered_50: f64,
    pub covered_90: f64,
}

/// The verdict of a check.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub replications: u64,
    pub set_aside: u64,
    pub parties: Vec<PartyCalibration>,
    /// The mean posterior headline probability, and the share of replications where the event
    /// truly happened, with its standard error if the headline is calibrated.
    pub headline_mean: f64,
    pub headline_truly: f64,
    pub headline_se: f64,
    pub median_ess: f64,
    /// Replications whose weights were too heavy-tailed to trust.
    pub heavy_tailed: u64,
    /// Calibrated, or not.
    pub calibrated: bool,
    /// Why not, in words (empty when calibrated).
    pub reasons: Vec<String>,
}

/// The verdict on `reps` for the focus parties `names`.
pub fn verdict(reps: &[Replication], names: &[String]) -> Verdict {
    let used: Vec<&Replication> = reps.iter().filter(|r| r.set_aside.is_none()).collect();
    let n = used.len() as f64;
    let mut reasons = Vec::new();
    let set_aside = (reps.len() - used.len()) as u64;
    if set_aside as f64 > 0.05 * reps.len() as f64 {
        reasons.push(format!(
            "{set_aside} of {} replications were set aside (no trial near the published figures, or noise beyond [0, 1])",
            reps.len()
        ));
    }
    let band = |nominal: f64| Z * (nominal * (1.0 - nominal) / n.max(1.0)).sqrt();
    let parties: Vec<PartyCalibration> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut ranks = [0u64; BINS];
            let (mut c50, mut c90) = (0.0, 0.0);
            for r in &used {
                let u = r.rank[i];
                ranks[((u * BINS as f64) as usize).min(BINS - 1)] += 1;
                c50 += (0.25..=0.75).contains(&u) as u8 as f64;
                c90 += (0.05..=0.95).contains(&u) as u8 as f64;
            }
            let expected = n / BINS as f64;
            let chi2 = ranks
                .iter()
                .map(|&c| (c as f64 - expected).powi(2) / expected.max(1e-12))
                .sum();
            let p = PartyCalibration {
                party: name.clone(),
                ranks,
                chi2,
                chi2_critical: chi2_quantile(BINS as f64 - 1.0, 3.090_232),
                covered_50: c50 / n.max(1.0),
                covered_90: c90 / n.max(1.0),
            };
            if p.chi2 > p.chi2_critical {
                reasons.push(format!(
                    "{name}'s true share is not uniformly placed in its posteriors (ranks {:?}, chi-square {:.1} over {:.1})",
                    p.ranks, p.chi2, p.chi2_critical
                ));
            }
            for (covered, nominal) in [(p.covered_50, 0.5), (p.covered_90, 0.9)] {
                if (covered - nominal).abs() > band(nominal) {
                    reasons.push(format!(
                        "{name}'s central {:.0}% range covered the truth in {:.1}% of replications (allowed {:.1}-{:.1}%)",
                        100.0 * nominal,
                        100.0 * covered,
                        100.0 * (nominal - band(nominal)),
                        100.0 * (nominal + band(nominal))
                    ));
                }
            }
            p
        })
        .collect();
    let headline_mean = used.iter().map(|r| r.headline).sum::<f64>() / n.max(1.0);
    let headline_truly = used.iter().filter(|r| r.truly).count() as f64 / n.max(1.0);
    let headline_se = used
        .iter()
        .map(|r| r.headline * (1.0 - r.headline))
        .sum::<f64>()
        .sqrt()
        / n.max(1.0);
    if (headline_truly - headline_mean).abs() > Z * headline_se.max(0.5 / n.max(1.0)) {
        reasons.push(format!(
            "the headline event truly happened in {:.1}% of replications, but its posterior probability averaged {:.1}%",
            100.0 * headline_truly,
            100.0 * headline_mean
        ));
    }
    let mut ess: Vec<f64> = used.iter().map(|r| r.ess).collect();
    ess.sort_by(f64::total_cmp);
    let median_ess = ess.get(ess.len() / 2).copied().unwrap_or(0.0);
    if median_ess < MIN_MEDIAN_ESS {
        reasons.push(format!(
            "a handful of trials carry each answer (median effective sample size {median_ess:.0}): the tolerance is below the simulation's own noise, or the trials too few"
        ));
    }
    let heavy_tailed = used
        .iter()
        .filter(|r| r.pareto_k.is_some_and(|k| k > r.pareto_k_limit))
        .count() as u64;
    if heavy_tailed as f64 > 0.2 * n {
        reasons.push(format!(
            "the weights were too heavy-tailed to trust in {heavy_tailed} of {} replications",
            used.len()
        ));
    }
    if used.is_empty() {
        reasons.push("no replication could be used".into());
    }
    Verdict {
        replications: reps.len() as u64,
        set_aside,
        parties,
        headline_mean,
        headline_truly,
        headline_se,
        median_ess,
        heavy_tailed,
        calibrated: reasons.is_empty(),
        reasons,
    }
}
