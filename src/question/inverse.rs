//! The inverse question by approximate Bayesian computation (docs/model.md, "The inverse
//! question"): P(party truly >= threshold | official totals, observers' sample, exit polls).
//!
//! The target is the ABC posterior: prior(unknowns) x P(observers' verdicts | simulated
//! election) x P(exit polls | true shares) x kernel(reported - official shares, tolerance). It is
//! estimated by importance sampling: each trial proposes the unknowns, simulates a whole
//! election and the observers' visit, and carries the weight target / proposal.
//!
//! Plain ABC proposes from the prior and wastes almost every trial, since few land near the
//! official result. The "guided" proposal (default) draws the irregularity parameters and the
//! observation model from their priors, then draws the true support of each compared party from
//! a normal centred on the support that would reproduce its official share on average, given
//! those irregularities (`expect`, a closed-form mean field), with a spread of 1.1 tolerances
//! translated into support. The weights correct exactly for that choice, so the posterior is the
//! same as plain ABC's (a test checks this on a small case), with far more effective samples.

use crate::election::country::Layout;
use crate::election::draw::{CountDraw, Draw};
use crate::election::outcome::{self, Record};
use crate::election::sampler::Sampler;
use crate::election::trial::Simulator;
use crate::engine::summary::Accumulator;
use crate::engine::{self, Plan};
use crate::model::protocols::{FeatureSums, point};
use crate::model::recounts::RecountsInfo;
use crate::model::scenario::{Kernel, ProposalKind};
use crate::model::{InverseModel, Model};
use crate::numeric::math;
use crate::numeric::stats::{Distribution, Summary};
use crate::numeric::tail::{self, Largest};
use crate::question::alternatives;
use crate::question::count_proposal::CountProposal;
use crate::question::mean_field::{self, Groups};
use crate::question::observe::{self, Observer};
use crate::question::rests_on::{self, Dependence, Profile};
use crate::question::unknowns::{ObsDraw, Space, log_density};
use crate::sample::kind::SamplerKind;
use crate::sample::rng::Rng;
use crate::sample::truncated::truncated_normal;
use serde::{Deserialize, Serialize};

/// Proposal spread in kernel tolerances.
const SPREAD: f64 = 1.1;
/// Fixed-point iterations that solve for the support reproducing the official shares.
const SOLVE_ITERATIONS: usize = 12;
/// Below this effective sample size the answer is flagged as unreliable.
pub const MIN_ESS: f64 = 1000.0;

/// Posterior of one unknown beside its prior.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParamSummary {
    pub name: String,
    pub prior: String,
    pub prior_mean: f64,
    pub prior_q05: f64,
    pub prior_q95: f64,
    pub posterior: Summary,
    /// How far the evidence narrowed it, and the headline in each half of its prior.
    pub dependence: Dependence,
}

/// Diagnostics and posteriors of an inverse run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InverseSummary {
    /// Effective sample size (Kish) of the weighted trials.
    pub ess: f64,
    /// The shape of the weights' tail (`numeric::tail`): None where too few trials had weight.
    pub pareto_k: Option<f64>,
    /// The k-hat above which the answer is not to be trusted for this many trials.
    pub pareto_k_limit: f64,
    /// Share of trials whose reported shares all lie within the tolerance of the official ones.
    pub acceptance_rate: f64,
    pub tolerance_pp: f64,
    pub proposal: ProposalKind,
    pub observed_counts: u32,
    pub observed_negative: u32,
    pub parameters: Vec<ParamSummary>,
    /// With real stations: the fingerprint features the trials were weighed against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<FingerprintSummary>,
    /// With `observations.recounts`: the recounts the trials were weighed against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recounts: Option<RecountsInfo>,
    /// With `observations.preliminary`: the published preliminary shares the trials' counts
    /// before the tabulation stage were compared with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preliminary: Vec<PublishedShare>,
    /// The headline under each of `inference.alternatives` (reweighted trials).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<alternatives::AlternativeAnswer>,
    /// How far the evidence moved the headline's odds (the Bayes factor), from a pass of
    /// elections drawn from the priors alone; set once a whole run is complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odds: Option<crate::question::odds::Odds>,
    /// Present when the ESS is too small to trust the figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A party's published share of valid votes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PublishedShare {
    pub party: String,
    pub share: f64,
}

