//! The approximate samplers (`--sampler fast` and `--sampler pooled`) give the same headline
//! probabilities as the exact ones, within Monte Carlo error, for every named scenario run
//! forward, and the same posteriors for every named inverse scenario.
//!
//! Both samplers run the same trials with the same seed: every trial draws the same election-level
//! unknowns (support, prevalence, intensities) and only the precinct-level draws differ, so the
//! two estimates are positively correlated and the test against 4 combined (independent)
//! standard errors is conservative. The sharp check is paired: per trial, the difference of each
//! national share between the samplers is precinct noise only, so its mean must be within 4 of
//! its standard errors of zero (a 2% error in the small categories' two-point shares fails it by
//! 13 standard errors; the earlier 0.2-point tolerance on mean shares let it pass).

use assert_cmd::Command;
use recount::election::country::Layout;
use recount::election::outcome::Record;
use recount::engine::summary::Accumulator;
use recount::engine::summary::Results;
use recount::engine::{self, Plan};
use recount::model::load::{self, Loaded};
use recount::numeric::stats::Estimate;
use recount::sample::kind::SamplerKind;
use serde_json::Value;

/// Trials per scenario and sampler: 12 scenarios x 3 samplers x 256 trials x 9,728 precincts is
/// about 9e7 precinct-trials, about 40 s on two cores in the test profile (opt-level 3).
const TRIALS: u64 = 256;

const SEED: u64 = 2007;

/// The approximate samplers, each checked against the exact ones.
const APPROXIMATE: [SamplerKind; 2] = [SamplerKind::Fast, SamplerKind::Pooled];

/// Every trial's record with the given samplers, in trial order.
fn records(l: &Loaded, sampler: SamplerKind) -> Vec<Record> {
    let layout = Layout::draw(&l.model, SEED);
    (0..TRIALS / engine::BATCH)
        .flat_map(|b| {
            engine::simulate_batch_with(&l.model, &layout, SEED, b, engine::BATCH, sampler)
        })
        .collect()
}

fn results(l: &Loaded, recs: &[Record]) -> Results {
    let mut acc = Accumulator::new(&l.model);
    recs.iter().for_each(|r| acc.add(r));
    acc.results(&l.model)
}

/// Trial t of both samplers draws the same election-level unknowns, so the per-trial difference
/// of a national share is only precinct-level noise (and any bias of the approximation): its
/// mean must be within 4 standard errors of zero. This is far tighter than comparing the two
/// means against their spread between trials.
fn check_paired(scenario: &str, what: &str, exact: &[f64], fast: &[f64]) {
    let d: Vec<f64> = exact.iter().zip(fast).map(|(e, f)| f - e).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(
        mean.abs() <= 4.0 * sd / n.sqrt() + 1e-12,
        "{scenario} {what}: mean paired difference approximate - exact {mean:e} (se {:e})",
        sd / n.sqrt()
    );
}

fn check(scenario: &str, what: &str, exact: &Estimate, fast: &Estimate) {
    let se = (exact.mcse.powi(2) + fast.mcse.powi(2)).sqrt();
    let diff = (exact.estimate - fast.estimate).abs();
    assert!(
        diff <= 4.0 * se + 1e-12,
        "{scenario} {what}: exact {} approximate {} (difference {diff}, combined se {se})",
        exact.estimate,
        fast.estimate
    );
}

#[test]
fn approximate_samplers_match_exact_headline_probabilities_for_every_named_scenario() {
    let names = load::list_names().expect("the scenario directory is readable");
    assert!(names.len() >= 10, "{names:?}");
    for scenario in &names {
        let l = load::load(scenario).unwrap_or_else(|e| panic!("{scenario}: {e}"));
        let exact_recs = records(&l, SamplerKind::Exact);
        for kind in APPROXIMATE {
            let name = &format!("{scenario} ({})", kind.name());
            let fast_recs = records(&l, kind);
            let (exact, fast) = (results(&l, &exact_recs), results(&l, &fast_recs));
            for (e, f) in exact.parties.iter().zip(&fast.parties) {
                assert_eq!(e.id, f.id);
                check(
                    name,
                    &format!("{} p_true_cross", e.id),
                    &e.p_true_cross,
                    &f.p_true_cross,
                );
                check(
                    name,
                    &format!("{} p_reported_cross", e.id),
                    &e.p_reported_cross,
                    &f.p_reported_cross,
                );
                check(
                    name,
                    &format!("{} p_flipped", e.id),
                    &e.p_flipped,
                    &f.p_flipped,
                );
            }
            check(
                name,
                "p_any_true_cross",
                &exact.p_any_true_cross,
                &fast.p_any_true_cross,
            );
            check(
                name,
                "p_any_reported_cross",
                &exact.p_any_reported_cross,
                &fast.p_any_reported_cross,
            );
            check(
                name,
                "p_any_flipped",
                &exact.p_any_flipped,
                &fast.p_any_flipped,
            );
            // National shares, true and reported, and turnout: no bias beyond precinct noise.
            for (j, p) in exact.parties.iter().enumerate() {
                for (what, get) in [
                    (
                        "true share",
                        (|r: &Record, j: usize| r.true_share[j]) as fn(&Record, usize) -> f64,
                    ),
                    ("reported share", |r: &Record, j: usize| r.reported_share[j]),
                ] {
                    let e: Vec<f64> = exact_recs.iter().map(|r| get(r, j)).collect();
                    let f: Vec<f64> = fast_recs.iter().map(|r| get(r, j)).collect();
                    check_paired(name, &format!("{} {what}", p.id), &e, &f);
                }
            }
            let turnout =
                |recs: &[Record]| recs.iter().map(|r| r.reported_turnout).collect::<Vec<_>>();
            check_paired(
                name,
                "reported turnout",
                &turnout(&exact_recs),
                &turnout(&fast_recs),
            );
        }
    }
}

