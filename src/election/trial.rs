//! One simulated election, precinct by precinct (docs/model.md, "One simulated election").
//!
//! A trial draws the election-level unknowns (true national support, prevalence, mechanism
//! intensities) from their priors, then for every precinct its true turnout and votes, whether
//! its count is irregular and what the irregularities did to its protocol. It returns the true
//! and the reported national totals. Buffers live in `Simulator` so the hot loop never allocates.

use crate::election::count_errors::{self, CountErrors};
use crate::election::country::Layout;
use crate::election::draw::{Draw, Totals};
use crate::election::mechanism;
use crate::model::{MAX_CATEGORIES, MAX_PARTIES, Model};
use crate::sample::approx;
use crate::sample::exact;
use crate::sample::kind::SamplerKind;
use crate::sample::rng::Rng;

/// Runs trials for one model and layout, reusing its buffers.
pub struct Simulator<'a> {
    pub model: &'a Model,
    pub layout: &'a Layout,
    pub(super) n_cat: usize,
    /// Per region: Dirichlet parameters and the multinomial draw order (largest category last).
    pub(super) alpha: Vec<[f64; MAX_CATEGORIES]>,
    pub(super) order: Vec<[usize; MAX_CATEGORIES]>,
    /// Per region: the Dirichlet's gamma samplers (constants precomputed once per trial) and the
    /// turnout Beta.
    pub(super) gammas: Vec<[exact::Gamma; MAX_CATEGORIES]>,
    pub(super) turnout: Vec<exact::Beta>,
    /// Per region, for `SamplerKind::Fast` only: the turnout Beta as a quantile table (None where
    /// its parameters are below 1, or for `Exact`).
    pub(super) turnout_table: Vec<Option<approx::BetaTable>>,
    /// Per region, for `SamplerKind::Fast` only: the categories given a two-point share and the
    /// others in draw order (`approx::split_spikes`), with their counts.
    pub(super) spikes: Vec<[approx::SpikeShare; MAX_CATEGORIES]>,
    /// Per region, for `SamplerKind::Exact` only: the small categories drawn as beta-binomials
    /// (`exact::split_beta_binomial`), as (category, index in `bb_pool`). Regions with the same
    /// parameters share a table (rebuilt each trial for n up to their largest precinct).
    pub(super) beta_binomials: Vec<[(usize, usize); MAX_CATEGORIES]>,
    pub(super) bb_pool: Vec<exact::BetaBinomial>,
    /// Distinct (a, b) bit patterns of `bb_pool` this trial and the largest n each needs.
    pub(super) bb_keys: Vec<(u64, u64, u64)>,
    /// Per region: the largest electorate and the mean number of voters of a precinct.
    pub(super) max_registered: Vec<u64>,
    pub(super) typical_voters: Vec<f64>,
    /// Per region: the categories drawn by gammas and conditional binomials (smallest first), and
    /// (special categories, those categories) counts: spikes for `Fast`, beta-binomials for
    /// `Exact`.
    pub(super) rest_order: Vec<[usize; MAX_CATEGORIES]>,
    pub(super) split: Vec<(usize, usize)>,
    /// For `Fast`: per region, the stick-breaking Betas of its non-spike categories but the last
    /// (`approx::dirichlet_multinomial_tabled`) as indices into `stick_keys`; the distinct (a, b)
    /// bit patterns this trial with the precincts they serve; their tables (None where not built
    /// or not tabulable); and whether each region draws by the tables.
    pub(super) sticks: Vec<[usize; MAX_CATEGORIES]>,
    pub(super) stick_keys: Vec<(u64, u64, u64)>,
    pub(super) stick_pool: Vec<Option<approx::BetaTable>>,
    pub(super) tabled: Vec<bool>,
    /// Whether each precinct's count was irregular in the last trial.
    pub irregular: Vec<bool>,
    /// Exact (the default) or approximate binomials.
    pub sampler: SamplerKind,
}