/// The fingerprint the inverse question weighed trials against (`inference.protocols`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FingerprintSummary {
    /// Kernel bandwidth asked for (`inference.protocols.tolerance`), in points.
    pub tolerance_pp: f64,
    /// The bandwidth on each feature in points (the tolerance, or twice the feature's sampling
    /// spread where wider): mean turnout, turnout >= 80%, the 80%/80% corner, correlation.
    pub bandwidths_pp: [f64; 4],
    /// The protocols' features for the beneficiary.
    pub observed: crate::model::protocols::Features,
}

/// One weighted trial.
struct Weighted {
    record: Record,
    theta: Vec<f64>,
    within: bool,
}

/// The inverse question's running sums beyond the accumulator (saved to resume exactly).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InverseState {
    /// Weighted posterior of each unknown, in `Space` order.
    pub posteriors: Vec<Distribution>,
    /// Trials within the tolerance of every compared party.
    pub within: u64,
    /// The headline across each unknown's prior, in `Space` order.
    pub profiles: Vec<Profile>,
    /// The largest weights, for the tail diagnostic (Pareto k-hat).
    pub largest: Largest,
    /// The trials reweighted to each of `inference.alternatives`, in order.
    pub alternatives: Vec<alternatives::Sums>,
}

impl InverseState {
    /// No trials yet, for `model`'s unknowns.
    pub fn for_model(model: &Model) -> InverseState {
        InverseState::new(&Space::new(model), resolved(model).len())
    }

    fn new(space: &Space, alternatives: usize) -> InverseState {
        InverseState {
            posteriors: space
                .params
                .iter()
                .map(|p| {
                    let (lo, hi) = p.prior.support();
                    Distribution::with_range(lo, hi)
                })
                .collect(),
            within: 0,
            profiles: space
                .params
                .iter()
                .map(|p| Profile::new(|q| p.prior.quantile(q)))
                .collect(),
            largest: Largest::default(),
            alternatives: vec![alternatives::Sums::default(); alternatives],
        }
    }

    /// Whether `o` holds the sums of the same unknowns (as many posteriors, and profiles over
    /// the same priors), which `merge` zips.
    pub fn compatible(&self, o: &InverseState) -> bool {
        self.posteriors.len() == o.posteriors.len()
            && self.profiles.len() == o.profiles.len()
            && self
                .profiles
                .iter()
                .zip(&o.profiles)
                .all(|(a, b)| a.compatible(b))
            && self.alternatives.len() == o.alternatives.len()
    }

    /// Adds the sums of other trials of the same scenario (exact, like `Accumulator::merge`);
    /// `compatible` must hold.
    pub fn merge(&mut self, o: &InverseState) {
        for (d, e) in self.posteriors.iter_mut().zip(&o.posteriors) {
            d.merge(e);
        }
        self.within += o.within;
        for (s, t) in self.profiles.iter_mut().zip(&o.profiles) {
            s.merge(t);
        }
        self.largest.merge(&o.largest);
        for (a, b) in self.alternatives.iter_mut().zip(&o.alternatives) {
            a.merge(b);
        }
    }
}

/// Runs the inverse question.
pub fn run(model: &Model, plan: &Plan, progress: impl FnMut(u64)) -> (Accumulator, InverseSummary) {
    let mut acc = Accumulator::new(model);
    let mut inv = InverseState::for_model(model);
    run_from(model, plan, &mut acc, &mut inv, 0, plan.trials, progress);
    let summary = summarize(model, &acc, Some(&inv));
    (acc, summary)
}

/// Continues the inverse question: folds trials [start, end) into `acc` and `inv_state` (or
/// until stopped) and returns one past the last trial done.
pub fn run_from(
    model: &Model,
    plan: &Plan,
    acc: &mut Accumulator,
    inv_state: &mut InverseState,
    start: u64,
    end: u64,
    progress: impl FnMut(u64),
) -> u64 {
    with_context(model, plan, |ctx| {
        let posteriors = &mut inv_state.posteriors;
        let within = &mut inv_state.within;
        let profiles = &mut inv_state.profiles;
        let largest = &mut inv_state.largest;
        let alternative_sums = &mut inv_state.alternatives;
        engine::run_batches(
            (plan.threads, model.n_precincts()),
            start,
            end,
            |b, count| ctx.batch(plan.seed, b, count),
            |w| {
                acc.add(&w.record);
                let hit = acc.any_truly_crosses(&w.record);
                for (i, &x) in w.theta.iter().enumerate() {
                    posteriors[i].add(x, w.record.weight);
                    profiles[i].add(x, hit, w.record.weight);
                }
                *within += w.within as u64;
                largest.add(w.record.weight);
                for (a, sums) in ctx.alternatives.iter().zip(alternative_sums.iter_mut()) {
                    sums.add(w.record.weight, a.log_ratio(&w.theta), hit);
                }
            },
            progress,
        )
    })
}