/// Trials per inverse scenario and sampler (an effective sample size of about 400 in
/// inverse-odihr).
const INVERSE_TRIALS: u64 = 1024;

/// The weighted trials of the inverse question with the given samplers, in trial order.
fn weighted(l: &Loaded, sampler: SamplerKind) -> Vec<Record> {
    use rayon::prelude::*;
    let plan = Plan {
        trials: INVERSE_TRIALS,
        seed: SEED,
        threads: 2,
        sampler,
    };
    (0..INVERSE_TRIALS / engine::BATCH)
        .into_par_iter()
        .flat_map_iter(|b| {
            recount::question::inverse::weighted_batch(&l.model, &plan, b, engine::BATCH)
        })
        .collect()
}

/// The self-normalised posterior mean of `h` and each trial's influence on it,
/// w_i (h_i - mean) / mean(w): the estimate's error is about the mean of the influences, so
/// the error of a difference between two runs of the same trials is about the mean of the
/// per-trial differences of influences (the delta method).
fn posterior_mean(recs: &[Record], h: impl Fn(&Record) -> f64) -> (f64, Vec<f64>) {
    let w: f64 = recs.iter().map(|r| r.weight).sum();
    let mean = recs.iter().map(|r| r.weight * h(r)).sum::<f64>() / w;
    let w_bar = w / recs.len() as f64;
    let influence = recs
        .iter()
        .map(|r| r.weight * (h(r) - mean) / w_bar)
        .collect();
    (mean, influence)
}

/// Trial t of both samplers proposes the same unknowns (only the precincts and the observers'
/// sample differ), so the posterior means of the two runs are compared against the spread of
/// their paired influences: within 4 standard errors.
fn check_posterior(
    scenario: &str,
    what: &str,
    exact: &[Record],
    fast: &[Record],
    h: impl Fn(&Record) -> f64,
) {
    let (me, ie) = posterior_mean(exact, &h);
    let (mf, i_f) = posterior_mean(fast, &h);
    let d: Vec<f64> = ie.iter().zip(&i_f).map(|(e, f)| f - e).collect();
    let n = d.len() as f64;
    let mean_d = d.iter().sum::<f64>() / n;
    let se = (d.iter().map(|x| (x - mean_d).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    assert!(
        (mf - me).abs() <= 4.0 * se + 1e-12,
        "{scenario} {what}: posterior exact {me} approximate {mf} (paired se {se})"
    );
}

#[test]
fn approximate_samplers_match_exact_posteriors_for_every_named_inverse_scenario() {
    let mut checked = 0;
    for scenario in load::list_names().expect("the scenario directory is readable") {
        let l = load::load(&scenario).unwrap_or_else(|e| panic!("{scenario}: {e}"));
        if l.model.inverse.is_none() {
            continue;
        }
        let exact = weighted(&l, SamplerKind::Exact);
        for kind in APPROXIMATE {
            let name = format!("{scenario} ({})", kind.name());
            let fast = weighted(&l, kind);
            let m = &l.model;
            let (focus, threshold) = (&m.focus, m.threshold);
            let over = |r: &Record, j: usize| (r.true_share[j] >= threshold) as u8 as f64;
            check_posterior(&name, "P(any focus party truly over)", &exact, &fast, |r| {
                focus.iter().any(|&j| over(r, j) > 0.0) as u8 as f64
            });
            for &j in focus {
                let id = &m.parties[j].id;
                check_posterior(&name, &format!("P({id} truly over)"), &exact, &fast, |r| {
                    over(r, j)
                });
                check_posterior(&name, &format!("{id} true share"), &exact, &fast, |r| {
                    r.true_share[j]
                });
            }
            // The weights themselves: their mean (the evidence, up to a constant) is the same,
            // within 4 standard errors of the paired per-trial differences.
            let w = |recs: &[Record]| recs.iter().map(|r| r.weight).collect::<Vec<_>>();
            check_paired(&name, "mean weight", &w(&exact), &w(&fast));
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} inverse scenarios");
}

#[test]
fn approximate_samplers_are_deterministic_and_independent_of_threads() {
    let l = load::load("odihr-43").unwrap();
    for sampler in APPROXIMATE {
        let run = |threads| {
            let plan = Plan {
                trials: 70,
                seed: 5,
                threads,
                sampler,
            };
            let r = engine::run(&l.model, &plan, |_| {}).results(&l.model);
            serde_json::to_string(&r).unwrap()
        };
        assert_eq!(run(1), run(2), "{sampler:?}");
    }
}

#[test]
fn cli_records_the_sampler_in_the_output_and_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, file) in [
        ("exact", "run-3-64.json"),
        ("fast", "run-3-64-fast.json"),
        ("pooled", "run-3-64-pooled.json"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_recount"))
            .args([
                "run", "odihr-43", "--trials", "64", "--seed", "3", "--quiet",
            ])
            .args(["--sampler", flag, "--out"])
            .arg(dir.path())
            .assert()
            .success();
        // The table says so too, for fast only.
        let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert_eq!(
            table.contains(&format!("{flag} (approximate) samplers")),
            flag != "exact",
            "{table}"
        );
        let text = std::fs::read_to_string(dir.path().join("odihr-43").join(file)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["sampler"], flag);
    }
    // Inverse scenarios too.
    Command::new(env!("CARGO_BIN_EXE_recount"))
        .args([
            "run",
            "inverse-odihr",
            "--trials",
            "8",
            "--quiet",
            "--sampler",
            "fast",
        ])
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let path = dir
        .path()
        .join("inverse-odihr")
        .join("run-20070818-8-fast.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(v["sampler"], "fast");
}
