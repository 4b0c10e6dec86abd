//! The mechanisms' expected effect on a precinct's counts, for `--sampler pooled`.
//!
//! `Acting::expect` is the mean of what `Acting::apply` does to a precinct's counts, given the
//! counts before; `ByOutcome` is the same for each of a precinct's possible outcomes (regular,
//! miscounted honestly, irregular with each combination of mechanisms, rewritten), in a
//! branch-free form, with the law of those outcomes.

use super::{Act, Acting, Actions};
use crate::numeric::math::keep;
use crate::sample::kind::SamplerKind;

impl Acting<'_> {
    /// What `apply` does to a precinct's expected counts `e` (`pooled`): the mean of the counts
    /// after the mechanisms given the counts before is linear in them for invalidation, transfer
    /// and stuffing (each ballot moves independently), and for miscount given the number of
    /// valid ballots V (below); a rewrite gives the other categories rest x e_k / (sum of their
    /// e), their exact conditional mean but for its rounding down (under a ballot each, which
    /// spoiled gets).
    ///
    /// Miscount moves Binomial(V, rate) ballots one at a time, each drawn among all valid ones:
    /// one move takes a party's expected count x to x (1 - P / ((P - 1) V)) + 1 / (P - 1) for P
    /// parties, so after m moves x - V / P has shrunk by lambda^m, lambda = 1 - P / ((P - 1) V),
    /// and E[lambda^m] = (1 - rate P / ((P - 1) V))^V (`miscount_shrink`). V is taken at its
    /// expectation (it varies by a few percent, which changes the factor only at second order).
    pub fn expect(&self, plan: &Actions, registered: u64, e: &mut [f64]) {
        let spoiled = e.len() - 1;
        let b = self.beneficiary;
        if let Some((t, s)) = plan.rewrite {
            let cast = (registered as f64 * t).round();
            let to_b = (cast * s).round();
            let others: f64 = e.iter().enumerate().filter(|x| x.0 != b).map(|x| x.1).sum();
            if others > 0.0 {
                let scale = (cast - to_b) / others;
                e.iter_mut().for_each(|x| *x *= scale);
            } else {
                e.iter_mut().for_each(|x| *x = 0.0);
                e[spoiled] = cast - to_b;
            }
            e[b] = to_b;
            return;
        }
        let moving = |a: &Option<Act>, x: f64, to: usize, e: &mut [f64]| {
            let targets = &a.as_ref().expect("planned").targets;
            for j in 0..spoiled {
                if targets[j] {
                    let moved = e[j] * x;
                    e[j] -= moved;
                    e[to] += moved;
                }
            }
        };
        if let Some(x) = plan.invalidation {
            moving(&self.invalidation, x, spoiled, e);
        }
        if let Some(x) = plan.transfer {
            moving(&self.transfer, x, b, e);
        }
        if let Some(x) = plan.stuffing {
            let cast: f64 = e.iter().sum();
            e[b] += (registered as f64 - cast).max(0.0) * x;
        }
        if let Some(rate) = plan.miscount {
            expect_miscount(e, rate);
        }
    }
}

/// The mechanisms' expected effect by outcome, for `pooled`: `Acting` in a branch-free form
/// over `N` categories (zeros past the model's).
///
/// A precinct's decisions (is its count irregular, and if so is it rewritten, or which of the
/// other mechanisms act) are one outcome of a law over `OUTCOMES` (`outcomes`, drawn from an
/// alias table): the law that `irregular` and `regular`'s chain of independent decisions
/// gives. `expect` is `Acting::expect` for an outcome's decision bits (`bits`), a mechanism that
/// does not act moving ballots at intensity 0 and a miscount's shrinkage at its many-ballot
/// limit (so that every such outcome is linear in the counts); a rewrite (whose invented figures
/// need random numbers) goes through `Acting::plan_rewrite` and `Acting::expect` instead.
#[derive(Debug, Clone, Copy)]
pub struct ByOutcome<const N: usize> {
    beneficiary: usize,
    spoiled: usize,
    /// Probability, intensity where it acts, and 1 for the categories targeted (else 0).
    invalidation: (f64, f64, [f64; N]),
    transfer: (f64, f64, [f64; N]),
    stuffing: (f64, f64),
    miscount: (f64, f64),
    /// exp(-c) for miscount's c = rate P / (P - 1) (`expect_miscount`).
    exp_neg_c: f64,
    rewrite: f64,
    regular_miscount: f64,
}