/// Calls `f` with the context of `plan`'s inverse run (layout, unknowns, proposal, samplers).
fn with_context<R>(model: &Model, plan: &Plan, f: impl FnOnce(&Context) -> R) -> R {
    let inv = model
        .inverse
        .as_ref()
        .expect("inverse run of a model with observations");
    let layout = Layout::draw(model, plan.seed);
    let space = Space::new(model);
    f(&Context::new(model, inv, &layout, &space, plan.sampler))
}

/// The weighted records of trials [b * BATCH, b * BATCH + count), in trial order, as `run` adds
/// them up (for tests that compare samplers trial by trial).
pub fn weighted_batch(model: &Model, plan: &Plan, b: u64, count: u64) -> Vec<Record> {
    with_context(model, plan, |ctx| {
        ctx.batch(plan.seed, b, count)
            .into_iter()
            .map(|w| w.record)
            .collect()
    })
}

/// One trial of the inverse run as a weighted draw of the posterior: its unknowns (in `Space`
/// order) and every party's true share.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorDraw {
    pub trial: u64,
    /// The trial's importance weight, unnormalised (as the run adds it up).
    pub weight: f64,
    pub unknowns: Vec<f64>,
    pub true_share: Vec<f64>,
}

/// Every trial [0, `plan.trials`) of the inverse run, in trial order, with its weight: the
/// posterior as weighted draws, the same trials and weights the run's figures are sums of (any
/// thread count gives the same list). With the unknowns' names. O(trials x precincts).
pub fn posterior_draws(
    model: &Model,
    plan: &Plan,
    progress: impl FnMut(u64),
) -> (Vec<String>, Vec<PosteriorDraw>) {
    let n = model.n_parties();
    let mut draws = Vec::with_capacity(plan.trials as usize);
    let names = with_context(model, plan, |ctx| {
        engine::run_batches(
            (plan.threads, model.n_precincts()),
            0,
            plan.trials,
            |b, count| ctx.batch(plan.seed, b, count),
            |w| {
                draws.push(PosteriorDraw {
                    trial: draws.len() as u64,
                    weight: w.record.weight,
                    unknowns: w.theta,
                    true_share: w.record.true_share[..n].to_vec(),
                })
            },
            progress,
        );
        ctx.space.params.iter().map(|p| p.name.clone()).collect()
    });
    (names, draws)
}

/// One trial drawn from the posterior by importance resampling: among trials [0, `plan.trials`)
/// of the inverse run, trial t with probability weight_t / total weight, chosen by a stream of
/// its own (the same seed gives the same trial on any thread count). With the trials' ESS;
/// None when every weight is 0. O(trials x precincts).
pub fn posterior_trial(model: &Model, plan: &Plan) -> Option<(u64, f64)> {
    let mut weights = Vec::with_capacity(plan.trials as usize);
    let mut sums = crate::numeric::stats::Weights::default();
    with_context(model, plan, |ctx| {
        engine::run_batches(
            (plan.threads, model.n_precincts()),
            0,
            plan.trials,
            |b, count| {
                ctx.batch(plan.seed, b, count)
                    .into_iter()
                    .map(|w| w.record.weight)
                    .collect()
            },
            |w| {
                sums.add(w);
                weights.push(w);
            },
            |_| {},
        )
    });
    let total = sums.sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let mut rng = crate::sample::rng::stream(plan.seed, RESAMPLE_STREAM);
    let u = crate::sample::exact::uniform(&mut rng) * total;
    let mut acc = 0.0;
    let pick = weights
        .iter()
        .position(|w| {
            acc += w;
            acc > u
        })
        .unwrap_or(weights.len() - 1);
    Some((pick as u64, sums.ess()))
}

