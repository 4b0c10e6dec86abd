//! `--sampler pooled`: every precinct's own turnout, shares and irregularities, with the ballot
//! counts' binomial noise pooled over the trial.
//!
//! Given what `Fast` draws for a precinct (its turnout, its Dirichlet share vector w, whether its
//! count is irregular, which mechanisms act and how strongly), its true counts are
//! Multinomial(voters, w) and the mechanisms then move ballots binomially. Pooled draws all of
//! those precinct-level unknowns, exactly as `Fast` does, for every precinct, and adds each
//! precinct's conditional mean counts (true and reported) to the national totals. Only the
//! ballot-level noise around those means (X - E[X | the precinct's unknowns]) is not drawn for
//! every precinct: it is drawn, with `Fast`'s binomials, for a random 1 in `stride` of them
//! (those whose index is a random offset modulo `stride`, so each precinct is in with
//! probability 1 / stride), and their noise summed and scaled by sqrt(stride) stands for the
//! whole country's.
//!
//! That keeps the national totals' mean and covariance given the election-level unknowns exactly
//! as `Fast`'s: the noise has mean zero, and its covariance is stride times the subsample's
//! conditional covariances, whose expectation is the sum of every precinct's. The noise is a few
//! percent of the precinct-level spread of the totals (Multinomial against Dirichlet variance,
//! 1 + concentration times smaller per ballot) and a far smaller part of the spread between
//! trials, so a sum of about 300 precincts' noise shapes it well. The exceptions to exact means,
//! all well under a ballot per precinct: miscount's shrinkage is taken at the expected number of
//! valid ballots, and a rewrite's rounding down is not followed (`mechanism::Acting::expect`).
//! It cannot give precinct counts (`recount precincts` needs `fast` or `exact`).

use super::{Draw, Simulator, Totals};
use crate::approx;
use crate::math::keep;
use crate::mechanism::{self, Lanes, Plan};
use crate::model::MAX_CATEGORIES;
use crate::rng::Rng;
use crate::sampler::{self, SamplerKind, count_f64};
use rand::Rng as _;

/// At most this many precincts in a stride of the subsample that draws ballot-level noise.
pub const MAX_STRIDE: usize = 32;

/// At least this many precincts draw ballot-level noise (all of them in smaller countries).
pub const MIN_NOISE_PRECINCTS: usize = 256;

/// The subsample's stride for a country of `precincts`.
pub fn stride(precincts: usize) -> usize {
    (precincts / MIN_NOISE_PRECINCTS).clamp(1, MAX_STRIDE)
}

/// Precincts that the first pass draws together, their numbers laid out lane by lane so that the
/// arithmetic on them vectorises.
const BLOCK: usize = 8;

/// Up to this many 32-bit random numbers a precinct: turnout, one per category's share, the
/// irregularity decision (and one to make the count even).
const MAX_WORDS: usize = MAX_CATEGORIES + 3;

/// x rounded to the nearest integer (ties to even) for 0 <= x < 2^51, without a conversion to
/// an integer (which does not vectorise on x86-64's baseline).
#[inline(always)]
fn round_nearest(x: f64) -> f64 {
    const MAGIC: f64 = 4_503_599_627_370_496.0; // 2^52
    (x + MAGIC) - MAGIC
}

/// One region's precincts whose count a mechanism may change or whose ballot noise is drawn,
/// between the passes: their expected true counts (and, after the second pass, reported;
/// `stride` numbers each), electorate, rescaled irregularity uniform, whether irregular, whether
/// anything acts. Filled without branches: every precinct is written at `len`, and `len` moves
/// on only for those kept, so the vectors hold a block more than the largest region. Kept by the
/// `Simulator` between trials.
#[derive(Default)]
pub(super) struct Pending {
    counts: Vec<f64>,
    after: Vec<f64>,
    registered: Vec<f64>,
    v: Vec<f64>,
    irregular: Vec<u64>,
    acts: Vec<u64>,
    /// The second pass's decisions (`Lanes`) or plans (a model with rewrites).
    bits: Vec<u8>,
    plans: Vec<Plan>,
    len: usize,
}

impl Pending {
    /// Room for `capacity` precincts of `n` categories.
    fn reserve(&mut self, capacity: usize, n: usize) {
        if self.registered.len() < capacity || self.counts.len() < capacity * n {
            self.counts = vec![0.0; capacity * n];
            self.after = vec![0.0; capacity * n];
            self.registered = vec![0.0; capacity];
            self.v = vec![0.0; capacity];
            self.irregular = vec![0; capacity];
            self.acts = vec![0; capacity];
            self.bits = vec![0; capacity];
        }
    }
}

