//! The irregularity mechanisms of docs/model.md, applied to one precinct's protocol.
//!
//! `votes` is a precinct's count per category, the last category being spoiled ballots. Order
//! in an irregular precinct: a rewritten protocol replaces everything; otherwise invalidation,
//! transfer, stuffing and miscount act in that order, each independently with its probability.
//! Transfer, invalidation and miscount conserve ballots; stuffing adds at most the registered
//! non-voters. Their expected effect (for `--sampler pooled`) is in `expected`.

use crate::election::draw::Draw;
use crate::model::{MAX_CATEGORIES, Model, RewriteModel};
use crate::sample::approx;
use crate::sample::exact::{self, uniform};
use crate::sample::kind::{SamplerKind, binomial_with};
use crate::sample::rng::Rng;
use rand::Rng as _;

pub mod expected;

/// A directed mechanism as it acts in one election: probability, mean intensity, dispersion.
#[derive(Debug, Clone, Copy)]
struct Act {
    probability: f64,
    mean: f64,
    /// The per-precinct intensity distribution, when the intensity varies between precincts.
    spread: Option<exact::Beta>,
    /// The dispersion (Beta concentration) of `spread`.
    concentration: f64,
    targets: [bool; MAX_CATEGORIES],
}

impl Act {
    fn new(mm: &Option<crate::model::MechanismModel>, pair: [f64; 2]) -> Option<Act> {
        let mm = mm.as_ref()?;
        let mut targets = [false; MAX_CATEGORIES];
        targets[..mm.targets.len()].copy_from_slice(&mm.targets);
        let spread = match mm.dispersion {
            Some(c) if pair[1] < 1.0 => Some((exact::Beta::with_mean(pair[1], c), c)),
            _ => None,
        };
        (pair[0] > 0.0 && pair[1] > 0.0).then_some(Act {
            probability: pair[0],
            mean: pair[1],
            spread: spread.map(|x| x.0),
            concentration: spread.map_or(0.0, |x| x.1),
            targets,
        })
    }

    /// For `SamplerKind::Fast`: the per-precinct intensity Beta(mean m, concentration c) replaced
    /// by a two-point intensity, 0 or h = m + (1 - m) / (1 + c) with probability m / h (the
    /// `SpikeShare` of the Dirichlet), folded into the probability of acting. The intensity
    /// where the mechanism acts, 1{acts} x intensity, keeps its mean and second moment, and a
    /// binomial count given the intensity depends on it only through them, so every count the
    /// mechanism moves keeps its exact mean, variance and covariances (both targets of a transfer
    /// share the intensity, as before). Saves two gammas per acting mechanism.
    fn two_point(self) -> Act {
        if self.spread.is_none() {
            return self;
        }
        let s = approx::SpikeShare::new(0, self.mean, self.concentration);
        Act {
            probability: self.probability * s.pi,
            mean: s.h,
            spread: None,
            ..self
        }
    }

    /// Whether it acts in this precinct, and if so its intensity there.
    #[cfg(test)]
    fn intensity(&self, rng: &mut Rng) -> Option<f64> {
        (uniform(rng) < self.probability).then(|| self.acting_intensity(rng))
    }

    /// Its intensity in a precinct where it acts.
    #[inline]
    fn acting_intensity(&self, rng: &mut Rng) -> f64 {
        match &self.spread {
            Some(b) => b.sample(rng),
            None => self.mean,
        }
    }
}

/// A decision with probability `p` from `v`, uniform on [0, 1), which is then rescaled to a
/// uniform again, independent of the decision: v / p given v < p, (v - p) / (1 - p) otherwise
/// (each decision costs about a bit of v's 53; `SamplerKind::Fast`).
#[inline(always)]
fn rescaled_decision(v: &mut f64, p: f64) -> bool {
    if *v < p {
        *v /= p;
        true
    } else {
        *v = (*v - p) / (1.0 - p);
        false
    }
}

