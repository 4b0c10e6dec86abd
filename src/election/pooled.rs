//! `--sampler pooled`: every precinct's own turnout, shares and irregularities, with the ballot
//! counts' binomial noise pooled over the trial.
//!
//! Given what `Fast` draws for a precinct (its turnout, its Dirichlet share vector w, whether its
//! count is irregular, which mechanisms act and how strongly), its true counts are
//! Multinomial(voters, w) and the mechanisms then move ballots binomially. Pooled draws all of
//! those precinct-level unknowns from `Fast`'s laws, for every precinct, and adds each
//! precinct's conditional mean counts (true and reported) to the national totals. Only the
//! ballot-level noise around those means (X - E[X | the precinct's unknowns]) is not drawn for
//! every precinct: it is drawn, with `Fast`'s binomials, for a random 1 in `stride` of them
//! (those whose index is a random offset modulo `stride`, so each precinct is in with
//! probability 1 / stride), and their noise summed and scaled by sqrt(stride) stands for the
//! whole country's.
//!
//! That keeps the national totals' mean and covariance given the election-level unknowns as
//! `Fast`'s: the noise has mean zero, and its covariance is stride times the subsample's
//! conditional covariances, whose expectation is the sum of every precinct's. The noise is a few
//! percent of the precinct-level spread of the totals (Multinomial against Dirichlet variance,
//! 1 + concentration times smaller per ballot) and a far smaller part of the spread between
//! trials, so a sum of about 150 precincts' noise (odihr-43: 9,728 / 64) shapes it well. The
//! exceptions to exact means, all well under a ballot per precinct: miscount's shrinkage
//! (1 - c / V)^V is taken at its many-ballot limit e^-c (under c^2 ballots a party, c about
//! the miscount rate: `mechanism::expected::ByOutcome::expect`), and a rewrite's rounding down is not
//! followed (`mechanism::Acting::expect`). It cannot give precinct counts (`recount precincts`
//! needs `fast` or `exact`).
//!
//! How it is fast: per precinct, a few 32-bit random numbers (turnout, the sticks, one for the
//! pattern of up to five two-point shares and one for the whole irregularity outcome, both
//! from alias tables: `alias`), table lookups and a handful of vector operations, without
//! branches on random decisions. The mechanisms' expected effect is linear in the counts for
//! every outcome but a rewrite, so precincts are summed by outcome and moved once per trial
//! (`ByOutcome::nonlinear`); rewritten ones are kept for a second pass. Pooled
//! draws its unknowns from the same laws as `Fast` but from other random numbers: the same seed
//! gives other (equally valid) trials.

use crate::election::country::Layout;
use crate::election::draw::{Draw, Totals};
use crate::election::mechanism::expected::{self as outcomes, ByOutcome};
use crate::election::mechanism::{self, Actions};
use crate::election::trial::{Simulator, region_sticks};
use crate::model::MAX_CATEGORIES;
use crate::sample::alias::{self, Alias};
use crate::sample::approx;
use crate::sample::exact::{self, count_f64};
use crate::sample::kind::SamplerKind;
use crate::sample::rng::Rng;
use rand::Rng as _;

/// At most this many precincts in a stride of the subsample that draws ballot-level noise.
pub const MAX_STRIDE: usize = 64;

/// At least this many precincts draw ballot-level noise (all of them in smaller countries).
pub const MIN_NOISE_PRECINCTS: usize = 128;

/// The subsample's stride for a country of `precincts`.
pub fn stride(precincts: usize) -> usize {
    (precincts / MIN_NOISE_PRECINCTS).clamp(1, MAX_STRIDE)
}

/// x rounded to the nearest integer (ties to even) for 0 <= x < 2^51 without a conversion to an
/// integer (`Fast` rounds ties up; a tie needs registered x turnout to be exactly half-integral).
#[inline(always)]
fn round_nearest(x: f64) -> f64 {
    const MAGIC: f64 = 4_503_599_627_370_496.0; // 2^52
    (x + MAGIC) - MAGIC
}