impl<'a> Simulator<'a> {
    pub fn new(model: &'a Model, layout: &'a Layout) -> Simulator<'a> {
        Simulator {
            model,
            layout,
            n_cat: model.n_parties() + 1,
            alpha: vec![[0.0; MAX_CATEGORIES]; model.regions.len()],
            order: vec![[0; MAX_CATEGORIES]; model.regions.len()],
            gammas: vec![[exact::Gamma::default(); MAX_CATEGORIES]; model.regions.len()],
            turnout: model
                .regions
                .iter()
                .map(|r| exact::Beta::with_mean(r.turnout, model.turnout_concentration))
                .collect(),
            turnout_table: Vec::new(),
            spikes: vec![[approx::SpikeShare::default(); MAX_CATEGORIES]; model.regions.len()],
            beta_binomials: vec![[(0, 0); MAX_CATEGORIES]; model.regions.len()],
            bb_pool: Vec::new(),
            bb_keys: Vec::new(),
            max_registered: layout
                .region_range
                .iter()
                .map(|r| {
                    layout.registered[r.clone()]
                        .iter()
                        .map(|&x| x as u64)
                        .max()
                        .unwrap_or(0)
                })
                .collect(),
            typical_voters: layout
                .region_range
                .iter()
                .zip(&model.regions)
                .map(|(r, reg)| {
                    let sum: f64 = layout.registered[r.clone()].iter().map(|&x| x as f64).sum();
                    sum / r.len().max(1) as f64 * reg.turnout
                })
                .collect(),
            rest_order: vec![[0; MAX_CATEGORIES]; model.regions.len()],
            split: vec![(0, 0); model.regions.len()],
            sticks: vec![[0; MAX_CATEGORIES]; model.regions.len()],
            stick_keys: Vec::new(),
            stick_pool: Vec::new(),
            tabled: vec![false; model.regions.len()],
            irregular: vec![false; layout.len()],
            sampler: SamplerKind::Exact,
        }
    }

    /// The same simulator, drawing binomials with sampler `kind`.
    pub fn with_sampler(mut self, kind: SamplerKind) -> Simulator<'a> {
        self.sampler = kind;
        self.turnout_table = match kind.base() {
            SamplerKind::Fast | SamplerKind::Pooled => {
                let c = self.model.turnout_concentration;
                self.model
                    .regions
                    .iter()
                    .map(|r| approx::BetaTable::new(r.turnout * c, (1.0 - r.turnout) * c))
                    .collect()
            }
            SamplerKind::Exact => Vec::new(),
        };
        self
    }

    /// Draws the election-level unknowns from their priors.
    pub fn draw(&self, rng: &mut Rng) -> Draw {
        let m = self.model;
        let mut d = Draw::default();
        let mut others = 0.0;
        for (j, prior) in m.support.iter().enumerate() {
            if let Some(p) = prior {
                d.support[j] = p.sample(rng);
                others += d.support[j];
            }
        }
        // The remainder party takes what is left. If the other priors overshoot 1 together, all
        // are scaled down so the shares still sum to 1 with the remainder at zero.
        if others > 1.0 {
            d.support.iter_mut().for_each(|s| *s /= others);
        } else {
            d.support[m.remainder] = 1.0 - others;
        }
        d.spoiled = m.spoiled.sample(rng);
        let ir = &m.irregular;
        d.prevalence = ir.prevalence.sample(rng);
        let pair = |mm: &Option<crate::model::MechanismModel>, rng: &mut Rng| match mm {
            Some(x) => [x.probability.sample(rng), x.intensity.sample(rng)],
            None => [0.0, 0.0],
        };
        d.transfer = pair(&ir.transfer, rng);
        d.stuffing = pair(&ir.stuffing, rng);
        d.invalidation = pair(&ir.invalidation, rng);
        d.miscount = match &ir.miscount {
            Some(x) => [x.probability.sample(rng), x.intensity.sample(rng)],
            None => [0.0, 0.0],
        };
        d.rewrite = ir
            .rewrite
            .as_ref()
            .map_or(0.0, |r| r.probability.sample(rng));
        if let Some(c) = &m.count_errors {
            d.count = count_errors::draw(c, rng);
        }
        if let Some(t) = &m.tabulation {
            d.tabulation = [t.transfer.sample(rng), t.added.sample(rng)];
        }
        d
    }

    /// Sets the per-region Dirichlet parameters and multinomial draw order for a draw. Kept whole
    /// though long: one pass per region builds every per-trial table in a fixed order (the
    /// reproducibility contract: the tables' order is the random numbers' order).
    pub(super) fn set_regional_means(&mut self, d: &Draw) {
        regional_means(self.model, d, &mut self.alpha);
        self.bb_keys.clear();
        self.stick_keys.clear();
        let c = self.model.share_concentration;
        for r in 0..self.model.regions.len() {
            let a = &mut self.alpha[r];
            a.iter_mut().take(self.n_cat).for_each(|x| *x *= c);
            let o = &mut self.order[r];
            for (k, x) in o.iter_mut().enumerate().take(self.n_cat) {
                *x = k;
            }
            // Smallest first, largest last: the largest is the remainder and is never drawn.
            o[..self.n_cat].sort_by(|&x, &y| a[x].total_cmp(&a[y]).then(x.cmp(&y)));
            for (g, &x) in self.gammas[r].iter_mut().zip(a.iter()).take(self.n_cat) {
                *g = exact::Gamma::new(x);
            }
            self.split[r] = match self.sampler.base() {
                SamplerKind::Fast | SamplerKind::Pooled => {
                    let split = approx::split_spikes(
                        &a[..self.n_cat],
                        &o[..self.n_cat],
                        &mut self.spikes[r],
                        &mut self.rest_order[r],
                    );
                    // Stick i: Beta(alpha_i, the later categories' alpha summed from the end).
                    let rest = &self.rest_order[r][..split.1];
                    let mut later = 0.0;
                    for j in (0..rest.len().saturating_sub(1)).rev() {
                        later += a[rest[j + 1]];
                        let key = (a[rest[j]].to_bits(), later.to_bits());
                        let k = match self.stick_keys.iter().position(|x| (x.0, x.1) == key) {
                            Some(k) => k,
                            None => {
                                self.stick_keys.push((key.0, key.1, 0));
                                self.stick_keys.len() - 1
                            }
                        };
                        self.stick_keys[k].2 += self.layout.region_range[r].len() as u64;
                        self.sticks[r][j] = k;
                    }
                    split
                }
                SamplerKind::Exact => {
                    let mut params = [(0, 0.0, 0.0); MAX_CATEGORIES];
                    let split = exact::split_beta_binomial(
                        &a[..self.n_cat],
                        &o[..self.n_cat],
                        if self.max_registered[r] <= exact::BETA_BINOMIAL_MAX_TABLE {
                            self.typical_voters[r]
                        } else {
                            f64::INFINITY
                        },
                        &mut params,
                        &mut self.rest_order[r],
                    );
                    for (slot, &(i, pa, pb)) in
                        self.beta_binomials[r].iter_mut().zip(&params[..split.0])
                    {
                        let key = (pa.to_bits(), pb.to_bits());
                        let k = match self.bb_keys.iter().position(|x| (x.0, x.1) == key) {
                            Some(k) => k,
                            None => {
                                self.bb_keys.push((key.0, key.1, 0));
                                self.bb_keys.len() - 1
                            }
                        };
                        self.bb_keys[k].2 = self.bb_keys[k].2.max(self.max_registered[r]);
                        *slot = (i, k);
                    }
                    split
                }
            };
        }
        if self.sampler.base() == SamplerKind::Fast {
            // A table costs about as much to build as 1,000 precincts' gammas save (it replaces
            // one gamma a precinct), so only tables that serve more precincts than that are built:
            // every named scenario's (its regions share their parameters), not a scenario whose
            // regional factors give every region its own.
            self.stick_pool.clear();
            for &(a, b, served) in &self.stick_keys {
                self.stick_pool
                    .push(if served >= approx::STICK_TABLE_MIN_PRECINCTS {
                        approx::BetaTable::new(f64::from_bits(a), f64::from_bits(b))
                    } else {
                        None
                    });
            }
            for r in 0..self.model.regions.len() {
                let n_rest = self.split[r].1;
                self.tabled[r] = self.sticks[r][..n_rest.saturating_sub(1)]
                    .iter()
                    .all(|&k| self.stick_pool[k].is_some());
            }
        }
        if self.sampler == SamplerKind::Exact {
            if self.bb_pool.len() < self.bb_keys.len() {
                self.bb_pool
                    .resize(self.bb_keys.len(), exact::BetaBinomial::default());
            }
            for (t, &(a, b, max_n)) in self.bb_pool.iter_mut().zip(&self.bb_keys) {
                t.set(f64::from_bits(a), f64::from_bits(b), max_n);
            }
        }
    }

    /// Simulates one whole election for `d`.
    pub fn run(&mut self, rng: &mut Rng, d: &Draw) -> Totals {
        self.run_observed(rng, d, |_, _, _| {})
    }

    /// `run`, calling `observe(precinct, true_votes, reported_votes)` for every precinct (used by
    /// `recount precincts`; the no-op observer of `run` compiles away). `SamplerKind::Pooled`
    /// draws no precinct counts and never calls it. Kept whole though long: it is the exact and
    /// fast samplers' hot loop, and its per-region slices are set up once outside the precinct
    /// loop, which a split into functions would have to pass back in.
    pub fn run_observed<F: FnMut(usize, &[u64], &[u64])>(
        &mut self,
        rng: &mut Rng,
        d: &Draw,
        mut observe: F,
    ) -> Totals {
        debug_assert!(
            self.sampler != SamplerKind::Pooled,
            "pooled runs through election::sampler::Sampler"
        );
        self.set_regional_means(d);
        let m = self.model;
        let l = self.layout;
        let n_cat = self.n_cat;
        let ir = &m.irregular;
        let mut t = Totals {
            true_votes: [0; MAX_CATEGORIES],
            reported_votes: [0; MAX_CATEGORIES],
            registered: 0,
            irregular_precincts: 0,
        };
        let acts = mechanism::Acting::new(m, d).with_sampler(self.sampler);
        let mut errors = m
            .count_errors
            .as_ref()
            .map(|c| CountErrors::new(c, &d.count, rng));
        let kind = self.sampler;
        let mut weights = [0.0; MAX_CATEGORIES];
        let mut votes = [0u64; MAX_CATEGORIES];
        for r in 0..m.regions.len() {
            let alpha = &self.alpha[r][..n_cat];
            let gammas = &self.gammas[r][..n_cat];
            let turnout_beta = self.turnout[r];
            let turnout_table = self.turnout_table.get(r).and_then(Option::as_ref);
            let (n_special, n_rest) = self.split[r];
            let spikes = &self.spikes[r][..n_special.min(MAX_CATEGORIES)];
            let beta_binomials = &self.beta_binomials[r][..n_special];
            let rest_order = &self.rest_order[r][..n_rest];
            let sticks = region_sticks(
                self.tabled[r],
                &self.sticks[r][..n_rest.saturating_sub(1)],
                &self.stick_pool,
            );
            for i in l.region_range[r].clone() {
                let registered = l.registered[i] as u64;
                let turnout = match turnout_table {
                    Some(t) => t.sample(rng),
                    None => turnout_beta.sample(rng),
                };
                let voters = exact::round_count(exact::count_f64(registered) * turnout);
                match kind {
                    SamplerKind::Exact => exact::dirichlet_multinomial_exact(
                        rng,
                        voters,
                        beta_binomials,
                        &self.bb_pool,
                        gammas,
                        alpha,
                        rest_order,
                        &mut weights[..n_cat],
                        &mut votes[..n_cat],
                    ),
                    SamplerKind::Fast if self.tabled[r] => approx::dirichlet_multinomial_tabled(
                        rng,
                        voters,
                        spikes,
                        &sticks,
                        rest_order,
                        &mut votes[..n_cat],
                    ),
                    SamplerKind::Fast | SamplerKind::Pooled => approx::dirichlet_multinomial_fast(
                        rng,
                        voters,
                        spikes,
                        gammas,
                        alpha,
                        rest_order,
                        &mut weights[..n_cat],
                        &mut votes[..n_cat],
                    ),
                }
                for (t, v) in t.true_votes.iter_mut().zip(&votes[..n_cat]) {
                    *t += v;
                }
                t.registered += registered;
                let p_irr = ir.irregular_probability(d.prevalence, l.urban[i], l.evoting[i]);
                let true_votes = votes;
                let u = exact::uniform(rng);
                let irregular = u < p_irr;
                self.irregular[i] = irregular;
                if irregular {
                    t.irregular_precincts += 1;
                    if kind == SamplerKind::Fast {
                        let v = u / p_irr.min(1.0);
                        acts.irregular_reusing(rng, registered, &mut votes[..n_cat], v);
                    } else {
                        acts.irregular(rng, registered, &mut votes[..n_cat]);
                    }
                } else if kind == SamplerKind::Fast {
                    acts.regular_reusing(rng, &mut votes[..n_cat], u, p_irr);
                } else {
                    acts.regular(rng, &mut votes[..n_cat]);
                }
                if let Some(e) = &mut errors {
                    e.apply(rng, l.urban[i], &mut votes[..n_cat]);
                }
                for (t, v) in t.reported_votes.iter_mut().zip(&votes[..n_cat]) {
                    *t += v;
                }
                observe(i, &true_votes[..n_cat], &votes[..n_cat]);
            }
        }
        t
    }
}