/// The stream that picks the resampled trial (apart from every trial's and the layout's).
const RESAMPLE_STREAM: u64 = u64::MAX - 1;

/// The posteriors and diagnostics of the trials in `acc` and `inv_state` (None: no trials yet).
pub fn summarize(
    model: &Model,
    acc: &Accumulator,
    inv_state: Option<&InverseState>,
) -> InverseSummary {
    let inv = model
        .inverse
        .as_ref()
        .expect("inverse run of a model with observations");
    let space = Space::new(model);
    let empty;
    let inv_state = match inv_state {
        Some(s) => s,
        None => {
            empty = InverseState::new(&space, resolved(model).len());
            &empty
        }
    };
    let ess = acc.weights.ess();
    let parameters = space
        .params
        .iter()
        .zip(inv_state.posteriors.iter().zip(&inv_state.profiles))
        .map(|(p, (d, split))| {
            let (q05, q95) = (p.prior.quantile(0.05), p.prior.quantile(0.95));
            let posterior = d.summary();
            ParamSummary {
                name: p.name.clone(),
                prior: p.prior.describe(),
                prior_mean: p.prior.mean(),
                prior_q05: q05,
                prior_q95: q95,
                posterior,
                dependence: rests_on::dependence(
                    [q05, q95],
                    [posterior.q05, posterior.q95],
                    split,
                    // Every prior an unknown has (uniform, beta) is bounded: the outer bins
                    // reach its ends.
                    p.prior.support().into(),
                    p.sweep_path(),
                ),
            }
        })
        .collect();
    let pareto_k = inv_state.largest.pareto_k(acc.weights.n);
    let pareto_k_limit = tail::k_threshold(acc.weights.n);
    let mut warnings = Vec::new();
    if ess < MIN_ESS {
        warnings.push(format!(
            "effective sample size {ess:.0} is below {MIN_ESS:.0}: the probabilities are uncertain; run more trials (--trials) or widen inference.tolerance"
        ));
    }
    if let Some(k) = pareto_k
        && k > pareto_k_limit
    {
        warnings.push(format!(
            "the weights have a heavy tail (Pareto k-hat {k:.2}, above {pareto_k_limit:.2}): a few trials carry the answer, more trials barely help, and the true Monte Carlo error can be well above the one stated; widen inference.tolerance or, with proposal \"prior\", try \"guided\""
        ));
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("; and "));
    InverseSummary {
        ess,
        pareto_k,
        pareto_k_limit,
        acceptance_rate: inv_state.within as f64 / acc.weights.n.max(1) as f64,
        tolerance_pp: inv.tolerance * 100.0,
        proposal: inv.proposal,
        observed_counts: inv.observed,
        observed_negative: inv.negative,
        parameters,
        fingerprint: inv.fingerprint.as_ref().and_then(|f| {
            f.observed.map(|observed| FingerprintSummary {
                tolerance_pp: f.tolerance * 100.0,
                bandwidths_pp: f.bandwidths().map(|b| b * 100.0),
                observed,
            })
        }),
        recounts: inv.recounts.as_ref().map(|r| r.info.clone()),
        preliminary: inv
            .preliminary
            .iter()
            .map(|&(j, share)| PublishedShare {
                party: model.parties[j].id.clone(),
                share,
            })
            .collect(),
        alternatives: resolved(model)
            .iter()
            .zip(&inv_state.alternatives)
            .map(|(r, s)| alternatives::answer(r, s))
            .collect(),
        odds: None,
        warning,
    }
}

/// The unknowns the inverse run used for the trial whose generator is `rng` (advanced exactly
/// as the run advances it before simulating precincts), for replaying that trial.
pub fn trial_draw(model: &Model, layout: &Layout, sim: &Simulator, rng: &mut Rng) -> Draw {
    let inv = model.inverse.as_ref().expect("an inverse scenario");
    let space = Space::new(model);
    let ctx = Context::new(model, inv, layout, &space, sim.sampler);
    ctx.propose(sim, rng).0
}