/// The mechanisms of one simulated election, ready to apply.
pub struct Acting<'a> {
    beneficiary: usize,
    transfer: Option<Act>,
    stuffing: Option<Act>,
    invalidation: Option<Act>,
    rewrite: Option<(f64, &'a RewriteModel)>,
    miscount: Option<(f64, f64)>,
    regular_miscount: f64,
    kind: SamplerKind,
}

impl<'a> Acting<'a> {
    pub fn new(m: &'a Model, d: &Draw) -> Acting<'a> {
        let ir = &m.irregular;
        Acting {
            beneficiary: ir.beneficiary,
            transfer: Act::new(&ir.transfer, d.transfer),
            stuffing: Act::new(&ir.stuffing, d.stuffing),
            invalidation: Act::new(&ir.invalidation, d.invalidation),
            rewrite: ir
                .rewrite
                .as_ref()
                .filter(|_| d.rewrite > 0.0)
                .map(|r| (d.rewrite, r)),
            miscount: (d.miscount[1] > 0.0).then_some((d.miscount[0], d.miscount[1])),
            regular_miscount: ir.miscount.as_ref().map_or(0.0, |x| x.regular_probability),
            kind: SamplerKind::Exact,
        }
    }

    /// The same mechanisms, drawing their binomials with sampler `kind`.
    pub fn with_sampler(mut self, kind: SamplerKind) -> Acting<'a> {
        let kind = kind.base();
        self.kind = kind;
        if kind == SamplerKind::Fast {
            self.transfer = self.transfer.map(Act::two_point);
            self.stuffing = self.stuffing.map(Act::two_point);
            self.invalidation = self.invalidation.map(Act::two_point);
        }
        self
    }

    /// A regular count: only honest miscounts, at their (usually low) regular rate.
    #[inline]
    pub fn regular(&self, rng: &mut Rng, votes: &mut [u64]) {
        if let Some((_, rate)) = self.miscount
            && self.regular_miscount > 0.0
            && uniform(rng) < self.regular_miscount
        {
            miscount_with(rng, self.kind, votes, rate);
        }
    }

    /// `regular` for a precinct whose irregularity decision was `u >= p_irr` with u uniform on
    /// [0, 1) (`SamplerKind::Fast`): (u - p_irr) / (1 - p_irr) is then again uniform and
    /// independent of the decision, so it decides the honest miscount instead of a new uniform.
    #[inline]
    pub fn regular_reusing(&self, rng: &mut Rng, votes: &mut [u64], u: f64, p_irr: f64) {
        if let Some(rate) = self.regular_miscount_reusing(u, p_irr) {
            miscount_with(rng, self.kind, votes, rate);
        }
    }

    /// The decision of `regular_reusing`: the miscount rate if a regular count is miscounted.
    #[inline]
    pub fn regular_miscount_reusing(&self, u: f64, p_irr: f64) -> Option<f64> {
        let (_, rate) = self.miscount?;
        (self.regular_miscount > 0.0 && u - p_irr < self.regular_miscount * (1.0 - p_irr))
            .then_some(rate)
    }

    /// An irregular count: the mechanisms act on `votes` in place.
    pub fn irregular(&self, rng: &mut Rng, registered: u64, votes: &mut [u64]) {
        self.irregular_deciding(rng, registered, votes, |rng, p| uniform(rng) < p);
    }

    /// `irregular` for a precinct whose irregularity decision was u < p_irr with u uniform on
    /// [0, 1) (`SamplerKind::Fast`): `v` = u / min(p_irr, 1) is then again uniform and
    /// independent of the decision, and decides which mechanisms act (`rescaled_decision`)
    /// instead of a new uniform each.
    #[inline]
    pub fn irregular_reusing(&self, rng: &mut Rng, registered: u64, votes: &mut [u64], v: f64) {
        let plan = self.plan_reusing(rng, v);
        self.apply(&plan, rng, registered, votes);
    }

