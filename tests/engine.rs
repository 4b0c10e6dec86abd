//! The engine against answers known without simulation: closed forms for a single precinct,
//! deterministic irregularities whose reported result is exact, and reported == true when nothing
//! is irregular.
//!
//! Statistical checks use fixed seeds and a tolerance of 4 Monte Carlo standard errors (about a
//! 1-in-16,000 chance of failing for a correct engine, if the seed were drawn at random).

mod common;

use common::{first_count_over, load, mechanism, num, records, results, set};
use recount::election::country::Layout;
use recount::election::outcome::Record;
use recount::election::trial::Simulator;
use recount::numeric::stats::{binomial_upper_tail, chi2_quantile};
use serde_json::json;

/// Trials for the single-precinct closed forms: the Monte Carlo standard error of a probability
/// is at most 0.5 / sqrt(20,000) = 0.0035.
const TRIALS: u64 = 20_000;

/// Voters in the single precinct.
const N: u64 = 200;

/// Registered voters and turnout of the single precinct. With turnout concentration 1e6 and
/// mean turnout 0.999999 the precinct's turnout is Beta(999999, 1): 200 x turnout falls short of
/// 200 by 200 x Exp(mean 1e-6), and rounding only gives 199 if that exceeds 0.5, with probability
/// exp(-2500). So every trial has exactly N = 200 voters (asserted below).
fn single_precinct(p: f64) -> serde_json::Value {
    common::one_precinct(N, 0.999_999, p)
}

/// Party A's true and reported vote counts in a single-precinct record, recovered from the
/// shares (exact: shares are k / 200 with k < 2^53).
fn counts(r: &Record, valid_true: u64, valid_reported: u64) -> (u64, u64) {
    let t = r.true_share[0] * valid_true as f64;
    let rep = r.reported_share[0] * valid_reported as f64;
    assert!((t - t.round()).abs() < 1e-9 && (rep - rep.round()).abs() < 1e-9);
    (t.round() as u64, rep.round() as u64)
}

/// Asserts an empirical frequency `hits / trials` lies within 4 standard errors of `exact`.
fn assert_frequency(label: &str, hits: u64, trials: u64, exact: f64) {
    let got = hits as f64 / trials as f64;
    let se = (exact * (1.0 - exact) / trials as f64).sqrt();
    assert!(
        (got - exact).abs() <= 4.0 * se,
        "{label}: simulated {got}, exact {exact}, 4 SE = {}",
        4.0 * se
    );
}

/// Asserts a sum of independent zero-mean terms with total variance `var` is within 4 SE of 0.
fn assert_centred(label: &str, sum: f64, var: f64) {
    assert!(var > 0.0, "{label}: no variance to test against");
    assert!(
        sum.abs() <= 4.0 * var.sqrt(),
        "{label}: sum of deviations {sum}, 4 SE = {}",
        4.0 * var.sqrt()
    );
}