/// Compared parties whose support the guided proposal sets (not the remainder, not fixed), with
/// the share it aims at: the official one or, where a preliminary count is observed, the
/// preliminary one, which the stations alone must explain (the tabulation stage, drawn from its
/// priors, then takes the trial to the final count).
fn guided_parties(model: &Model, inv: &InverseModel) -> Vec<(usize, f64)> {
    if inv.proposal == ProposalKind::Prior {
        return Vec::new();
    }
    let targets = if inv.preliminary.is_empty() {
        &inv.compare
    } else {
        &inv.preliminary
    };
    targets
        .iter()
        .copied()
        .filter(|&(j, target)| {
            j != model.remainder
                && target > 0.0
                && !matches!(
                    model.support[j],
                    Some(crate::model::prior::Dist::Fixed(_)) | None
                )
        })
        .collect()
}

/// The model's alternatives (`question::alternatives`); none where they do not resolve (the CLI
/// refuses such a scenario before running; a sweep point that fixes an unknown they name has
/// none).
fn resolved(model: &Model) -> Vec<alternatives::Resolved> {
    alternatives::resolve(model).unwrap_or_default()
}

/// What every trial shares.
struct Context<'a> {
    model: &'a Model,
    inv: &'a InverseModel,
    layout: &'a Layout,
    space: &'a Space,
    groups: Groups,
    /// (party, targeted share) whose support the guided proposal draws.
    guided: Vec<(usize, f64)>,
    /// P(an observed precinct is irregular) / prevalence, ignoring the cap at 1.
    observed_multiplier: f64,
    /// The precinct-level samplers (the unknowns are drawn the same way with either).
    sampler: SamplerKind,
    /// The fingerprint kernel's bandwidth on each feature (unused without protocols).
    bandwidths: [f64; 4],
    /// With recounts: the guided proposal of the counting errors' unknowns and the offset of
    /// the recounts' log-likelihood.
    count_proposal: Option<CountProposal>,
    /// `inference.alternatives`, resolved.
    alternatives: Vec<alternatives::Resolved>,
}

impl<'a> Context<'a> {
    fn new(
        model: &'a Model,
        inv: &'a InverseModel,
        layout: &'a Layout,
        space: &'a Space,
        sampler: SamplerKind,
    ) -> Context<'a> {
        Context {
            model,
            inv,
            layout,
            space,
            groups: Groups::new(model, layout),
            guided: guided_parties(model, inv),
            observed_multiplier: observed_multiplier(model, inv, layout),
            sampler,
            bandwidths: inv
                .fingerprint
                .as_ref()
                .map_or([1.0; 4], |f| f.bandwidths()),
            count_proposal: CountProposal::new(model, inv),
            alternatives: resolved(model),
        }
    }

    /// ln P(recounts | the trial's counting-error unknowns) - the offset; 0 without recounts.
    fn recount_log_likelihood(&self, count: &CountDraw) -> f64 {
        match (
            &self.inv.recounts,
            &self.model.count_errors,
            &self.count_proposal,
        ) {
            (Some(r), Some(c), Some(p)) => {
                r.log_likelihood(
                    c,
                    count.slips,
                    &count.slip_means,
                    count.zeroed,
                    count.swapped,
                ) - p.offset
            }
            _ => 0.0,
        }
    }
}

/// The mean urban/e-voting multiplier of the prevalence over the precincts observers visit.
fn observed_multiplier(model: &Model, inv: &InverseModel, layout: &Layout) -> f64 {
    let ir = &model.irregular;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..layout.len() {
        let w = if layout.urban[i] && inv.selection == crate::model::scenario::Selection::Urban {
            inv.urban_weight
        } else {
            1.0
        };
        let mult = ir.irregular_probability(1.0, layout.urban[i], layout.evoting[i]);
        num += w * mult;
        den += w;
    }
    if den > 0.0 { num / den } else { 1.0 }
}