    /// What acts in an irregular precinct and how strongly, decided as `irregular_reusing` does
    /// (the same random numbers in the same order: with `Fast`'s two-point intensities only a
    /// rewrite's invented figures need any).
    #[inline]
    pub fn plan_reusing(&self, rng: &mut Rng, v: f64) -> Actions {
        let mut v = v;
        let mut plan = Actions::default();
        if let Some((p, r)) = self.rewrite
            && rescaled_decision(&mut v, p)
        {
            plan.rewrite = Some((r.turnout.sample(rng), r.share.sample(rng)));
            return plan;
        }
        let mut step = |a: &Option<Act>, rng: &mut Rng| match a {
            Some(a) if rescaled_decision(&mut v, a.probability) => Some(a.acting_intensity(rng)),
            _ => None,
        };
        plan.invalidation = step(&self.invalidation, rng);
        plan.transfer = step(&self.transfer, rng);
        plan.stuffing = step(&self.stuffing, rng);
        plan.miscount = match self.miscount {
            Some((p, rate)) if rescaled_decision(&mut v, p) => Some(rate),
            _ => None,
        };
        plan
    }

    /// A rewrite's plan: its invented turnout and beneficiary share (`pooled`).
    pub fn plan_rewrite(&self, rng: &mut Rng) -> Actions {
        let (_, r) = self.rewrite.expect("a model with rewrites");
        Actions {
            rewrite: Some((r.turnout.sample(rng), r.share.sample(rng))),
            ..Actions::default()
        }
    }

    /// Applies `plan` to a precinct's counts, in the order of `irregular`.
    #[inline]
    pub fn apply(&self, plan: &Actions, rng: &mut Rng, registered: u64, votes: &mut [u64]) {
        if let Some((t, s)) = plan.rewrite {
            rewrite(votes, self.beneficiary, registered, t, s);
            return;
        }
        if let Some(x) = plan.invalidation {
            let targets = &self.invalidation.as_ref().expect("planned").targets;
            invalidate_with(rng, self.kind, votes, targets, x);
        }
        if let Some(x) = plan.transfer {
            let targets = &self.transfer.as_ref().expect("planned").targets;
            transfer_with(rng, self.kind, votes, targets, self.beneficiary, x);
        }
        if let Some(x) = plan.stuffing {
            stuff_with(rng, self.kind, votes, self.beneficiary, registered, x);
        }
        if let Some(rate) = plan.miscount {
            miscount_with(rng, self.kind, votes, rate);
        }
    }

    /// The mechanisms in order, `decide(rng, p)` deciding whether each acts.
    #[inline(always)]
    fn irregular_deciding(
        &self,
        rng: &mut Rng,
        registered: u64,
        votes: &mut [u64],
        mut decide: impl FnMut(&mut Rng, f64) -> bool,
    ) {
        if let Some((p, r)) = self.rewrite
            && decide(rng, p)
        {
            let t = r.turnout.sample(rng);
            let s = r.share.sample(rng);
            rewrite(votes, self.beneficiary, registered, t, s);
            return;
        }
        if let Some(a) = &self.invalidation
            && decide(rng, a.probability)
        {
            let x = a.acting_intensity(rng);
            invalidate_with(rng, self.kind, votes, &a.targets, x);
        }
        if let Some(a) = &self.transfer
            && decide(rng, a.probability)
        {
            let x = a.acting_intensity(rng);
            transfer_with(rng, self.kind, votes, &a.targets, self.beneficiary, x);
        }
        if let Some(a) = &self.stuffing
            && decide(rng, a.probability)
        {
            let x = a.acting_intensity(rng);
            stuff_with(rng, self.kind, votes, self.beneficiary, registered, x);
        }
        if let Some((p, rate)) = self.miscount
            && decide(rng, p)
        {
            miscount_with(rng, self.kind, votes, rate);
        }
    }
}

