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

/// A precinct whose count is irregular or miscounted honestly, waiting for the second pass of
/// its region (`Lanes::decide` and `Lanes::expect`): its expected true counts, electorate,
/// rescaled irregularity uniform, and whether it is irregular (1) or miscounted honestly (0).
#[derive(Clone, Copy)]
struct Acted<const N: usize> {
    counts: [f64; N],
    registered: f64,
    v: f64,
    irregular: u64,
}

/// `bits` where `on` is 1, else no decisions (0).
#[inline(always)]
fn keep_bits(on: u64, bits: u8) -> u8 {
    bits & 0u8.wrapping_sub(on as u8)
}

/// Up to this many 32-bit random numbers a precinct: turnout, one per category's share, the
/// irregularity decision.
const MAX_WORDS: usize = MAX_CATEGORIES + 2;

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
        let mut mean_true = [0.0f64; N];
        let mut moved = [0.0f64; N];
        let mut noise_true = [0.0f64; N];
        let mut noise_reported = [0.0f64; N];
        let (mut registered_total, mut irregular_precincts) = (0u64, 0u64);
        let mut acted = vec![
            Acted {
                counts: [0.0; N],
                registered: 0.0,
                v: 0.0,
                irregular: 0,
            };
            l.region_range.iter().map(|r| r.len()).max().unwrap_or(0) + 1
        ];
        // Categories past the model's stay 0.
        let mut w = [0.0f64; N];
        for r in 0..m.regions.len() {
            let turnout_table = self.turnout_table.get(r).and_then(Option::as_ref);
            let (n_spikes, n_rest) = self.split[r];
            let spikes = &self.spikes[r][..n_spikes];
            let rest_order = &self.rest_order[r][..n_rest];
            let sticks: Vec<&approx::BetaTable> = if self.tabled[r] {
                self.sticks[r][..n_rest.saturating_sub(1)]
                    .iter()
                    .filter_map(|&k| self.stick_pool[k].as_ref())
                    .collect()
            } else {
                Vec::new()
            };
            let shares = Shares {
                spikes,
                sticks: self.tabled[r].then_some(&sticks[..]),
                gammas: &self.gammas[r][..n_cat],
                alpha: &self.alpha[r][..n_cat],
                order: rest_order,
            };
            // Turnout, the tabled shares, the irregularity decision: 32 bits each.
            let n_words = 2 + n_spikes + if self.tabled[r] { sticks.len() } else { 0 };
            let mut n_acted = 0;
            for i in l.region_range[r].clone() {
                let mut words = [0u32; MAX_WORDS + 1];
                for pair in words[..n_words.next_multiple_of(2)].chunks_exact_mut(2) {
                    let x = rng.next_u64();
                    pair[0] = (x >> 32) as u32;
                    pair[1] = x as u32;
                }
                let registered = l.registered[i] as u64;
                let turnout = match turnout_table {
                    Some(t) => t.sample32(words[0]),
                    None => self.turnout[r].sample(rng),
                };
                let voters = sampler::round_count(count_f64(registered) * turnout);
                shares.draw(rng, &words[1..], &mut w);
                let n = count_f64(voters);
                let mut e = [0.0f64; N];
                for ((e, t), &w) in e.iter_mut().zip(&mut mean_true).zip(&w) {
                    *e = n * w;
                    *t += *e;
                }
                registered_total += registered;
                let kind = usize::from(l.urban[i]) | usize::from(l.evoting[i]) << 1;
                let p_irr = p_irr[kind];
                let u = (f64::from(words[n_words - 1]) + 0.5) * (1.0 / 4_294_967_296.0);
                let irregular = u < p_irr;
                self.irregular[i] = irregular;
                irregular_precincts += u64::from(irregular);
                let plan = match &lanes {
                    Some(lanes) => {
                        let irregular = u64::from(irregular);
                        let acts_here = irregular | lanes.honest(u, p_irr);
                        let v = u * inv_p_irr[kind];
                        // Kept for the second pass only where a mechanism may act, without a
                        // branch: the next precinct overwrites it otherwise.
                        acted[n_acted] = Acted {
                            counts: e,
                            registered: count_f64(registered),
                            v,
                            irregular,
                        };
                        n_acted += acts_here as usize;
                        (i == next_noisy).then(|| {
                            let bits = keep_bits(acts_here, lanes.decide(v, irregular));
                            lanes.expect(bits, count_f64(registered), &mut e);
                            lanes.plan(bits)
                        })
                    }
                    // A rewrite's invented figures take random numbers in `plan_reusing`.
                    None => {
                        let plan = if irregular {
                            acts.plan_reusing(rng, u * inv_p_irr[kind])
                        } else {
                            acts.regular_miscount_reusing(u, p_irr)
                                .map_or(Plan::default(), Plan::miscount)
                        };
                        let before = e;
                        acts.expect(&plan, registered, &mut e[..n_cat]);
                        for ((t, &a), &b) in moved.iter_mut().zip(&e).zip(&before) {
                            *t += a - b;
                        }
                        Some(plan)
                    }
                };
                if i == next_noisy {
                    next_noisy += stride;
                    let mut votes = [0u64; MAX_CATEGORIES];
                    approx::multinomial_shares(
                        rng,
                        voters,
                        spikes,
                        rest_order,
                        &w[..n_cat],
                        &mut votes[..n_cat],
                    );
                    for ((t, &v), &w) in noise_true.iter_mut().zip(&votes).zip(&w) {
                        *t += count_f64(v) - n * w;
                    }
                    let plan = plan.expect("a plan for the noisy precinct");
                    acts.apply(&plan, rng, registered, &mut votes[..n_cat]);
                    for ((t, &v), &e) in noise_reported.iter_mut().zip(&votes).zip(&e) {
                        *t += count_f64(v) - e;
                    }
                }
            }
            // The second pass: what the mechanisms move, from the precincts they act on.
            if let Some(lanes) = &lanes {
                for a in &acted[..n_acted] {
                    let mut e = a.counts;
                    lanes.expect(lanes.decide(a.v, a.irregular), a.registered, &mut e);
                    for ((t, &after), &before) in moved.iter_mut().zip(&e).zip(&a.counts) {
                        *t += after - before;
                    }
                }
            }
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
        let mut mean_reported = mean_true;
        for (t, &x) in mean_reported.iter_mut().zip(&moved) {
            *t += x;
        }
        Totals {
            true_votes: total(&mean_true, &noise_true),
            reported_votes: total(&mean_reported, &noise_reported),
            registered: registered_total,
            irregular_precincts,
        }
    }
}