/// A single precinct of 200 voters where party A has fixed support p: its true vote count is
/// Binomial(200, p), so P(true share >= threshold) is a binomial tail.
///
/// Exactly, shares are Dirichlet(c p, c (1 - p)) = Beta with c = 1e6 before the multinomial, so
/// A is Beta-Binomial with variance n p (1 - p) [1 + (n - 1) / (c + 1)]: 1.0002 times the binomial
/// variance for n = 200. Inflating the standard deviation by 1e-4 moves a tail probability by at
/// most about |z| phi(z) x 1e-4 < 3e-5, under 1% of the Monte Carlo standard error (0.0035 at
/// 20,000 trials), so the binomial is the closed form to test against.
#[test]
fn single_precinct_true_count_is_binomial() {
    let p = 0.07;
    let loaded = load(&single_precinct(p));
    let recs = records(&loaded, TRIALS, 11);
    let mut freq = vec![0u64; N as usize + 1];
    for r in &recs {
        assert_eq!(r.true_turnout, 1.0, "every trial has exactly {N} voters");
        let (a, a_rep) = counts(r, N, N);
        assert_eq!(a, a_rep, "prevalence 0: reported == true");
        freq[a as usize] += 1;
    }

    // Tails at several thresholds around the mean (14 votes).
    for k in [8, 11, 14, 17, 20] {
        let hits: u64 = freq[k as usize..].iter().sum();
        assert_frequency(
            &format!("P(A >= {k})"),
            hits,
            TRIALS,
            binomial_upper_tail(N, p, k),
        );
    }

    // The whole distribution: chi-square goodness of fit against the binomial pmf, cells with
    // fewer than 5 expected counts pooled, at the 1e-4 level (z = 3.719).
    let pmf = |k: u64| binomial_upper_tail(N, p, k) - binomial_upper_tail(N, p, k + 1);
    let (mut chi2, mut cells, mut pooled_e, mut pooled_o) = (0.0, 0usize, 0.0, 0.0);
    for k in 0..=N {
        let e = pmf(k) * TRIALS as f64;
        let o = freq[k as usize] as f64;
        if e < 5.0 {
            pooled_e += e;
            pooled_o += o;
        } else {
            chi2 += (o - e).powi(2) / e;
            cells += 1;
        }
    }
    chi2 += (pooled_o - pooled_e).powi(2) / pooled_e;
    cells += 1;
    let dof = (cells - 1) as f64;
    let limit = chi2_quantile(dof, 3.719);
    assert!(
        chi2 < limit,
        "chi-square {chi2} on {dof} dof exceeds {limit}"
    );

    // The published estimate at the scenario's 7% threshold is the same tail.
    let res = results(&loaded, TRIALS, 11, 2);
    let k = first_count_over(N, 0.07);
    let exact = binomial_upper_tail(N, p, k);
    let est = res.parties[0].p_true_cross;
    let se = (exact * (1.0 - exact) / TRIALS as f64).sqrt();
    assert!(
        (est.estimate - exact).abs() <= 4.0 * se,
        "P(true >= 7%) {} vs exact {exact}",
        est.estimate
    );
    assert!(
        (est.mcse - se).abs() < 0.1 * se,
        "reported mcse {} vs {se}",
        est.mcse
    );
    // The 95% interval has the width the standard error implies (whether it covers the exact
    // value is a 95% event, not something a fixed-seed test may assert).
    let half = 0.5 * (est.ci95[1] - est.ci95[0]);
    assert!(
        (half / (1.959_964 * se) - 1.0).abs() < 0.1,
        "interval {:?} vs s.e. {se}",
        est.ci95
    );
    let hits: u64 = freq[k as usize..].iter().sum();
    assert_eq!(
        est.estimate,
        hits as f64 / TRIALS as f64,
        "run and simulate_batch see the same trials"
    );
    assert_eq!(res.parties[0].p_reported_cross, est);
    assert_eq!(res.parties[0].p_flipped.estimate, 0.0);
}

/// Transfer with fixed intensity phi in every precinct: each of A's ballots moves to the
/// beneficiary with probability phi, so reported A | true A ~ Binomial(true A, 1 - phi), and
/// marginally reported A ~ Binomial(200, p (1 - phi)) (up to the same negligible Dirichlet term).
#[test]
fn single_precinct_transfer_is_binomial_thinning() {
    let (p, phi) = (0.07, 0.3);
    let mut v = single_precinct(p);
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/transfer", mechanism(1.0, phi));
    let loaded = load(&v);
    let recs = records(&loaded, TRIALS, 12);
    let (mut dev, mut var) = (0.0, 0.0);
    let mut freq = vec![0u64; N as usize + 1];
    for r in &recs {
        assert_eq!(r.irregular_fraction, 1.0);
        assert_eq!(
            r.reported_turnout, r.true_turnout,
            "transfer conserves ballots"
        );
        let (a, a_rep) = counts(r, N, N);
        assert!(a_rep <= a, "transfer never adds to a target");
        // The votes moved are the transferred ballots: taken from A, given to the beneficiary.
        assert_eq!(r.moved[0], a_rep as f64 - a as f64);
        assert_eq!(r.moved[1], a as f64 - a_rep as f64);
        dev += a_rep as f64 - (1.0 - phi) * a as f64;
        var += a as f64 * phi * (1.0 - phi);
        freq[a_rep as usize] += 1;
    }
    assert_centred("reported A - (1 - phi) true A", dev, var);
    for k in [5, 8, 10, 12, 14] {
        let hits: u64 = freq[k as usize..].iter().sum();
        let exact = binomial_upper_tail(N, p * (1.0 - phi), k);
        assert_frequency(&format!("P(reported A >= {k})"), hits, TRIALS, exact);
    }
}