impl Context<'_> {
    /// Simulates and weights the `count` trials of batch `b`, each from its own stream (as in
    /// the forward question, so sweeps share random numbers between points).
    fn batch(&self, seed: u64, b: u64, count: u64) -> Vec<Weighted> {
        let mut sim = Sampler::new(self.model, self.layout, self.sampler);
        let mut observer = Observer::new(self.inv, self.layout);
        (0..count)
            .take_while(|i| !engine::stopping_before(b * engine::BATCH + i))
            .map(|i| {
                let mut rng = engine::trial_rng(seed, b * engine::BATCH + i);
                let (draw, obs, log_ratio) = self.propose(sim.simulator(), &mut rng);
                let mut theta = vec![0.0; self.space.len()];
                self.space.read(&draw, &obs, &mut theta);
                if log_ratio == f64::NEG_INFINITY {
                    // Outside the prior's support: weight 0, nothing to simulate.
                    let mut record = outcome::record(self.model, 1, &draw, &empty_totals());
                    record.weight = 0.0;
                    return Weighted {
                        record,
                        theta,
                        within: false,
                    };
                }
                let (totals, fit) = match &self.inv.fingerprint {
                    None => (sim.run(&mut rng, &draw), 1.0),
                    Some(fp) => self.run_fingerprint(&mut sim, &mut rng, &draw, fp),
                };
                let mut record = outcome::record(self.model, self.layout.len(), &draw, &totals);
                let m = observer.irregular_in_sample(&mut rng, sim.irregular());
                let l_obs = observer.assessment_likelihood(m, obs.sensitivity, obs.false_positive);
                let l_exit =
                    observe::exit_poll_likelihood(self.inv, &record.true_share, obs.exit_bias);
                let (k, within) = observe::kernel(self.inv, &record, self.inv.tolerance);
                let l_recounts = self.recount_log_likelihood(&draw.count);
                record.weight = math::exp(log_ratio + l_recounts) * l_obs * l_exit * k * fit;
                Weighted {
                    record,
                    theta,
                    within,
                }
            })
            .collect()
    }

    /// Simulates one election station by station and returns its totals with the kernel on
    /// the distance between its fingerprint features and the protocols'.
    fn run_fingerprint(
        &self,
        sim: &mut Sampler,
        rng: &mut Rng,
        draw: &Draw,
        fp: &crate::model::FingerprintFit,
    ) -> (crate::election::draw::Totals, f64) {
        let observed = fp.observed.expect("load sets the protocols' features");
        let j = self.model.irregular.beneficiary;
        let registered = &self.layout.registered;
        let mut sums = FeatureSums::default();
        let totals = sim
            .run_observed(rng, draw, |i, _, reported| {
                if let Some((t, s)) = point(registered[i] as u64, reported, j) {
                    sums.add(t, s);
                }
            })
            .expect("the sampler was checked: fingerprints need precinct counts");
        let simulated = sums.finish();
        let k = match self.inv.kernel {
            Kernel::Gaussian => math::exp(-0.5 * simulated.distance2(&observed, &self.bandwidths)),
            Kernel::Uniform => simulated
                .deviations(&observed)
                .iter()
                .zip(&self.bandwidths)
                .all(|(d, b)| d.abs() <= *b) as u8 as f64,
        };
        (totals, k)
    }

    /// The unknowns of one trial: the priors' draws, then the guided proposal; with
    /// log(prior / proposal) of what the proposal replaced (-inf outside the prior's support).
    fn propose(&self, sim: &Simulator, rng: &mut Rng) -> (Draw, ObsDraw, f64) {
        let mut draw = sim.draw(rng);
        let obs = draw_obs(self.inv, rng);
        let mut log_ratio =
            self.guide_prevalence(rng, &mut draw, &obs) + self.guide(rng, &mut draw);
        if let Some(p) = &self.count_proposal {
            log_ratio += p.propose(rng, &mut draw.count);
        }
        (draw, obs, log_ratio)
    }

    /// The guided proposal for the prevalence: a normal around the prevalence at which the
    /// observers' expected share of negative verdicts equals the observed one, given this
    /// trial's assessment rates, with the spread of a binomial sample of that size (x 1.2).
    /// Returns log(prior / proposal); -inf outside the prior's support.
    fn guide_prevalence(&self, rng: &mut Rng, draw: &mut Draw, obs: &ObsDraw) -> f64 {
        let prior = self.model.irregular.prevalence;
        if self.guided.is_empty()
            || self.inv.observed == 0
            || matches!(prior, crate::model::prior::Dist::Fixed(_))
        {
            return 0.0;
        }
        let inv = self.inv;
        let q = inv.negative as f64 / inv.observed as f64;
        let gap = obs.sensitivity - obs.false_positive;
        // Observed precincts are irregular with probability prevalence x observed_multiplier.
        let slope = gap * self.observed_multiplier;
        if slope.abs() < 1e-3 {
            return 0.0;
        }
        let centre = (q - obs.false_positive) / slope;
        let sd = 1.2
            * (q.clamp(0.01, 0.99) * (1.0 - q.clamp(0.01, 0.99)) / inv.observed as f64).sqrt()
            / slope.abs();
        let (x, log_q) = truncated_normal(rng, centre, sd, prior.support());
        draw.prevalence = x;
        log_density(&prior, x) - log_q
    }

    /// The guided proposal: replaces the support of the guided parties in `draw` and returns
    /// log(prior / proposal) of the replaced values (0 when nothing is guided; -inf when the
    /// proposal fell outside the prior's support).
    fn guide(&self, rng: &mut Rng, draw: &mut Draw) -> f64 {
        if self.guided.is_empty() {
            return 0.0;
        }
        let m = self.model;
        // Solve for the support that reproduces the targeted shares in expectation.
        let expected = if self.inv.preliminary.is_empty() {
            mean_field::reported_shares
        } else {
            mean_field::preliminary_shares
        };
        let mut centre = *draw;
        for _ in 0..SOLVE_ITERATIONS {
            let r = expected(m, &self.groups, &centre);
            for &(j, target) in &self.guided {
                if r[j] > 0.0 {
                    centre.support[j] = (centre.support[j] * target / r[j]).min(1.0);
                }
            }
            set_remainder(m, &mut centre);
        }
        let mut log_ratio = 0.0;
        for &(j, target) in &self.guided {
            let mu = centre.support[j];
            // A change ds in support moves the reported share by about ds * target / mu.
            let sd = SPREAD * self.inv.tolerance * mu / target;
            let prior = m.support[j].expect("guided parties have a prior");
            let (x, log_q) = truncated_normal(rng, mu, sd, prior.support());
            draw.support[j] = x;
            log_ratio += log_density(&prior, x) - log_q;
        }
        if !set_remainder(m, draw) {
            return f64::NEG_INFINITY;
        }
        log_ratio
    }
}