/// What acts in one irregular precinct (`Acting::plan_reusing`): each mechanism's intensity where
/// it acts, a rewrite's invented turnout and beneficiary share.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Actions {
    pub rewrite: Option<(f64, f64)>,
    pub invalidation: Option<f64>,
    pub transfer: Option<f64>,
    pub stuffing: Option<f64>,
    pub miscount: Option<f64>,
}

impl Actions {
    /// A regular count's honest miscount (`Acting::regular_miscount_reusing`).
    pub fn miscount(rate: f64) -> Actions {
        Actions {
            miscount: Some(rate),
            ..Actions::default()
        }
    }
}

/// Each ballot of a target party is counted for the beneficiary with probability `phi`.
#[inline]
pub fn transfer(rng: &mut Rng, votes: &mut [u64], targets: &[bool], beneficiary: usize, phi: f64) {
    transfer_with(rng, SamplerKind::Exact, votes, targets, beneficiary, phi)
}

#[inline]
fn transfer_with(
    rng: &mut Rng,
    kind: SamplerKind,
    votes: &mut [u64],
    targets: &[bool],
    beneficiary: usize,
    phi: f64,
) {
    let parties = votes.len() - 1;
    for j in 0..parties {
        if targets[j] && votes[j] > 0 {
            let moved = binomial_with(rng, kind, votes[j], phi);
            votes[j] -= moved;
            votes[beneficiary] += moved;
        }
    }
}

/// Each ballot of a target party is declared spoiled with probability `iota`.
#[inline]
pub fn invalidate(rng: &mut Rng, votes: &mut [u64], targets: &[bool], iota: f64) {
    invalidate_with(rng, SamplerKind::Exact, votes, targets, iota)
}

#[inline]
fn invalidate_with(
    rng: &mut Rng,
    kind: SamplerKind,
    votes: &mut [u64],
    targets: &[bool],
    iota: f64,
) {
    let spoiled = votes.len() - 1;
    for j in 0..spoiled {
        if targets[j] && votes[j] > 0 {
            let k = binomial_with(rng, kind, votes[j], iota);
            votes[j] -= k;
            votes[spoiled] += k;
        }
    }
}

/// Each registered non-voter gets a ballot for the beneficiary with probability `sigma`.
#[inline]
pub fn stuff(rng: &mut Rng, votes: &mut [u64], beneficiary: usize, registered: u64, sigma: f64) {
    stuff_with(
        rng,
        SamplerKind::Exact,
        votes,
        beneficiary,
        registered,
        sigma,
    )
}

#[inline]
fn stuff_with(
    rng: &mut Rng,
    kind: SamplerKind,
    votes: &mut [u64],
    beneficiary: usize,
    registered: u64,
    sigma: f64,
) {
    let cast: u64 = votes.iter().sum();
    let added = binomial_with(rng, kind, registered.saturating_sub(cast), sigma);
    votes[beneficiary] += added;
}

/// Binomial(valid, rate) valid ballots each land on a party other than their own, chosen
/// uniformly; the ballot moved is drawn uniformly among the valid ballots.
pub fn miscount(rng: &mut Rng, votes: &mut [u64], rate: f64) {
    miscount_with(rng, SamplerKind::Exact, votes, rate)
}

fn miscount_with(rng: &mut Rng, kind: SamplerKind, votes: &mut [u64], rate: f64) {
    let parties = votes.len() - 1;
    if parties < 2 {
        return;
    }
    let valid: u64 = votes[..parties].iter().sum();
    let errors = binomial_with(rng, kind, valid, rate);
    // The same values as the plain casts, without x86-64's branchy unsigned conversions.
    let valid_f = exact::count_f64(valid);
    let others_f = exact::count_f64(parties as u64 - 1);
    match kind {
        SamplerKind::Exact => move_ballots(votes, errors, || {
            (
                exact::trunc_count(uniform(rng) * valid_f),
                exact::trunc_count(uniform(rng) * others_f),
            )
        }),
        // One 64-bit number for both, 32 bits each by multiply-and-shift (Lemire): each
        // outcome's probability is within valid / 2^32 (under 1e-6 here) of uniform's.
        SamplerKind::Fast | SamplerKind::Pooled => move_ballots(votes, errors, || {
            let bits = rng.next_u64();
            (
                ((bits >> 32) * valid) >> 32,
                ((bits & 0xffff_ffff) * (parties as u64 - 1)) >> 32,
            )
        }),
    }
}