/// Decision bits of `ByOutcome::bits`.
pub const IRREGULAR: u8 = 1;
const INVALIDATION: u8 = 2;
const TRANSFER: u8 = 4;
const STUFFING: u8 = 8;
const MISCOUNT: u8 = 16;
/// A rewritten protocol (no other bit set).
pub const REWRITE: u8 = 32;

/// Outcomes of `ByOutcome::outcomes`: a regular count, one miscounted honestly, an irregular one
/// with each combination of invalidation, transfer, stuffing and miscount (2 + those four bits),
/// and a rewritten one.
pub const OUTCOMES: usize = 19;
pub const REGULAR: usize = 0;
pub const HONEST: usize = 1;
pub const REWRITTEN: usize = 18;

/// The sum of `a`'s elements pairwise (N a power of two), in an order the compiler can
/// vectorise.
#[inline(always)]
fn pairwise_sum<const N: usize>(mut a: [f64; N]) -> f64 {
    let mut width = N / 2;
    while width > 0 {
        for j in 0..width {
            a[j] += a[j + width];
        }
        width /= 2;
    }
    a[0]
}

impl<const N: usize> ByOutcome<N> {
    pub fn new(acts: &Acting, n_categories: usize) -> ByOutcome<N> {
        assert!(n_categories <= N && acts.kind == SamplerKind::Fast);
        let directed = |a: &Option<Act>| match a {
            Some(a) => {
                let mut t = [0.0; N];
                for (t, &x) in t.iter_mut().zip(&a.targets[..n_categories - 1]) {
                    *t = if x { 1.0 } else { 0.0 };
                }
                (a.probability, a.mean, t)
            }
            None => (0.0, 0.0, [0.0; N]),
        };
        let miscount = acts.miscount.unwrap_or((0.0, 0.0));
        let parties = (n_categories - 1) as f64;
        let miscount_c = miscount.1 * parties / (parties - 1.0);
        ByOutcome {
            exp_neg_c: crate::numeric::math::exp(-miscount_c),
            beneficiary: acts.beneficiary,
            spoiled: n_categories - 1,
            invalidation: directed(&acts.invalidation),
            transfer: directed(&acts.transfer),
            stuffing: acts
                .stuffing
                .map_or((0.0, 0.0), |a| (a.probability, a.mean)),
            miscount,
            rewrite: acts.rewrite.map_or(0.0, |r| r.0),
            regular_miscount: if acts.miscount.is_some() {
                acts.regular_miscount
            } else {
                0.0
            },
        }
    }

    /// The law of a precinct's outcome when its count is irregular with probability `p_irr`
    /// (capped at 1): regular, then miscounted honestly with the regular rate; irregular,
    /// then rewritten, or else each other mechanism acting independently with its probability.
    pub fn outcomes(&self, p_irr: f64) -> [f64; OUTCOMES] {
        let p = p_irr.clamp(0.0, 1.0);
        let mut w = [0.0; OUTCOMES];
        w[REGULAR] = (1.0 - p) * (1.0 - self.regular_miscount);
        w[HONEST] = (1.0 - p) * self.regular_miscount;
        let chained = [
            self.invalidation.0,
            self.transfer.0,
            self.stuffing.0,
            self.miscount.0,
        ];
        for m in 0..16 {
            w[2 + m] = chained
                .iter()
                .enumerate()
                .fold(p * (1.0 - self.rewrite), |x, (j, &q)| {
                    x * if m >> j & 1 == 1 { q } else { 1.0 - q }
                });
        }
        w[REWRITTEN] = p * self.rewrite;
        w
    }