/// Region r's stick-breaking tables for this trial (`Fast`; empty where it has none), as
/// references into the pool so that the caller may still change the simulator's other fields.
pub(super) fn region_sticks<'p>(
    tabled: bool,
    keys: &[usize],
    pool: &'p [Option<approx::BetaTable>],
) -> Vec<&'p approx::BetaTable> {
    if !tabled {
        return Vec::new();
    }
    keys.iter().filter_map(|&k| pool[k].as_ref()).collect()
}

/// Regional mean category shares (parties, then spoiled) for a draw: national means times the
/// regional factors, re-balanced (iterative proportional fitting) so the electorate-weighted
/// national mean of each party still equals its drawn support.
pub fn regional_means(m: &Model, d: &Draw, out: &mut [[f64; MAX_CATEGORIES]]) {
    let np = m.n_parties();
    let any_factor = m
        .regions
        .iter()
        .any(|r| r.factors.iter().any(|&f| f != 1.0));
    let wsum: f64 = m
        .regions
        .iter()
        .map(|r| r.registered as f64 * r.turnout)
        .sum();
    let mut scale = [1.0; MAX_PARTIES];
    let rounds = if any_factor { 30 } else { 1 };
    for round in 0..rounds {
        let mut national = [0.0; MAX_PARTIES];
        for (r, reg) in m.regions.iter().enumerate() {
            let w = reg.registered as f64 * reg.turnout / wsum;
            let row = &mut out[r];
            let mut sum = 0.0;
            for j in 0..np {
                row[j] = d.support[j] * reg.factors[j] * scale[j];
                sum += row[j];
            }
            for j in 0..np {
                row[j] = if sum > 0.0 { row[j] / sum } else { 0.0 };
                national[j] += w * row[j];
            }
        }
        if round + 1 < rounds {
            for j in 0..np {
                if national[j] > 0.0 {
                    scale[j] *= d.support[j] / national[j];
                }
            }
        }
    }
    for row in out.iter_mut().take(m.regions.len()) {
        for x in row.iter_mut().take(np) {
            *x *= 1.0 - d.spoiled;
        }
        row[np] = d.spoiled;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::kind::SamplerKind;

    /// Which path `Fast` takes: the stick-breaking tables for the regions that share their
    /// parameters (in odihr-43 all but Astana and Almaty city, whose support factors differ),
    /// gammas where regional factors give every region its own and no region is large enough to
    /// repay a table. Both paths keep the Dirichlet-multinomial's moments (`approx::tests`); this
    /// checks the choice.
    #[test]
    fn fast_tabulates_shared_sticks_only() {
        let mut model = crate::model::load::load("odihr-43")
            .expect("named scenario")
            .model;
        for factors in [false, true] {
            if factors {
                for (r, region) in model.regions.iter_mut().enumerate() {
                    region.factors[1] = 1.0 + r as f64 / 10.0;
                    assert!(u64::from(region.precincts) < approx::STICK_TABLE_MIN_PRECINCTS);
                }
            }
            let layout = Layout::draw(&model, 5);
            let mut sim = Simulator::new(&model, &layout).with_sampler(SamplerKind::Fast);
            let mut rng = crate::sample::rng::stream(5, 0);
            let d = sim.draw(&mut rng);
            sim.run(&mut rng, &d);
            let tabled: u32 = (model.regions.iter().zip(&sim.tabled))
                .filter(|x| *x.1)
                .map(|x| x.0.precincts)
                .sum();
            if factors {
                assert_eq!(tabled, 0);
            } else {
                assert_eq!(tabled, 9_728 - 297 - 651, "all but the two cities");
            }
        }
    }
}