/// How a region's precincts get their share vectors (as `Fast`'s Dirichlet-multinomials).
struct Shares<'s> {
    spikes: &'s [approx::SpikeShare],
    /// The stick-breaking tables, where the region has them.
    sticks: Option<&'s [&'s approx::BetaTable]>,
    gammas: &'s [sampler::Gamma],
    alpha: &'s [f64],
    /// The other categories, smallest first.
    order: &'s [usize],
}

impl Shares<'_> {
    /// Writes a precinct's share vector to `w`: each spike h or 0 (hit when its 32 bits of
    /// `words` are below pi in units of 2^-32, so pi is kept to 2^-33), then the other
    /// categories, from the stick tables (32 bits each) or from gammas, times the share left.
    #[inline(always)]
    fn draw<const N: usize>(&self, rng: &mut Rng, words: &[u32], w: &mut [f64; N]) {
        let mut mass = 1.0;
        for (s, &bits) in self.spikes.iter().zip(words) {
            // 1 if bits < pi32 (both below 2^33, so the difference's top bit is the sign).
            let hit = u64::from(bits).wrapping_sub(s.pi32) >> 63;
            let x = keep(hit, s.h);
            w[s.category] = x;
            mass -= x;
        }
        let (&largest, rest) = self.order.split_last().expect("at least one category");
        match self.sticks {
            Some(sticks) => {
                let words = &words[self.spikes.len()..];
                for ((&i, table), &bits) in rest.iter().zip(sticks).zip(words) {
                    let x = mass * table.sample32(bits);
                    w[i] = x;
                    mass -= x;
                }
                w[largest] = mass;
            }
            None => {
                let mut total = 0.0;
                for &i in self.order {
                    w[i] = self.gammas[i].sample(rng);
                    total += w[i];
                }
                // All gammas underflowed (only possible with tiny shapes): the mean shares.
                if total <= 0.0 {
                    for &i in self.order {
                        w[i] = self.alpha[i];
                        total += w[i];
                    }
                }
                for &i in self.order {
                    w[i] *= mass / total;
                }
            }
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
