//! The approximate samplers (`--sampler fast`) give the same headline probabilities as the exact
//! ones, within Monte Carlo error, for every named scenario (inverse scenarios are run forward:
//! the inverse question always uses the exact samplers).
//!
//! Both samplers run the same trials with the same seed: every trial draws the same election-level
//! unknowns (support, prevalence, intensities) and only the precinct-level draws differ, so the
//! two estimates are positively correlated and the test against 4 combined (independent)
//! standard errors is conservative against noise while a systematic bias of the approximation in
//! the precinct counts would still show.

use assert_cmd::Command;
use recount::engine::{self, Plan};
use recount::load::{self, Loaded};
use recount::sampler::SamplerKind;
use recount::stats::Estimate;
use recount::summary::Results;
use serde_json::Value;

/// Trials per scenario and sampler: 12 scenarios x 2 samplers x 256 trials x 9,728 precincts is
/// about 6e7 precinct-trials, about 30 s on two cores in the test profile (opt-level 3).
const TRIALS: u64 = 256;

fn results(l: &Loaded, sampler: SamplerKind) -> Results {
    let plan = Plan {
        trials: TRIALS,
        seed: 2007,
        threads: 2,
        sampler,
    };
    engine::run(&l.model, &plan, |_| {}).results(&l.model)
}

fn check(scenario: &str, what: &str, exact: &Estimate, fast: &Estimate) {
    let se = (exact.mcse.powi(2) + fast.mcse.powi(2)).sqrt();
    let diff = (exact.estimate - fast.estimate).abs();
    assert!(
        diff <= 4.0 * se + 1e-12,
        "{scenario} {what}: exact {} fast {} (difference {diff}, combined se {se})",
        exact.estimate,
        fast.estimate
    );
}

#[test]
fn fast_matches_exact_headline_probabilities_for_every_named_scenario() {
    let names = load::list_names().expect("the scenario directory is readable");
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let l = load::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let exact = results(&l, SamplerKind::Exact);
        let fast = results(&l, SamplerKind::Fast);
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
        // Reported shares: the mean national share of every party agrees to well within its
        // spread between trials.
        for (e, f) in exact.parties.iter().zip(&fast.parties) {
            let (me, mf) = (e.reported_share.mean, f.reported_share.mean);
            assert!(
                (me - mf).abs() < 0.002,
                "{name} {}: mean reported share exact {me} fast {mf}",
                e.id
            );
        }
    }
}

#[test]
fn fast_is_deterministic_and_independent_of_threads() {
    let l = load::load("odihr-43").unwrap();
    let run = |threads| {
        let plan = Plan {
            trials: 70,
            seed: 5,
            threads,
            sampler: SamplerKind::Fast,
        };
        let r = engine::run(&l.model, &plan, |_| {}).results(&l.model);
        serde_json::to_string(&r).unwrap()
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn cli_records_the_sampler_in_the_output_and_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, file) in [("exact", "run-3-64.json"), ("fast", "run-3-64-fast.json")] {
        Command::new(env!("CARGO_BIN_EXE_recount"))
            .args([
                "run", "odihr-43", "--trials", "64", "--seed", "3", "--quiet",
            ])
            .args(["--sampler", flag, "--out"])
            .arg(dir.path())
            .assert()
            .success();
        let text = std::fs::read_to_string(dir.path().join("odihr-43").join(file)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["sampler"], flag);
    }
    // Inverse scenarios run exact only.
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
        .failure();
}