/// With a dispersion c, a precinct's transfer intensity is Beta(m c, (1 - m) c): given the true
/// count a, the moved ballots have mean a m and variance a m (1 - m) + a (a - 1) Var(phi), with
/// Var(phi) = m (1 - m) / (c + 1), far above the binomial variance.
#[test]
fn transfer_dispersion_spreads_intensity_as_a_beta() {
    let (p, m, c) = (0.07, 0.3, 4.0);
    let mut v = single_precinct(p);
    set(&mut v, "/irregularities/prevalence", num(1.0));
    let mut t = mechanism(1.0, m);
    t["dispersion"] = num(c);
    set(&mut v, "/irregularities/transfer", t);
    let loaded = load(&v);
    let recs = records(&loaded, TRIALS, 13);
    let var_phi = m * (1.0 - m) / (c + 1.0);
    let (mut sum, mut var_sum) = (0.0, 0.0);
    let mut resid = Vec::with_capacity(recs.len());
    let mut model_var = Vec::with_capacity(recs.len());
    for r in &recs {
        let (a, a_rep) = counts(r, N, N);
        let moved = (a - a_rep) as f64;
        let a = a as f64;
        let v = a * m * (1.0 - m) + a * (a - 1.0) * var_phi;
        sum += moved - a * m;
        var_sum += v;
        resid.push(moved - a * m);
        model_var.push(v);
    }
    assert_centred("moved - a m", sum, var_sum);
    // The squared residuals average the model variance; their own spread gives the tolerance.
    let n = resid.len() as f64;
    let d: Vec<f64> = resid
        .iter()
        .zip(&model_var)
        .map(|(x, v)| x * x - v)
        .collect();
    let mean_d = d.iter().sum::<f64>() / n;
    let se_d = (d.iter().map(|x| (x - mean_d).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    assert!(
        mean_d.abs() <= 4.0 * se_d,
        "variance off by {mean_d} (4 SE = {})",
        4.0 * se_d
    );
    // And the binomial variance alone is clearly rejected: the test can tell them apart.
    let binomial_only: f64 = recs
        .iter()
        .map(|r| counts(r, N, N).0 as f64 * m * (1.0 - m))
        .sum::<f64>()
        / n;
    let mean_sq = resid.iter().map(|x| x * x).sum::<f64>() / n;
    assert!(
        mean_sq - binomial_only > 10.0 * se_d,
        "dispersion made no difference"
    );
}

/// Invalidation with fixed intensity iota: each of A's ballots is declared spoiled with
/// probability iota; B's count and the ballots cast are unchanged.
#[test]
fn single_precinct_invalidation_is_binomial_thinning() {
    let (p, iota) = (0.07, 0.4);
    let mut v = single_precinct(p);
    set(&mut v, "/irregularities/prevalence", num(1.0));
    let mut inv = mechanism(1.0, iota);
    inv["targets"] = json!(["a"]);
    set(&mut v, "/irregularities/invalidation", inv);
    let loaded = load(&v);
    let (mut dev, mut var) = (0.0, 0.0);
    for r in records(&loaded, TRIALS, 14) {
        assert_eq!(
            r.reported_turnout, r.true_turnout,
            "invalidation conserves ballots"
        );
        let a = (r.true_share[0] * N as f64).round();
        let b = N as f64 - a;
        // Reported A share is a' / (a' + b): recover a'.
        let s = r.reported_share[0];
        let a_rep = (s * b / (1.0 - s)).round();
        assert!((a_rep / (a_rep + b) - s).abs() < 1e-12 && a_rep <= a);
        dev += a_rep - (1.0 - iota) * a;
        var += a * iota * (1.0 - iota);
    }
    assert_centred("reported A - (1 - iota) true A", dev, var);
}

/// Stuffing with fixed intensity sigma: Binomial(registered - cast, sigma) ballots are added for
/// the beneficiary, never more than the registered non-voters.
#[test]
fn single_precinct_stuffing_adds_binomial_of_non_voters() {
    let (registered, sigma) = (1000u64, 0.1);
    let mut v = common::one_precinct(registered, 0.6, 0.07);
    set(&mut v, "/behaviour/turnout_concentration", num(20.0));
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/stuffing", mechanism(1.0, sigma));
    let loaded = load(&v);
    let (mut dev, mut var) = (0.0, 0.0);
    for r in records(&loaded, TRIALS, 15) {
        let cast = (r.true_turnout * registered as f64).round() as u64;
        let reported = (r.reported_turnout * registered as f64).round() as u64;
        assert!(
            reported >= cast && reported <= registered,
            "cast {cast}, reported {reported}"
        );
        let non_voters = (registered - cast) as f64;
        dev += (reported - cast) as f64 - sigma * non_voters;
        var += non_voters * sigma * (1.0 - sigma);
        // A's count is unchanged: its reported share is a / (cast + added).
        let a = r.true_share[0] * cast as f64;
        assert!((r.reported_share[0] * reported as f64 - a).abs() < 1e-6);
    }
    assert_centred("added - sigma x non-voters", dev, var);
}

/// The fraction of irregular precincts follows the prevalence and its urban and e-voting
/// multipliers (capped at 1), precinct by precinct.
#[test]
fn irregular_fraction_follows_prevalence_and_multipliers() {
    let prevalence = 0.3;
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(prevalence));
    set(&mut v, "/irregularities/urban_multiplier", num(4.0));
    set(&mut v, "/irregularities/evoting_multiplier", num(0.5));
    let loaded = load(&v);
    let trials = 4_000;
    let seed = 16;
    let layout = Layout::draw(&loaded.model, seed);
    let n = layout.len() as f64;
    let probs: Vec<f64> = (0..layout.len())
        .map(|i| {
            let mut q = prevalence;
            if layout.urban[i] {
                q *= 4.0;
            }
            if layout.evoting[i] {
                q *= 0.5;
            }
            q.min(1.0)
        })
        .collect();
    // Urban precincts hit the cap (0.3 x 4 > 1); the layout mixes all four kinds.
    assert!(
        probs.contains(&1.0) && probs.iter().filter(|&&q| q < 0.5).count() >= 5,
        "{probs:?}"
    );
    let expected: f64 = probs.iter().sum::<f64>() / n;
    let var_one: f64 = probs.iter().map(|q| q * (1.0 - q)).sum::<f64>() / (n * n);
    let recs = records(&loaded, trials, seed);
    let dev: f64 = recs.iter().map(|r| r.irregular_fraction - expected).sum();
    assert_centred("irregular fraction", dev, var_one * trials as f64);
}

/// Every directed mechanism at full strength gives an exactly known reported result.
#[test]
fn full_strength_mechanisms_are_exact() {
    let trials = 300;
    // Transfer of every target ballot: the beneficiary gets every valid vote.
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/transfer", mechanism(1.0, 1.0));
    let recs = records(&load(&v), trials, 21);
    for r in &recs {
        assert_eq!(r.irregular_fraction, 1.0);
        assert_eq!(&r.reported_share[..3], &[1.0, 0.0, 0.0]);
        assert_eq!(r.reported_turnout, r.true_turnout);
        assert_eq!(&r.reported_seats[..3], &[10, 0, 0]);
        assert!(r.true_share[1] > 0.0 && r.true_share[2] > 0.0);
    }

    // A dispersion does not matter at intensity 1 (the Beta would be degenerate).
    let mut t = mechanism(1.0, 1.0);
    t["dispersion"] = num(3.0);
    set(&mut v, "/irregularities/transfer", t);
    for r in records(&load(&v), trials, 21) {
        assert_eq!(&r.reported_share[..3], &[1.0, 0.0, 0.0]);
    }

    // Only "b" targeted: "c" keeps every ballot, and since transfer conserves valid ballots its
    // share is exactly its true share.
    let mut t = mechanism(1.0, 1.0);
    t["targets"] = json!(["b"]);
    set(&mut v, "/irregularities/transfer", t);
    for r in records(&load(&v), trials, 22) {
        assert_eq!(r.reported_share[1], 0.0);
        assert_eq!(r.reported_share[2], r.true_share[2]);
        assert!((r.reported_share[0] - (r.true_share[0] + r.true_share[1])).abs() < 1e-12);
    }

    // Invalidation of every target ballot: only the beneficiary's ballots stay valid.
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/invalidation", mechanism(1.0, 1.0));
    for r in records(&load(&v), trials, 23) {
        assert_eq!(&r.reported_share[..3], &[1.0, 0.0, 0.0]);
        assert_eq!(r.reported_turnout, r.true_turnout);
    }

    // Stuffing every non-voter: reported turnout is exactly 100%, and the other parties keep
    // their counts, so their shares all shrink by the same factor.
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/stuffing", mechanism(1.0, 1.0));
    for r in records(&load(&v), trials, 24) {
        assert_eq!(r.reported_turnout, 1.0);
        assert!(r.true_turnout < 1.0);
        let f = r.reported_share[1] / r.true_share[1];
        assert!(f < 1.0 && (r.reported_share[2] / r.true_share[2] - f).abs() < 1e-12);
    }

    // A rewritten protocol with turnout t and beneficiary share 1: reported turnout is
    // sum(round(registered x t)) / registered, and the beneficiary has every ballot.
    let t = 0.93;
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(
        &mut v,
        "/irregularities/rewrite",
        json!({ "probability": num(1.0), "turnout": num(t), "share": num(1.0) }),
    );
    let loaded = load(&v);
    let layout = Layout::draw(&loaded.model, 25);
    let registered: u64 = layout.registered.iter().map(|&r| r as u64).sum();
    let cast: u64 = layout
        .registered
        .iter()
        .map(|&r| (r as f64 * t).round() as u64)
        .sum();
    for r in records(&loaded, trials, 25) {
        assert_eq!(&r.reported_share[..3], &[1.0, 0.0, 0.0]);
        assert_eq!(r.reported_turnout, cast as f64 / registered as f64);
    }

    // Beneficiary share 0: the beneficiary is left with nothing.
    set(
        &mut v,
        "/irregularities/rewrite",
        json!({ "probability": num(1.0), "turnout": num(t), "share": num(0.0) }),
    );
    for r in records(&load(&v), trials, 26) {
        assert_eq!(r.reported_share[0], 0.0);
        assert!((r.reported_share[1] + r.reported_share[2] - 1.0).abs() < 1e-12);
    }

    // Undirected miscounts conserve ballots even at a 50% error rate.
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(
        &mut v,
        "/irregularities/miscount",
        json!({ "probability": num(1.0), "regular_probability": num(0.0), "intensity": num(0.5) }),
    );
    let mut changed = 0;
    for r in records(&load(&v), trials, 27) {
        assert_eq!(r.reported_turnout, r.true_turnout);
        changed += (r.reported_share != r.true_share) as u32;
    }
    assert_eq!(
        changed, trials as u32,
        "a 50% miscount changes every election"
    );
}

/// A mechanism with intensity 0 or probability 0, a prevalence of 0, or a multiplier of 0 on
/// every precinct leaves every protocol exactly as it was.
#[test]
fn inactive_irregularities_change_nothing() {
    let trials = 300;
    let assert_untouched = |v: &serde_json::Value, seed: u64, what: &str| {
        for (i, r) in records(&load(v), trials, seed).iter().enumerate() {
            assert_eq!(r.reported_share, r.true_share, "{what}: trial {i}");
            assert_eq!(r.reported_turnout, r.true_turnout, "{what}: trial {i}");
            assert_eq!(r.reported_seats, r.true_seats, "{what}: trial {i}");
            assert!(r.moved.iter().all(|&m| m == 0.0), "{what}: trial {i}");
        }
    };
    for (name, zero) in [
        ("intensity 0", mechanism(1.0, 0.0)),
        ("probability 0", mechanism(0.0, 1.0)),
    ] {
        let mut v = common::base();
        set(&mut v, "/irregularities/prevalence", num(1.0));
        for mech in ["transfer", "stuffing", "invalidation"] {
            set(&mut v, &format!("/irregularities/{mech}"), zero.clone());
        }
        set(
            &mut v,
            "/irregularities/rewrite",
            json!({ "probability": num(0.0), "turnout": num(1.0), "share": num(1.0) }),
        );
        assert_untouched(&v, 31, name);
    }

    // Every mechanism on, but no precinct irregular and no regular miscounts.
    let mut v = common::all_mechanisms();
    set(&mut v, "/irregularities/prevalence", num(0.0));
    set(
        &mut v,
        "/irregularities/miscount/regular_probability",
        num(0.0),
    );
    assert_untouched(&v, 32, "prevalence 0");

    // Prevalence 1, but every precinct urban with urban multiplier 0.
    let mut v = common::all_mechanisms();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/urban_multiplier", num(0.0));
    set(
        &mut v,
        "/irregularities/miscount/regular_probability",
        num(0.0),
    );
    set(&mut v, "/regions/0/urban_fraction", json!(1.0));
    set(&mut v, "/regions/1/urban_fraction", json!(1.0));
    assert_untouched(&v, 33, "urban multiplier 0");

    // Prevalence 1, but every precinct e-voting with e-voting multiplier 0.
    let mut v = common::all_mechanisms();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/evoting_multiplier", num(0.0));
    set(
        &mut v,
        "/irregularities/miscount/regular_probability",
        num(0.0),
    );
    set(&mut v, "/regions/0/evoting_precincts", json!(6));
    set(&mut v, "/regions/1/evoting_precincts", json!(4));
    assert_untouched(&v, 34, "e-voting multiplier 0");

    // The same check can fail: regular miscounts alone do change the count.
    let mut v = common::all_mechanisms();
    set(&mut v, "/irregularities/prevalence", num(0.0));
    set(
        &mut v,
        "/irregularities/miscount/regular_probability",
        num(1.0),
    );
    let differ = records(&load(&v), trials, 32)
        .iter()
        .filter(|r| r.reported_share != r.true_share)
        .count();
    assert!(differ > 0, "regular miscounts changed nothing");
}

/// The order of mechanisms in an irregular count: invalidation acts before transfer, so with
/// both at full strength the target ballots end up spoiled, not with the beneficiary; a rewritten
/// protocol replaces everything, so no other mechanism adds to it.
#[test]
fn mechanisms_act_in_the_documented_order() {
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(1.0));
    set(&mut v, "/irregularities/invalidation", mechanism(1.0, 1.0));
    set(&mut v, "/irregularities/transfer", mechanism(1.0, 1.0));
    let loaded = load(&v);
    let layout = Layout::draw(&loaded.model, 41);
    let mut sim = Simulator::new(&loaded.model, &layout);
    let mut rng = recount::sample::rng::stream(41, 0);
    let spoiled = 3;
    for _ in 0..50 {
        let draw = sim.draw(&mut rng);
        let t = sim.run(&mut rng, &draw);
        assert_eq!(
            t.reported_votes[0], t.true_votes[0],
            "nothing left to transfer"
        );
        assert_eq!(&t.reported_votes[1..3], &[0, 0]);
        let targets = t.true_votes[1] + t.true_votes[2];
        assert_eq!(t.reported_votes[spoiled], t.true_votes[spoiled] + targets);
    }

    // Rewrite first: stuffing at full strength would fill the precinct, but a rewritten one keeps
    // its invented turnout.
    let t_rewrite = 0.5;
    set(&mut v, "/irregularities/stuffing", mechanism(1.0, 1.0));
    set(
        &mut v,
        "/irregularities/rewrite",
        json!({ "probability": num(1.0), "turnout": num(t_rewrite), "share": num(0.8) }),
    );
    let loaded = load(&v);
    let layout = Layout::draw(&loaded.model, 42);
    let cast: u64 = layout
        .registered
        .iter()
        .map(|&r| (r as f64 * t_rewrite).round() as u64)
        .sum();
    let mut sim = Simulator::new(&loaded.model, &layout);
    let mut rng = recount::sample::rng::stream(42, 0);
    for _ in 0..50 {
        let draw = sim.draw(&mut rng);
        let t = sim.run(&mut rng, &draw);
        assert_eq!(t.reported_votes[..=spoiled].iter().sum::<u64>(), cast);
    }
}