    /// Whether an outcome's expected effect is not linear in the counts and electorate: a
    /// rewrite's (its invented figures replace them). The others' (`expect`) can be applied to
    /// sums of precincts (`pooled`).
    #[inline(always)]
    pub fn nonlinear(outcome: usize) -> bool {
        Self::bits(outcome) & REWRITE != 0
    }

    /// The decision bits of an outcome.
    #[inline(always)]
    pub fn bits(outcome: usize) -> u8 {
        const TABLE: [u8; OUTCOMES] = {
            let mut t = [0u8; OUTCOMES];
            t[HONEST] = MISCOUNT;
            let mut m = 0;
            while m < 16 {
                t[2 + m] = IRREGULAR | (m as u8) << 1;
                m += 1;
            }
            t[REWRITTEN] = IRREGULAR | REWRITE;
            t
        };
        TABLE[outcome]
    }

    /// The `Actions` of decision bits `bits` (but a rewrite's: `Acting::plan_rewrite`).
    pub fn plan(&self, bits: u8) -> Actions {
        let on = |bit: u8, x: f64| (bits & bit != 0).then_some(x);
        Actions {
            rewrite: None,
            invalidation: on(INVALIDATION, self.invalidation.1),
            transfer: on(TRANSFER, self.transfer.1),
            stuffing: on(STUFFING, self.stuffing.1),
            miscount: on(MISCOUNT, self.miscount.1),
        }
    }

    /// `Acting::expect` for the decisions `bits`, without branches but on miscount.
    #[inline(always)]
    pub fn expect(&self, bits: u8, registered: f64, e: &mut [f64; N]) {
        let on = |bit: u8, x: f64| keep(u64::from(bits & bit != 0), x);
        let mut moving = |(_, x, t): &(f64, f64, [f64; N]), bit: u8, to: usize| {
            let x = on(bit, *x);
            let mut m = [0.0; N];
            for ((m, e), t) in m.iter_mut().zip(e.iter_mut()).zip(t) {
                *m = *e * (x * t);
                *e -= *m;
            }
            e[to] += pairwise_sum(m);
        };
        moving(&self.invalidation, INVALIDATION, self.spoiled);
        moving(&self.transfer, TRANSFER, self.beneficiary);
        let cast = pairwise_sum(*e);
        e[self.beneficiary] += (registered - cast).max(0.0) * on(STUFFING, self.stuffing.1);
        // `expect_miscount` with its shrinkage (1 - c / V)^V at its many-ballot limit e^-c, so
        // that it is linear in the counts: e^-c exceeds it by a factor e^delta, delta =
        // -V ln(1 - c / V) - c <= c^2 / V (for c / V <= 1/2), and a party is at most V from
        // V / P, so each moves by under c^2 ballots (odihr-43: 1.4e-4; tested).
        if bits & MISCOUNT != 0 && self.spoiled >= 2 {
            let parties = self.spoiled as f64;
            let valid = pairwise_sum(*e) - e[self.spoiled];
            let even = valid / parties;
            for x in &mut e[..self.spoiled] {
                *x = even + (*x - even) * self.exp_neg_c;
            }
        }
    }
}

/// The expected counts after `miscount` at `rate` (`Acting::expect`).
fn expect_miscount(e: &mut [f64], rate: f64) {
    let parties = e.len() - 1;
    if parties < 2 {
        return;
    }
    let p = parties as f64;
    let c = rate * p / (p - 1.0);
    let valid: f64 = e[..parties].iter().sum();
    let shrink = miscount_shrink(valid, c, crate::numeric::math::exp(-c));
    let even = valid / p;
    e[..parties]
        .iter_mut()
        .for_each(|x| *x = even + (*x - even) * shrink);
}