/// Up to this many 32-bit random numbers a precinct: turnout, the spike patterns, the sticks,
/// the outcome (and one to make the count even).
const MAX_WORDS: usize = MAX_CATEGORIES + 3;

/// Spikes decided together by one alias table: 2^5 = `alias::SLOTS` patterns.
const GROUP: usize = 5;

/// Up to `GROUP` spike categories of a region, decided together (`Tables`): the law of their
/// hit pattern, each pattern's shares (h for the categories hit, else 0) and total.
#[derive(Clone)]
struct SpikeGroup {
    pattern: Alias,
    shares: [[f64; MAX_CATEGORIES]; alias::SLOTS],
    taken: [f64; alias::SLOTS],
}

/// What `Pooled` builds per trial and keeps between trials (so the hot loop never allocates).
#[derive(Default)]
pub struct Tables {
    /// Per region, its spike groups in `groups`.
    region_groups: Vec<std::ops::Range<usize>>,
    groups: Vec<SpikeGroup>,
    /// One region's precincts that are rewritten or whose ballot noise is drawn, between the
    /// passes: expected true counts (and, after the second pass, reported; N numbers
    /// each), electorate, outcome. Filled without branches: every precinct is written at `len`,
    /// and `len` moves on only for those kept, so the vectors hold one more than the largest
    /// region.
    counts: Vec<f64>,
    after: Vec<f64>,
    registered: Vec<f64>,
    outcome: Vec<u8>,
    /// A rewritten precinct's plan (its invented figures), by place.
    rewrites: Vec<(usize, Actions)>,
    len: usize,
}

impl Tables {
    /// Room for `capacity` precincts of `n` categories.
    fn reserve(&mut self, capacity: usize, n: usize) {
        if self.registered.len() < capacity || self.counts.len() < capacity * n {
            self.counts = vec![0.0; capacity * n];
            self.after = vec![0.0; capacity * n];
            self.registered = vec![0.0; capacity];
            self.outcome = vec![0; capacity];
        }
    }

    /// The spike groups of every region for this trial's two-point shares.
    fn set_groups(
        &mut self,
        spikes: &[[approx::SpikeShare; MAX_CATEGORIES]],
        split: &[(usize, usize)],
    ) {
        self.region_groups.clear();
        let mut n = 0;
        for (r, (region, &(n_spikes, _))) in spikes.iter().zip(split).enumerate() {
            // Regions with the same parameters (all but the two cities in the named
            // scenarios) share their groups.
            let same = |q: usize| {
                split[q].0 == n_spikes
                    && spikes[q][..n_spikes]
                        .iter()
                        .zip(&region[..n_spikes])
                        .all(|(a, b)| {
                            (a.category, a.pi.to_bits(), a.h.to_bits())
                                == (b.category, b.pi.to_bits(), b.h.to_bits())
                        })
            };
            if let Some(q) = (0..r).find(|&q| same(q)) {
                let shared = self.region_groups[q].clone();
                self.region_groups.push(shared);
                continue;
            }
            let start = n;
            for chunk in region[..n_spikes].chunks(GROUP) {
                if self.groups.len() <= n {
                    self.groups.push(SpikeGroup {
                        pattern: Alias::default(),
                        shares: [[0.0; MAX_CATEGORIES]; alias::SLOTS],
                        taken: [0.0; alias::SLOTS],
                    });
                }
                let g = &mut self.groups[n];
                let mut law = [0.0; alias::SLOTS];
                for (pattern, p) in law.iter_mut().enumerate().take(1 << chunk.len()) {
                    *p = 1.0;
                    g.shares[pattern] = [0.0; MAX_CATEGORIES];
                    g.taken[pattern] = 0.0;
                    for (j, s) in chunk.iter().enumerate() {
                        let hit = pattern >> j & 1 == 1;
                        *p *= if hit { s.pi } else { 1.0 - s.pi };
                        if hit {
                            g.shares[pattern][s.category] = s.h;
                            g.taken[pattern] += s.h;
                        }
                    }
                }
                g.pattern = Alias::new(&law[..1 << chunk.len()]);
                n += 1;
            }
            self.region_groups.push(start..n);
        }
    }
}