/// With several regions and support factors, the electorate-weighted national support still
/// matches the prior's value: a factor of 2 for "b" in one region is re-balanced, not added on
/// top (un-rebalanced, factor 2 in the South, which has 40% of the voters, would give "b" about
/// 0.6 x 0.2 + 0.4 x 0.4 / 1.2 = 0.253 instead of 0.2).
#[test]
fn support_factors_keep_national_support() {
    let mut v = common::base();
    // Many precincts and high concentrations make the national share precise.
    set(&mut v, "/behaviour/share_concentration", num(2000.0));
    set(&mut v, "/behaviour/turnout_concentration", num(2000.0));
    set(&mut v, "/regions/0/precincts", json!(60));
    set(&mut v, "/regions/0/registered", json!(60_000));
    set(&mut v, "/regions/1/precincts", json!(40));
    set(&mut v, "/regions/1/registered", json!(40_000));
    for (label, factor_region) in [("factor in the South", 1), ("factor in the North", 0)] {
        let mut v = v.clone();
        common::remove(&mut v, "/regions/1/support_factors");
        set(
            &mut v,
            &format!("/regions/{factor_region}/support_factors"),
            json!({ "b": num(2.0) }),
        );
        let recs = records(&load(&v), 400, 51);
        let n = recs.len() as f64;
        let mean = recs.iter().map(|r| r.true_share[1]).sum::<f64>() / n;
        let sd = (recs
            .iter()
            .map(|r| (r.true_share[1] - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0))
            .sqrt();
        let se = sd / n.sqrt();
        assert!(se < 1e-3, "{label}: se {se}");
        assert!(
            (mean - 0.2).abs() <= 4.0 * se,
            "{label}: national mean share of b {mean}, prior 0.2, 4 SE {}",
            4.0 * se
        );
    }
}

/// The largest ballot the engine supports (15 parties plus spoiled ballots) runs every
/// mechanism without overflowing its fixed-size buffers, and conserves what it must.
#[test]
fn fifteen_parties_run_every_mechanism() {
    let mut v = common::all_mechanisms();
    let parties = v["parties"].as_array_mut().unwrap();
    for i in 0..12 {
        parties.push(json!({ "id": format!("p{i}"), "name": "P", "support": num(0.01) }));
    }
    set(&mut v, "/irregularities/prevalence", num(1.0));
    let loaded = load(&v);
    assert_eq!(loaded.model.n_parties(), 15);
    let recs = records(&loaded, 130, 61);
    let mut moved = 0;
    for r in &recs {
        let total: f64 = r.reported_share.iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(r.reported_seats.iter().sum::<u32>(), 10);
        moved += (r.reported_share[14] != r.true_share[14]) as u32;
    }
    assert!(
        moved > 0,
        "the last party's ballots are reached by the mechanisms"
    );
}

/// The published votes moved are the weighted mean and quantiles of each trial's reported minus
/// true votes; transfers alone conserve votes, so the parties' means sum to 0 and the
/// beneficiary's equals what the others lost. The official deficit is the official count's
/// distance to the threshold.
#[test]
fn votes_moved_are_what_the_irregularities_added() {
    let mut v = common::base();
    set(&mut v, "/irregularities/prevalence", num(0.6));
    set(&mut v, "/irregularities/transfer", mechanism(1.0, 0.25));
    set(&mut v, "/parties/1/official_votes", num(1000.0));
    set(&mut v, "/parties/2/official_votes", num(550.0));
    set(&mut v, "/parties/0/official_votes", num(8450.0));
    let loaded = load(&v);
    let trials = 640;
    let recs = records(&loaded, trials, 5);
    let res = results(&loaded, trials, 5, 2);
    for (j, p) in res.parties.iter().enumerate() {
        let mean = recs.iter().map(|r| r.moved[j]).sum::<f64>() / trials as f64;
        assert!(
            (p.votes_moved.mean - mean).abs() <= 1e-9 * mean.abs().max(1.0),
            "{}: published {} vs records {mean}",
            p.id,
            p.votes_moved.mean
        );
        let below = |x: f64| recs.iter().filter(|r| r.moved[j] <= x).count() as f64 / trials as f64;
        // Quantiles are resolved to a bin of 2 x registered / 20,000 voters.
        let bin = 2.0 * 7000.0 / 20_000.0;
        assert!(below(p.votes_moved.q05 + bin) >= 0.05, "{} q05", p.id);
        assert!(below(p.votes_moved.q95 - bin) <= 0.95, "{} q95", p.id);
    }
    let (a, b, c) = (&res.parties[0], &res.parties[1], &res.parties[2]);
    assert!(a.votes_moved.mean > 0.0 && b.votes_moved.mean < 0.0 && c.votes_moved.mean < 0.0);
    let total = a.votes_moved.mean + b.votes_moved.mean + c.votes_moved.mean;
    assert!(total.abs() < 1e-6, "transfers moved {total} votes in total");
    // 7% of 10,000 official valid votes is 700: B reached it, C lacked 150.
    assert_eq!(b.official_deficit, Some(0.0));
    assert_eq!(c.official_deficit, Some(150.0));
}