/// Sets the remainder party's support to one minus the others; false if that is negative.
fn set_remainder(m: &Model, d: &mut Draw) -> bool {
    let others: f64 = (0..m.n_parties())
        .filter(|&j| j != m.remainder)
        .map(|j| d.support[j])
        .sum();
    d.support[m.remainder] = (1.0 - others).max(0.0);
    others <= 1.0
}

/// Draws the observation model's unknowns from their priors.
fn draw_obs(inv: &InverseModel, rng: &mut Rng) -> ObsDraw {
    ObsDraw {
        sensitivity: inv.sensitivity.sample(rng),
        false_positive: inv.false_positive.sample(rng),
        exit_bias: inv.exit_poll.as_ref().map_or(0.0, |e| e.bias.sample(rng)),
    }
}

fn empty_totals() -> crate::election::draw::Totals {
    crate::election::draw::Totals {
        true_votes: [0; crate::model::MAX_CATEGORIES],
        reported_votes: [0; crate::model::MAX_CATEGORIES],
        registered: 0,
        irregular_precincts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums of another number of unknowns (a hand-edited or foreign file with the right hash)
    /// are not merged: zipping would silently drop the extra ones.
    #[test]
    fn states_of_other_unknowns_are_not_compatible() {
        let state = |n: usize| InverseState {
            posteriors: vec![Default::default(); n],
            within: 0,
            profiles: vec![Profile::new(|q| q); n],
            largest: Default::default(),
            alternatives: vec![],
        };
        assert!(state(3).compatible(&state(3)));
        assert!(!state(3).compatible(&state(2)));
        let mut short = state(3);
        short.profiles.pop();
        assert!(!state(3).compatible(&short));
        // Profiles over another prior cut at other quantiles.
        let mut other = state(3);
        other.profiles[1] = Profile::new(|q| 2.0 * q);
        assert!(!state(3).compatible(&other));
    }

    #[test]
    fn precinct_replay_of_an_inverse_trial_is_the_runs_trial() {
        let l = crate::model::load::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/inverse-odihr.json"
        ))
        .unwrap();
        let m = &l.model;
        let seed = 9;
        let layout = Layout::draw(m, seed);
        let space = Space::new(m);
        let inv = m.inverse.as_ref().unwrap();
        let ctx = Context::new(m, inv, &layout, &space, SamplerKind::Exact);
        let records = ctx.batch(seed, 0, 3);
        let mut compared = 0;
        for (k, w) in records.iter().enumerate() {
            if w.record.weight == 0.0 && w.record.true_turnout == 0.0 {
                continue; // not simulated (proposal outside the prior)
            }
            let e = crate::export::precincts::replay(m, seed, k as u64, SamplerKind::Exact);
            let np = m.n_parties();
            let mut rep = vec![0u64; np + 1];
            for p in &e.precincts {
                for (c, v) in p.reported_votes.iter().enumerate() {
                    rep[c] += v;
                }
            }
            let mut share = [0.0; crate::model::MAX_PARTIES];
            crate::election::outcome::valid_shares(&rep, np, &mut share);
            assert_eq!(share, w.record.reported_share, "trial {k}");
            assert_eq!(e.draw.support, w.record.draw.support, "trial {k}");
            compared += 1;
        }
        assert!(compared >= 2, "only {compared} of 3 trials were simulated");
    }

    /// The two-region sample of examples/ru-duma-2007 imported into `dir`, loaded.
    fn imported_sample(dir: &std::path::Path) -> crate::model::load::Loaded {
        use crate::model::{import, protocols};
        let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ru-duma-2007");
        let text = std::fs::read_to_string(ex.join("mapping.json")).unwrap();
        let mut mapping: protocols::Mapping = serde_json::from_str(&text).unwrap();
        mapping.totals = None;
        let st = protocols::read(&ex.join("two-regions.csv"), &mapping, "mapping").unwrap();
        let bytes = st.to_csv();
        std::fs::write(dir.join("s.protocols.csv"), &bytes).unwrap();
        let sha = protocols::sha256_file(&dir.join("s.protocols.csv")).unwrap();
        let names = import::Names {
            title: "sample",
            protocols_file: "s.protocols.csv",
            protocols_sha256: &sha,
            source: "test",
        };
        let json = import::scenario(&st, &mapping, &names).to_string();
        std::fs::write(dir.join("s.json"), json).unwrap();
        crate::model::load::load(dir.join("s.json").to_str().unwrap()).unwrap()
    }

    #[test]
    fn fingerprint_weight_is_the_kernel_on_the_replayed_elections_features() {
        let tmp = tempfile::TempDir::new().unwrap();
        let l = imported_sample(tmp.path());
        let m = &l.model;
        let fit = m.inverse.as_ref().unwrap().fingerprint.clone().unwrap();
        let observed = fit.observed.unwrap();
        // The protocols' features, computed here from the file's own rows.
        let st = m.stations.as_ref().unwrap();
        assert_eq!(
            observed,
            crate::model::protocols::Features::of(st.points(m.irregular.beneficiary))
        );
        let mut plain = m.clone();
        plain.inverse.as_mut().unwrap().fingerprint = None;
        let plan = Plan {
            trials: 8,
            seed: 5,
            threads: 1,
            sampler: SamplerKind::Fast,
        };
        let with = weighted_batch(m, &plan, 0, 8);
        let without = weighted_batch(&plain, &plan, 0, 8);
        let mut compared = 0;
        for k in 0..8 {
            if without[k].weight == 0.0 {
                continue;
            }
            let e = crate::export::precincts::replay(m, plan.seed, k as u64, SamplerKind::Fast);
            let j = m.irregular.beneficiary;
            let f = crate::model::protocols::Features::of(e.precincts.iter().filter_map(|p| {
                crate::model::protocols::point(p.registered, &p.reported_votes, j)
            }));
            let expected = math::exp(-0.5 * f.distance2(&observed, &fit.bandwidths()));
            let ratio = with[k].weight / without[k].weight;
            assert!(
                (ratio - expected).abs() <= 1e-12 * expected.max(1e-300),
                "trial {k}: weight ratio {ratio}, kernel {expected}"
            );
            // The same election either way: the fingerprint changes the weight only.
            assert_eq!(with[k].reported_share, without[k].reported_share);
            compared += 1;
        }
        assert!(compared >= 4, "only {compared} of 8 trials were simulated");
    }
}