/// Moves `errors` valid ballots one at a time: `draw` gives the ballot's index among the valid
/// ones (counts change as ballots move) and the party it lands on among the others (the party
/// of the `parties - 1` others, skipping its own).
#[inline(always)]
fn move_ballots(votes: &mut [u64], errors: u64, mut draw: impl FnMut() -> (u64, u64)) {
    let parties = votes.len() - 1;
    for _ in 0..errors {
        let (mut pick, to) = draw();
        let mut from = 0;
        while from < parties - 1 && pick >= votes[from] {
            pick -= votes[from];
            from += 1;
        }
        let mut to = (to as usize).min(parties - 2);
        if to >= from {
            to += 1;
        }
        votes[from] -= 1;
        votes[to] += 1;
    }
}

/// Replaces the protocol by invented figures: ballots cast = turnout x registered, of which the
/// beneficiary gets `share`; the rest is split among the other categories in proportion to their
/// true counts (all to spoiled if they had none).
// `others` is checked for zero because the zero case has its own meaning (all to spoiled).
#[allow(clippy::manual_checked_ops)]
pub fn rewrite(votes: &mut [u64], beneficiary: usize, registered: u64, turnout: f64, share: f64) {
    let cast = (registered as f64 * turnout).round() as u64;
    let to_b = (cast as f64 * share).round() as u64;
    let rest = cast - to_b;
    let others: u64 = votes
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != beneficiary)
        .map(|(_, v)| v)
        .sum();
    let spoiled = votes.len() - 1;
    if others == 0 {
        votes.iter_mut().for_each(|v| *v = 0);
        votes[spoiled] = rest;
    } else {
        let mut given = 0;
        for (k, v) in votes.iter_mut().enumerate() {
            if k != beneficiary {
                *v = *v * rest / others;
                given += *v;
            }
        }
        // Integer division leaves at most one ballot per category; give them to spoiled.
        votes[spoiled] += rest - given;
    }
    votes[beneficiary] = to_b;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::rng::stream;

    fn act(probability: f64, mean: f64, c: f64) -> Act {
        Act {
            probability,
            mean,
            spread: Some(exact::Beta::with_mean(mean, c)),
            concentration: c,
            targets: [false; MAX_CATEGORIES],
        }
    }

    /// The effective intensity X = 1{acts} x intensity has the same mean and second moment with
    /// the two-point intensity (fast) as with the Beta (exact): P m and P (m^2 + m (1 - m) /
    /// (1 + c)); tolerances 5 standard errors of the sample moments (from the sample's own
    /// second and fourth moments).
    #[test]
    fn two_point_intensity_keeps_mean_and_second_moment() {
        let mut rng = stream(11, 0);
        let draws = 400_000;
        for (p, m, c) in [
            (0.7, 0.29, 7.0),
            (0.2, 0.1, 10.0),
            (0.2, 0.05, 20.0),
            (1.0, 0.6, 2.0),
        ] {
            let m1 = p * m;
            let m2 = p * (m * m + m * (1.0 - m) / (1.0 + c));
            for (label, a) in [
                ("beta", act(p, m, c)),
                ("two-point", act(p, m, c).two_point()),
            ] {
                let xs: Vec<f64> = (0..draws)
                    .map(|_| a.intensity(&mut rng).unwrap_or(0.0))
                    .collect();
                let n = draws as f64;
                let s1 = xs.iter().sum::<f64>() / n;
                let s2 = xs.iter().map(|x| x * x).sum::<f64>() / n;
                let s4 = xs.iter().map(|x| x.powi(4)).sum::<f64>() / n;
                let se1 = ((s2 - s1 * s1) / n).sqrt();
                let se2 = ((s4 - s2 * s2) / n).sqrt();
                assert!(
                    (s1 - m1).abs() < 5.0 * se1,
                    "{label} ({p}, {m}, {c}): mean {s1} vs {m1} (se {se1})"
                );
                assert!(
                    (s2 - m2).abs() < 5.0 * se2,
                    "{label} ({p}, {m}, {c}): second moment {s2} vs {m2} (se {se2})"
                );
            }
            // The two-point law's moments are exact by construction, not only within noise.
            let t = act(p, m, c).two_point();
            assert!(((t.probability * t.mean) - m1).abs() < 1e-15);
            assert!(((t.probability * t.mean * t.mean) - m2).abs() < 1e-15);
        }
    }

    /// Fast miscount (one 64-bit number per moved ballot) moves the same ballots on average as
    /// exact: per party, the mean count after miscounting agrees within 4 standard errors of the
    /// difference of two independent means, and ballots are conserved.
    #[test]
    fn fast_miscount_matches_exact_means() {
        let start = [500u64, 40, 30, 9, 5, 3, 1, 12];
        let draws = 100_000;
        let mut stats = [[(0.0f64, 0.0f64); 8]; 2];
        for (s, kind) in [SamplerKind::Exact, SamplerKind::Fast]
            .into_iter()
            .enumerate()
        {
            let mut rng = stream(17, s as u64);
            for _ in 0..draws {
                let mut v = start;
                miscount_with(&mut rng, kind, &mut v, 0.05);
                assert_eq!(v.iter().sum::<u64>(), start.iter().sum::<u64>());
                assert_eq!(v[7], start[7], "spoiled ballots are not miscounted");
                for (acc, &x) in stats[s].iter_mut().zip(&v) {
                    acc.0 += x as f64;
                    acc.1 += (x as f64).powi(2);
                }
            }
        }
        let n = draws as f64;
        for (j, (&(s1e, s2e), &(s1f, s2f))) in stats[0].iter().zip(&stats[1]).enumerate().take(7) {
            let (me, mf) = (s1e / n, s1f / n);
            let se = ((s2e / n - me * me + s2f / n - mf * mf) / n).sqrt();
            assert!(
                (me - mf).abs() < 4.0 * se,
                "party {j}: exact {me} fast {mf} (se {se})"
            );
        }
    }

    /// Decisions chained from one uniform (`rescaled_decision`, after the irregularity decision
    /// u < p_irr as in `irregular_reusing`) are independent with the right probabilities: the
    /// eight joint outcomes of three decisions match the products of their probabilities
    /// (chi-square, 7 degrees of freedom, below its 0.999 quantile 24.32; leaving v unchanged
    /// after a miss gives about 30,000).
    #[test]
    fn rescaled_decisions_are_independent_with_their_probabilities() {
        let (p_irr, ps) = (0.43, [0.3, 0.7, 0.1]);
        let mut rng = stream(19, 0);
        let mut counts = [0u64; 8];
        let mut n = 0u64;
        while n < 200_000 {
            let u = uniform(&mut rng);
            if u >= p_irr {
                continue;
            }
            let mut v = u / p_irr;
            let mut cell = 0;
            for (j, &p) in ps.iter().enumerate() {
                cell |= usize::from(rescaled_decision(&mut v, p)) << j;
            }
            counts[cell] += 1;
            n += 1;
        }
        let chi2: f64 = (0..8)
            .map(|cell| {
                let e = ps.iter().enumerate().fold(n as f64, |e, (j, &p)| {
                    e * if cell >> j & 1 == 1 { p } else { 1.0 - p }
                });
                (counts[cell] as f64 - e).powi(2) / e
            })
            .sum();
        assert!(chi2 < 24.32, "chi2 {chi2}, counts {counts:?}");
    }
}