/// Precinct k's `N` numbers in one of `Tables`' count vectors.
#[inline(always)]
fn row<const N: usize>(v: &mut [f64], k: usize) -> &mut [f64; N] {
    (&mut v[k * N..(k + 1) * N]).try_into().expect("N numbers")
}

/// A precinct whose ballot-level noise is drawn: its place in `Tables`, voters and shares.
struct Noisy<const N: usize> {
    slot: usize,
    voters: u64,
    w: [f64; N],
}

/// What the first pass adds up over a trial's precincts.
struct Sums<const N: usize> {
    /// Expected true counts and electorate, by outcome.
    by_outcome: [[f64; N]; outcomes::OUTCOMES],
    registered_by_outcome: [f64; outcomes::OUTCOMES],
    irregular_precincts: u64,
    /// The next precinct whose ballot noise is drawn.
    next_noisy: usize,
}

/// One region's laws, for the first pass over its precincts.
struct Region<'a> {
    precincts: std::ops::Range<usize>,
    turnout_table: Option<&'a approx::BetaTable>,
    turnout: &'a exact::Beta,
    groups: &'a [SpikeGroup],
    sticks: &'a [&'a approx::BetaTable],
    rest_order: &'a [usize],
    tabled: bool,
    gammas: &'a [exact::Gamma],
    alpha: &'a [f64],
}

/// The first pass over a region's precincts: turnout, shares, expected true counts and the
/// outcome of the irregularity decisions, summed by outcome (`Sums`); the precincts that are
/// rewritten or whose ballot noise is drawn are kept in `Tables` for the others.
struct FirstPass<'a, const N: usize> {
    layout: &'a Layout,
    outcomes: &'a [Alias; 4],
    stride: usize,
    sums: &'a mut Sums<N>,
    tables: &'a mut Tables,
    noisy: &'a mut Vec<Noisy<N>>,
    irregular: &'a mut [bool],
}

impl<const N: usize> FirstPass<'_, N> {
    #[inline(always)]
    fn run(&mut self, region: &Region, rng: &mut Rng) {
        let l = self.layout;
        let sums = &mut *self.sums;
        let t = &mut *self.tables;
        let outcomes = self.outcomes;
        let turnout_table = region.turnout_table;
        let (groups, sticks) = (region.groups, region.sticks);
        let rest_order = region.rest_order;
        let (&largest, rest) = rest_order.split_last().expect("at least one category");
        let tabled = region.tabled;
        let (gammas, alpha) = (region.gammas, region.alpha);
        // Turnout, the spike groups, the sticks, the outcome: 32 random bits each.
        let n_words = 2 + groups.len() + sticks.len();
        for i in region.precincts.clone() {
            let mut words = [0u32; MAX_WORDS];
            for k in (0..n_words).step_by(2) {
                let x = rng.next_u64();
                words[k] = (x >> 32) as u32;
                words[k + 1] = x as u32;
            }
            let registered = u64::from(l.registered[i]);
            let turnout = match turnout_table {
                Some(table) => table.sample32(words[0]),
                None => region.turnout.sample(rng),
            };
            let n = round_nearest(count_f64(registered) * turnout);
            // The share vector: the spikes' pattern, then the sticks (or gammas) share what
            // the spikes leave.
            let pattern = |j: usize| {
                let g = &groups[j];
                let p = g.pattern.sample(words[1 + j]);
                let shares: &[f64; N] = g.shares[p][..N].try_into().expect("N shares");
                (shares, g.taken[p])
            };
            let (mut w, mut mass) = match groups.len() {
                0 => ([0.0f64; N], 1.0),
                _ => {
                    let (shares, taken) = pattern(0);
                    (*shares, 1.0 - taken)
                }
            };
            for j in 1..groups.len() {
                let (shares, taken) = pattern(j);
                for (w, &h) in w.iter_mut().zip(shares) {
                    *w += h;
                }
                mass -= taken;
            }
            if tabled {
                let words = &words[1 + groups.len()..];
                for ((&c, table), &bits) in rest.iter().zip(sticks).zip(words) {
                    let x = mass * table.sample32(bits);
                    w[c] = x;
                    mass -= x;
                }
                w[largest] = mass;
            } else {
                let mut total = 0.0;
                for &c in rest_order {
                    w[c] = gammas[c].sample(rng);
                    total += w[c];
                }
                // All gammas underflowed (only with tiny shapes): the mean shares.
                if total <= 0.0 {
                    rest_order.iter().for_each(|&c| w[c] = alpha[c]);
                    total = rest_order.iter().map(|&c| alpha[c]).sum();
                }
                for &c in rest_order {
                    w[c] *= mass / total;
                }
            }
            let e = w.map(|w| n * w);
            let kind = usize::from(l.urban[i]) | usize::from(l.evoting[i]) << 1;
            let outcome = outcomes[kind].sample(words[n_words - 1]);
            let irregular = outcome > outcomes::HONEST;
            self.irregular[i] = irregular;
            sums.irregular_precincts += u64::from(irregular);
            // Every precinct is summed by outcome: the true totals, and what the mechanisms
            // move in expectation, at the end (but a rewrite's, `ByOutcome::nonlinear`, which
            // waits for the second pass).
            for (s, &e) in sums.by_outcome[outcome].iter_mut().zip(&e) {
                *s += e;
            }
            sums.registered_by_outcome[outcome] += count_f64(registered);
            let k = t.len;
            *row::<N>(&mut t.counts, k) = e;
            t.registered[k] = count_f64(registered);
            t.outcome[k] = outcome as u8;
            let is_noisy = i == sums.next_noisy;
            if is_noisy {
                sums.next_noisy += self.stride;
                self.noisy.push(Noisy {
                    slot: k,
                    voters: n as u64,
                    w,
                });
            }
            t.len += usize::from(ByOutcome::<N>::nonlinear(outcome) || is_noisy);
        }
    }
}