/// (1 - c / V)^V, by which miscount shrinks a party's expected distance from V / P
/// (`Acting::expect`). Where a = c / V <= 1/16 (all but the tiniest precincts) without a
/// logarithm: V ln(1 - a) = -c - d with d = c a (1/2 + a/3 + a^2/4 + ...), the series cut
/// after a^4 / 6 (relative error below 3e-8 c), and exp(-d) by its Taylor series to d^5
/// (d < 0.04, error below 1e-11).
fn miscount_shrink(valid: f64, c: f64, exp_neg_c: f64) -> f64 {
    let a = c / valid;
    if a <= 1.0 / 16.0 {
        let d = c * a * (0.5 + a * (1.0 / 3.0 + a * (0.25 + a * (0.2 + a / 6.0))));
        let exp_neg_d =
            1.0 - d * (1.0 - d * (0.5 - d * (1.0 / 6.0 - d * (1.0 / 24.0 - d / 120.0))));
        exp_neg_c * exp_neg_d
    } else if a < 1.0 {
        crate::numeric::math::exp(valid * crate::numeric::math::ln_1p(-a))
    } else {
        // Fewer valid ballots than a move shrinks (valid below c, under two): mixed completely.
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::draw::Draw;
    use crate::sample::exact::uniform;
    use crate::sample::rng::stream;

    /// The mechanisms of odihr-43 all acting in every irregular count, for `Fast`.
    fn all_acting(m: &crate::model::Model) -> Acting<'_> {
        let d = Draw {
            transfer: [1.0, 0.3],
            invalidation: [0.5, 0.1],
            stuffing: [0.4, 0.05],
            miscount: [0.3, 0.05],
            ..Draw::default()
        };
        Acting::new(m, &d).with_sampler(SamplerKind::Fast)
    }

    /// `Acting::expect` (what `pooled` adds to the totals) is the mean of what `apply` does to
    /// the same counts: every mechanism alone and all together, within 5 standard errors of
    /// 100,000 applications; a rewrite (deterministic) to within its rounding down.
    #[test]
    fn expect_is_the_mean_of_apply() {
        let model = crate::model::load::load("odihr-43")
            .expect("named scenario")
            .model;
        let acts = all_acting(&model);
        let start = [500u64, 40, 30, 9, 5, 3, 1, 12];
        let registered = 900;
        let plans = [
            Actions {
                invalidation: Some(0.1),
                ..Actions::default()
            },
            Actions {
                transfer: Some(0.3),
                ..Actions::default()
            },
            Actions {
                stuffing: Some(0.05),
                ..Actions::default()
            },
            Actions::miscount(0.05),
            Actions::miscount(0.4),
            Actions {
                invalidation: Some(0.1),
                transfer: Some(0.3),
                stuffing: Some(0.05),
                miscount: Some(0.05),
                rewrite: None,
            },
        ];
        let mut rng = stream(23, 0);
        let draws = 100_000;
        for plan in plans {
            let mut e = start.map(|x| x as f64);
            acts.expect(&plan, registered, &mut e);
            let (mut s1, mut s2) = ([0.0f64; 8], [0.0f64; 8]);
            for _ in 0..draws {
                let mut v = start;
                acts.apply(&plan, &mut rng, registered, &mut v);
                for ((a, b), &x) in s1.iter_mut().zip(&mut s2).zip(&v) {
                    *a += x as f64;
                    *b += (x as f64).powi(2);
                }
            }
            let n = draws as f64;
            for j in 0..8 {
                let mean = s1[j] / n;
                let se = ((s2[j] / n - mean * mean).max(0.0) / n).sqrt();
                assert!(
                    (mean - e[j]).abs() <= 5.0 * se + 1e-9,
                    "{plan:?} category {j}: simulated {mean} expected {} (se {se})",
                    e[j]
                );
            }
        }
        let plan = Actions {
            rewrite: Some((0.95, 0.9)),
            ..Actions::default()
        };
        let mut e = start.map(|x| x as f64);
        acts.expect(&plan, registered, &mut e);
        let mut v = start;
        acts.apply(&plan, &mut rng, registered, &mut v);
        // Each category rounds down by under a ballot, and spoiled gets those ballots.
        for j in 0..7 {
            assert!((v[j] as f64 - e[j]).abs() < 1.0, "rewrite {j}: {v:?} {e:?}");
        }
        assert!((v[7] as f64 - e[7]).abs() < 7.0, "rewrite: {v:?} {e:?}");
        assert!((v.iter().sum::<u64>() as f64 - e.iter().sum::<f64>()).abs() < 1e-9);
    }

    /// `ByOutcome::outcomes` is the law of `Fast`'s chained decisions (irregular or not, then
    /// each mechanism): 400,000 precincts decided as `run` decides them fall on the outcomes as
    /// it says (chi-square over the 18 possible ones below its 0.999 quantile, 40.79), and each
    /// outcome's `ByOutcome::expect` is `Acting::expect` of its plan (to rounding).
    #[test]
    fn by_outcome_follows_the_chained_decisions() {
        let model = crate::model::load::load("odihr-43")
            .expect("named scenario")
            .model;
        let mut acts = all_acting(&model);
        acts.regular_miscount = 0.05;
        let effects = ByOutcome::<8>::new(&acts, 8);
        let p_irr = 0.43;
        let law = effects.outcomes(p_irr);
        assert!((law.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(law[REWRITTEN], 0.0, "odihr-43 has no rewrites");
        let mut rng = stream(29, 0);
        let mut counts = [0u64; OUTCOMES];
        let draws = 400_000;
        for _ in 0..draws {
            let u = uniform(&mut rng);
            let outcome = if u < p_irr {
                let plan = acts.plan_reusing(&mut rng, u / p_irr);
                let bit = |x: Option<f64>, j: usize| usize::from(x.is_some()) << j;
                2 + bit(plan.invalidation, 0)
                    + bit(plan.transfer, 1)
                    + bit(plan.stuffing, 2)
                    + bit(plan.miscount, 3)
            } else {
                usize::from(acts.regular_miscount_reusing(u, p_irr).is_some())
            };
            counts[outcome] += 1;
        }
        let chi2: f64 = (0..REWRITTEN)
            .map(|k| {
                let e = law[k] * draws as f64;
                (counts[k] as f64 - e).powi(2) / e
            })
            .sum();
        assert!(chi2 < 40.79, "chi2 {chi2}: {counts:?} against {law:?}");
        let start = [500.0, 40.0, 30.0, 9.0, 5.0, 3.0, 1.0, 12.0];
        for outcome in 0..REWRITTEN {
            let bits = ByOutcome::<8>::bits(outcome);
            let (mut a, mut b) = (start, start);
            effects.expect(bits, 900.0, &mut a);
            acts.expect(&effects.plan(bits), 900, &mut b);
            // A miscount's linear form is off by under c^2 ballots (`ByOutcome::expect`).
            let c = -crate::numeric::math::ln(effects.exp_neg_c);
            let tolerance = if bits & MISCOUNT != 0 { c * c } else { 0.0 };
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= tolerance + 1e-9 * y.abs().max(1.0),
                    "{outcome}: {a:?} {b:?}"
                );
            }
        }
    }

    /// The logarithm-free (1 - c / V)^V of `miscount_shrink` agrees with exp(V ln(1 - c / V))
    /// to 1e-7 over the range where it is used (c / V <= 1/16), and the exact formula is used
    /// beyond.
    #[test]
    fn miscount_shrink_matches_its_closed_form() {
        for valid in [2.0, 16.0, 19.0, 50.0, 600.0, 5000.0] {
            for c in [0.001, 0.05, 0.35, 1.0, 7.0 / 6.0] {
                let exact =
                    crate::numeric::math::exp(valid * crate::numeric::math::ln_1p(-c / valid));
                let got = miscount_shrink(valid, c, crate::numeric::math::exp(-c));
                assert!(
                    (got / exact - 1.0).abs() < 1e-7,
                    "V {valid} c {c}: {got} vs {exact}"
                );
            }
        }
        assert_eq!(
            miscount_shrink(1.0, 1.1, crate::numeric::math::exp(-1.1)),
            0.0
        );
    }
}