/// Precinct k's `N` numbers in one of `Pending`'s count vectors.
#[inline(always)]
fn row<const N: usize>(v: &mut [f64], k: usize) -> &mut [f64; N] {
    (&mut v[k * N..(k + 1) * N]).try_into().expect("N numbers")
}

/// A precinct whose ballot-level noise is drawn: its place in `Pending`, voters and shares.
struct Noisy<const N: usize> {
    slot: usize,
    voters: u64,
    w: [f64; N],
}

/// `bits` where `on` is 1, else no decisions (0).
#[inline(always)]
fn keep_bits(on: u64, bits: u8) -> u8 {
    bits & 0u8.wrapping_sub(on as u8)
}

impl Simulator<'_> {
    /// `run` for `SamplerKind::Pooled` (after `set_regional_means`).
    pub(super) fn run_pooled(&mut self, rng: &mut Rng, d: &Draw) -> Totals {
        // Fixed-size count vectors let the compiler unroll and vectorise the sums.
        if self.n_cat <= 8 {
            self.run_pooled_n::<8>(rng, d)
        } else {
            self.run_pooled_n::<MAX_CATEGORIES>(rng, d)
        }
    }

    /// Per region: a first pass over its precincts in blocks (turnout, shares, expected true
    /// counts, the irregularity decision), a second over those that mechanisms may act on
    /// (what they move in expectation), a third over those whose ballot noise is drawn.
    fn run_pooled_n<const N: usize>(&mut self, rng: &mut Rng, d: &Draw) -> Totals {
        let m = self.model;
        let l = self.layout;
        let n_cat = self.n_cat;
        let ir = &m.irregular;
        let acts = mechanism::Acting::new(m, d).with_sampler(SamplerKind::Fast);
        let lanes = Lanes::<N>::new(&acts, n_cat);
        // p_irr by (urban, e-voting), computed as `run` does, and 1 / min(p_irr, 1).
        let p_irr: [f64; 4] = std::array::from_fn(|k| {
            let mut p = d.prevalence;
            if k & 1 != 0 {
                p *= ir.urban_multiplier;
            }
            if k & 2 != 0 {
                p *= ir.evoting_multiplier;
            }
            p
        });
        let inv_p_irr = p_irr.map(|p| 1.0 / p.min(1.0));
        let stride = stride(l.len());
        let mut next_noisy = (rng.next_u64() % stride as u64) as usize;
        // Sums per category and lane, added up at the end (a fixed order).
        let mut mean_true = [[0.0f64; BLOCK]; N];
        let mut moved = [0.0f64; N];
        let mut noise_true = [0.0f64; N];
        let mut noise_reported = [0.0f64; N];
        let mut irregular_precincts = 0u64;
        let largest_region = l.region_range.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut pending = std::mem::take(&mut self.pending);
        pending.reserve(largest_region + BLOCK, N);
        let mut noisy: Vec<Noisy<N>> = Vec::new();
        // The first pass's numbers for a block, lane by lane (rewritten for every block: the
        // categories past the model's stay 0, a block's dead lanes get no electorate).
        let mut words = [[0u32; BLOCK]; MAX_WORDS];
        let mut turnout = [0.0f64; BLOCK];
        let mut g = [[0.0f64; BLOCK]; N];
        let mut registered = [0.0f64; BLOCK];
        let mut voters = [0.0f64; BLOCK];
        let mut w = [[0.0f64; BLOCK]; N];
        let mut e = [[0.0f64; BLOCK]; N];
        for r in 0..m.regions.len() {
            let turnout_table = self.turnout_table.get(r).and_then(Option::as_ref);
            let (n_spikes, n_rest) = self.split[r];
            let spikes = &self.spikes[r][..n_spikes];
            let rest_order = &self.rest_order[r][..n_rest];
            let (&largest, rest) = rest_order.split_last().expect("at least one category");
            let tabled = self.tabled[r];
            let sticks: Vec<&approx::BetaTable> = if tabled {
                self.sticks[r][..n_rest.saturating_sub(1)]
                    .iter()
                    .filter_map(|&k| self.stick_pool[k].as_ref())
                    .collect()
            } else {
                Vec::new()
            };
            let gammas = &self.gammas[r][..n_cat];
            let alpha = &self.alpha[r][..n_cat];
            // Turnout, spikes, sticks, the irregularity decision: 32 random bits each.
            let n_words = 2 + n_spikes + sticks.len();
            let range = l.region_range[r].clone();
            pending.len = 0;
            noisy.clear();
            let mut i0 = range.start;
            while i0 < range.end {
                let live = (range.end - i0).min(BLOCK);
                // The random numbers, precinct by precinct.
                for lane in 0..live {
                    for k in (0..n_words).step_by(2) {
                        let x = rng.next_u64();
                        words[k][lane] = (x >> 32) as u32;
                        words[k + 1][lane] = x as u32;
                    }
                    if turnout_table.is_none() {
                        turnout[lane] = self.turnout[r].sample(rng);
                    }
                    if !tabled {
                        for &c in rest_order {
                            g[c][lane] = gammas[c].sample(rng);
                        }
                    }
                }
                registered[live..].fill(0.0);
                for (x, &y) in registered.iter_mut().zip(&l.registered[i0..i0 + live]) {
                    *x = f64::from(y);
                }
                if let Some(t) = turnout_table {
                    for (x, &bits) in turnout.iter_mut().zip(&words[0]) {
                        *x = t.sample32(bits);
                    }
                }
                for ((n, &r), &t) in voters.iter_mut().zip(&registered).zip(&turnout) {
                    *n = round_nearest(r * t);
                }
                // The share vectors: spikes h or 0 (hit when the 32 bits are below pi in units
                // of 2^-32), then the other categories from the stick tables or the gammas.
                let mut mass = [1.0f64; BLOCK];
                for (s, words) in spikes.iter().zip(&words[1..]) {
                    let row = &mut w[s.category];
                    for ((x, m), &bits) in row.iter_mut().zip(&mut mass).zip(words) {
                        // 1 if bits < pi32 (both below 2^33: the difference's top bit).
                        let hit = u64::from(bits).wrapping_sub(s.pi32) >> 63;
                        *x = keep(hit, s.h);
                        *m -= *x;
                    }
                }
                if tabled {
                    for ((&c, table), words) in rest.iter().zip(&sticks).zip(&words[1 + n_spikes..]) {
                        let row = &mut w[c];
                        for ((x, m), &bits) in row.iter_mut().zip(&mut mass).zip(words) {
                            *x = *m * table.sample32(bits);
                            *m -= *x;
                        }
                    }
                    w[largest] = mass;
                } else {
                    for lane in 0..live {
                        let mut total: f64 = rest_order.iter().map(|&c| g[c][lane]).sum();
                        // All gammas underflowed (only with tiny shapes): the mean shares.
                        if total <= 0.0 {
                            rest_order.iter().for_each(|&c| g[c][lane] = alpha[c]);
                            total = rest_order.iter().map(|&c| alpha[c]).sum();
                        }
                        for &c in rest_order {
                            w[c][lane] = g[c][lane] * (mass[lane] / total);
                        }
                    }
                }
                for ((e, w), t) in e.iter_mut().zip(&w).zip(&mut mean_true) {
                    for (((e, &w), t), &n) in e.iter_mut().zip(w).zip(t).zip(&voters) {
                        *e = n * w;
                        *t += *e;
                    }
                }
                // The irregularity decisions, then the precincts kept for the next passes.
                for lane in 0..live {
                    let i = i0 + lane;
                    let kind = usize::from(l.urban[i]) | usize::from(l.evoting[i]) << 1;
                    let p = p_irr[kind];
                    let u = (f64::from(words[n_words - 1][lane]) + 0.5) * (1.0 / 4_294_967_296.0);
                    let irregular = crate::math::less(u, p);
                    self.irregular[i] = irregular == 1;
                    irregular_precincts += irregular;
                    let acting = irregular | acts.honest_bit(u, p);
                    let k = pending.len;
                    for (x, e) in row::<N>(&mut pending.counts, k).iter_mut().zip(&e) {
                        *x = e[lane];
                    }
                    pending.registered[k] = registered[lane];
                    pending.v[k] = u * inv_p_irr[kind];
                    pending.irregular[k] = irregular;
                    pending.acts[k] = acting;
                    let is_noisy = i == next_noisy;
                    if is_noisy {
                        next_noisy += stride;
                        noisy.push(Noisy {
                            slot: k,
                            voters: voters[lane] as u64,
                            w: std::array::from_fn(|c| w[c][lane]),
                        });
                    }
                    pending.len += (acting | u64::from(is_noisy)) as usize;
                }
                i0 += live;
            }
            // The second pass: what the mechanisms move, in expectation.
            let n_pending = pending.len;
            match &lanes {
                Some(lanes) => {
                    for k in 0..n_pending {
                        let bits = keep_bits(
                            pending.acts[k],
                            lanes.decide(pending.v[k], pending.irregular[k]),
                        );
                        let before = *row::<N>(&mut pending.counts, k);
                        let mut e = before;
                        lanes.expect(bits, pending.registered[k], &mut e);
                        for ((t, &after), &before) in moved.iter_mut().zip(&e).zip(&before) {
                            *t += after - before;
                        }
                        *row::<N>(&mut pending.after, k) = e;
                        pending.bits[k] = bits;
                    }
                }
                // A rewrite's invented figures take random numbers (`plan_reusing`).
                None => {
                    pending.plans.clear();
                    for k in 0..n_pending {
                        let plan = if pending.acts[k] == 0 {
                            Plan::default()
                        } else if pending.irregular[k] == 1 {
                            acts.plan_reusing(rng, pending.v[k])
                        } else {
                            acts.honest_plan()
                        };
                        let before = *row::<N>(&mut pending.counts, k);
                        let mut e = before;
                        acts.expect(&plan, pending.registered[k] as u64, &mut e[..n_cat]);
                        for ((t, &after), &before) in moved.iter_mut().zip(&e).zip(&before) {
                            *t += after - before;
                        }
                        *row::<N>(&mut pending.after, k) = e;
                        pending.plans.push(plan);
                    }
                }
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
                let before = *row::<N>(&mut pending.counts, nz.slot);
                for ((t, &v), &e) in noise_true.iter_mut().zip(&votes).zip(&before) {
                    *t += count_f64(v) - e;
                }
                let plan = match &lanes {
                    Some(lanes) => lanes.plan(pending.bits[nz.slot]),
                    None => pending.plans[nz.slot],
                };
                let registered = pending.registered[nz.slot] as u64;
                acts.apply(&plan, rng, registered, &mut votes[..n_cat]);
                let after = *row::<N>(&mut pending.after, nz.slot);
                for ((t, &v), &e) in noise_reported.iter_mut().zip(&votes).zip(&after) {
                    *t += count_f64(v) - e;
                }
            }
        }
        self.pending = pending;
        let mean_true: [f64; N] = std::array::from_fn(|c| mean_true[c].iter().sum());
        let mut mean_reported = mean_true;
        for (t, &x) in mean_reported.iter_mut().zip(&moved) {
            *t += x;
        }
        let scale = (stride as f64).sqrt();
        let total = |mean: &[f64; N], noise: &[f64; N]| {
            let mut out = [0u64; MAX_CATEGORIES];
            for ((o, &m), &z) in out.iter_mut().zip(mean).zip(noise).take(n_cat) {
                // Negative only where a category's mean is within its noise of zero.
                *o = sampler::round_count((m + scale * z).max(0.0));
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
    use crate::country::Layout;

    /// With precinct turnout and shares (almost) fixed (concentrations 1e7) and no
    /// irregularities, a national count's spread is the ballots' multinomial noise alone, with
    /// variance sum n w (1 - w) over precincts: pooled, which draws it for 1 precinct in 32 and
    /// scales it by sqrt(32), must give that variance, as `Fast` (drawing every precinct) does.
    /// 1,500 elections each; the sample variance's standard error is sqrt(2 / 1,499) = 3.7% of
    /// it, so the tolerance of 15% is 4 standard errors (without the scaling it would be 1/32).
    #[test]
    fn pooled_noise_has_the_ballots_multinomial_variance() {
        let mut model = crate::load::load("odihr-43").expect("named scenario").model;
        model.turnout_concentration = 1e7;
        model.share_concentration = 1e7;
        let layout = Layout::draw(&model, 3);
        assert_eq!(stride(layout.len()), MAX_STRIDE);
        let runs = 1_500;
        for kind in [SamplerKind::Fast, SamplerKind::Pooled] {
            let mut sim = Simulator::new(&model, &layout).with_sampler(kind);
            let mut rng = crate::rng::stream(3, 0);
            let mut d = sim.draw(&mut rng);
            d.prevalence = 0.0;
            // Party 1 (NSDP), at its regional mean share in every precinct.
            let xs: Vec<f64> = (0..runs)
                .map(|_| sim.run(&mut rng, &d).true_votes[1] as f64)
                .collect();
            let mean = xs.iter().sum::<f64>() / runs as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (runs - 1) as f64;
            let mut m = vec![[0.0; MAX_CATEGORIES]; model.regions.len()];
            super::super::regional_means(&model, &d, &mut m);
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