impl Simulator<'_> {
    /// Region r's stick tables (none where its sticks are drawn from gammas).
    fn region_sticks(&self, r: usize) -> Vec<&approx::BetaTable> {
        let n_rest = self.split[r].1;
        region_sticks(
            self.tabled[r],
            &self.sticks[r][..n_rest.saturating_sub(1)],
            &self.stick_pool,
        )
    }

    /// Region r's laws for the first pass, with its spike groups and stick tables.
    fn region<'a>(
        &'a self,
        r: usize,
        groups: &'a [SpikeGroup],
        sticks: &'a [&'a approx::BetaTable],
    ) -> Region<'a> {
        Region {
            precincts: self.layout.region_range[r].clone(),
            turnout_table: self.turnout_table.get(r).and_then(Option::as_ref),
            turnout: &self.turnout[r],
            groups,
            sticks,
            rest_order: &self.rest_order[r][..self.split[r].1],
            tabled: self.tabled[r],
            gammas: &self.gammas[r][..self.n_cat],
            alpha: &self.alpha[r][..self.n_cat],
        }
    }

    /// `run` for `SamplerKind::Pooled`, with its tables and buffers `t`.
    pub(super) fn run_pooled(&mut self, t: &mut Tables, rng: &mut Rng, d: &Draw) -> Totals {
        self.set_regional_means(d);
        // Fixed-size count vectors let the compiler unroll and vectorise the sums.
        if self.n_cat <= 8 {
            self.run_pooled_n::<8>(t, rng, d)
        } else {
            self.run_pooled_n::<MAX_CATEGORIES>(t, rng, d)
        }
    }

    /// Per region: a first pass over its precincts (turnout, shares, expected true counts, the
    /// outcome of their irregularity decisions), a second over those that mechanisms may act on
    /// (what the mechanisms move, in expectation), a third over those whose ballot noise is
    /// drawn. Kept whole though long: the hot loop of the fastest sampler, whose buffers are taken
    /// out of `self` and `t` once per trial so the passes can borrow them side by side.
    fn run_pooled_n<const N: usize>(&mut self, t: &mut Tables, rng: &mut Rng, d: &Draw) -> Totals {
        let m = self.model;
        let l = self.layout;
        let n_cat = self.n_cat;
        let ir = &m.irregular;
        let acts = mechanism::Acting::new(m, d).with_sampler(SamplerKind::Fast);
        let effects = ByOutcome::<N>::new(&acts, n_cat);
        // The outcome's law by (urban, e-voting), with p_irr computed as `run` does.
        let outcomes: [Alias; 4] = std::array::from_fn(|k| {
            // Index k: urban in bit 0, e-voting in bit 1.
            let p = ir.irregular_probability(d.prevalence, k & 1 != 0, k & 2 != 0);
            Alias::new(&effects.outcomes(p))
        });
        let stride = stride(l.len());
        let mut sums = Sums {
            by_outcome: [[0.0f64; N]; outcomes::OUTCOMES],
            registered_by_outcome: [0.0f64; outcomes::OUTCOMES],
            irregular_precincts: 0,
            next_noisy: (rng.next_u64() % stride as u64) as usize,
        };
        let mut moved = [0.0f64; N];
        let mut noise_true = [0.0f64; N];
        let mut noise_reported = [0.0f64; N];
        let largest_region = l.region_range.iter().map(|r| r.len()).max().unwrap_or(0);
        t.reserve(largest_region + 1, N);
        t.set_groups(&self.spikes, &self.split);
        // Out of `t` and `self` while the first pass writes to them.
        let spike_groups = std::mem::take(&mut t.groups);
        let mut irregular = std::mem::take(&mut self.irregular);
        let mut noisy: Vec<Noisy<N>> = Vec::new();
        for r in 0..m.regions.len() {
            let (n_spikes, n_rest) = self.split[r];
            let spikes = &self.spikes[r][..n_spikes];
            let rest_order = &self.rest_order[r][..n_rest];
            let sticks = self.region_sticks(r);
            let groups = &spike_groups[t.region_groups[r].clone()];
            t.len = 0;
            t.rewrites.clear();
            noisy.clear();
            let region = self.region(r, groups, &sticks);
            let mut first = FirstPass {
                layout: l,
                outcomes: &outcomes,
                stride,
                sums: &mut sums,
                tables: &mut *t,
                noisy: &mut noisy,
                irregular: &mut irregular,
            };
            first.run(&region, rng);
            // The second pass: what the mechanisms move in expectation, in the precincts kept.
            for k in 0..t.len {
                let before = *row::<N>(&mut t.counts, k);
                let mut e = before;
                let outcome = usize::from(t.outcome[k]);
                if outcome == outcomes::REWRITTEN {
                    let plan = acts.plan_rewrite(rng);
                    acts.expect(&plan, t.registered[k] as u64, &mut e[..n_cat]);
                    t.rewrites.push((k, plan));
                } else {
                    effects.expect(ByOutcome::<N>::bits(outcome), t.registered[k], &mut e);
                }
                // A noisy precinct with a linear outcome is in its outcome's sum already.
                if ByOutcome::<N>::nonlinear(outcome) {
                    for ((t, &after), &before) in moved.iter_mut().zip(&e).zip(&before) {
                        *t += after - before;
                    }
                }
                *row::<N>(&mut t.after, k) = e;
            }
            // The third: the ballots of the subsample, around their expectations.
            for nz in &noisy {
                let mut votes = [0u64; MAX_CATEGORIES];
                approx::multinomial_shares(
                    rng,
                    nz.voters,
                    spikes,
                    rest_order,
                    &nz.w[..n_cat],
                    &mut votes[..n_cat],
                );
                let before = *row::<N>(&mut t.counts, nz.slot);
                for ((t, &v), &e) in noise_true.iter_mut().zip(&votes).zip(&before) {
                    *t += count_f64(v) - e;
                }
                let outcome = usize::from(t.outcome[nz.slot]);
                let plan = if outcome == outcomes::REWRITTEN {
                    t.rewrites
                        .iter()
                        .find(|x| x.0 == nz.slot)
                        .expect("planned")
                        .1
                } else {
                    effects.plan(ByOutcome::<N>::bits(outcome))
                };
                let registered = t.registered[nz.slot] as u64;
                acts.apply(&plan, rng, registered, &mut votes[..n_cat]);
                let after = *row::<N>(&mut t.after, nz.slot);
                for ((t, &v), &e) in noise_reported.iter_mut().zip(&votes).zip(&after) {
                    *t += count_f64(v) - e;
                }
            }
        }
        t.groups = spike_groups;
        self.irregular = irregular;
        let Sums {
            by_outcome,
            registered_by_outcome,
            irregular_precincts,
            ..
        } = sums;
        // Every precinct is in its outcome's sum.
        let mut mean_true = [0.0f64; N];
        for sum in &by_outcome {
            for (t, &x) in mean_true.iter_mut().zip(sum) {
                *t += x;
            }
        }
        for (outcome, (sum, &registered)) in
            by_outcome.iter().zip(&registered_by_outcome).enumerate()
        {
            if outcome != outcomes::REGULAR && !ByOutcome::<N>::nonlinear(outcome) {
                let mut e = *sum;
                effects.expect(ByOutcome::<N>::bits(outcome), registered, &mut e);
                for ((t, &after), &before) in moved.iter_mut().zip(&e).zip(sum) {
                    *t += after - before;
                }
            }
        }
        let mut mean_reported = mean_true;
        for (t, &x) in mean_reported.iter_mut().zip(&moved) {
            *t += x;
        }
        let scale = (stride as f64).sqrt();
        let total = |mean: &[f64; N], noise: &[f64; N]| {
            let mut out = [0u64; MAX_CATEGORIES];
            for ((o, &m), &z) in out.iter_mut().zip(mean).zip(noise).take(n_cat) {
                // Negative only where a category's mean is within its noise of zero.
                *o = exact::round_count((m + scale * z).max(0.0));
            }
            out
        };
        Totals {
            true_votes: total(&mean_true, &noise_true),
            reported_votes: total(&mean_reported, &noise_reported),
            registered: l.registered.iter().map(|&x| u64::from(x)).sum(),
            irregular_precincts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::country::Layout;

    /// With precinct turnout and shares (almost) fixed (concentrations 1e7) and no
    /// irregularities, a national count's spread is the ballots' multinomial noise alone, with
    /// variance sum n w (1 - w) over precincts: pooled, which draws it for 1 precinct in 64 and
    /// scales it by sqrt(64), must give that variance, as `Fast` (drawing every precinct) does.
    /// 1,500 elections each; the sample variance's standard error is sqrt(2 / 1,499) = 3.7% of
    /// it, so the tolerance of 15% is 4 standard errors (without the scaling it would be 1/64).
    #[test]
    fn pooled_noise_has_the_ballots_multinomial_variance() {
        let mut model = crate::model::load::load("odihr-43")
            .expect("named scenario")
            .model;
        model.turnout_concentration = 1e7;
        model.share_concentration = 1e7;
        let layout = Layout::draw(&model, 3);
        assert_eq!(stride(layout.len()), MAX_STRIDE);
        let runs = 1_500;
        for kind in [SamplerKind::Fast, SamplerKind::Pooled] {
            let mut sim = crate::election::sampler::Sampler::new(&model, &layout, kind);
            let mut rng = crate::sample::rng::stream(3, 0);
            let mut d = sim.draw(&mut rng);
            d.prevalence = 0.0;
            // Party 1 (NSDP), at its regional mean share in every precinct.
            let xs: Vec<f64> = (0..runs)
                .map(|_| sim.run(&mut rng, &d).true_votes[1] as f64)
                .collect();
            let mean = xs.iter().sum::<f64>() / runs as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (runs - 1) as f64;
            let mut m = vec![[0.0; MAX_CATEGORIES]; model.regions.len()];
            crate::election::trial::regional_means(&model, &d, &mut m);
            let mut expected = 0.0;
            for (r, range) in layout.region_range.iter().enumerate() {
                let w = m[r][1];
                for i in range.clone() {
                    let n = (layout.registered[i] as f64 * model.regions[r].turnout).round();
                    expected += n * w * (1.0 - w);
                }
            }
            assert!(
                (var / expected - 1.0).abs() < 0.15,
                "{kind:?}: variance {var} against the multinomial's {expected}"
            );
        }
    }
}
