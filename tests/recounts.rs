//! Recounts as evidence (`observations.recounts`), through the command line: the posterior of
//! the slips' prevalence is the exact one the recounts give, and a bad recount block or file
//! exits 2 naming the field, line and column, with nothing written.

mod common;

use assert_cmd::Command;
use common::{num, uniform};
use libm::{exp, log as ln};
use serde_json::{Value, json};
use std::path::Path;
use tempfile::TempDir;

/// Stations recounted, and the recount of each: party a, b, c and invalid ballots.
const STATIONS: u64 = 200;
const RECOUNTED: [u64; 4] = [300, 100, 50, 5];
/// The slips' mean size (fixed) and the prior's upper end on their prevalence (uniform from 0).
const MEAN: f64 = 3.0;
const PRIOR_HIGH: f64 = 0.6;

/// Slips of k ballots off a's pile, declared invalid: in one station in five but the first (39
/// stations), with k from 1 to 5. Returns the CSV and the k of each station that slipped.
fn recounts() -> (String, Vec<u64>) {
    let mut csv = String::from(
        "station,a_reported,a_recounted,b_reported,b_recounted,c_reported,c_recounted,invalid_reported,invalid_recounted\n",
    );
    let mut slipped = Vec::new();
    for s in 0..STATIONS {
        let k = if s % 5 == 0 && s != 0 {
            1 + (s / 5) % 5
        } else {
            0
        };
        if k > 0 {
            slipped.push(k);
        }
        let [a, b, c, inv] = RECOUNTED;
        csv.push_str(&format!(
            "p{s},{},{a},{b},{b},{c},{c},{},{inv}\n",
            a - k,
            inv + k
        ));
    }
    (csv, slipped)
}

/// `common::base()` as an inverse question whose only evidence is the recounts: official votes
/// near the supports, no observers, a uniform kernel 50 points wide (every trial within), and
/// slips to invalid off a's pile with prevalence ~ Uniform(0, PRIOR_HIGH), Poisson(MEAN).
fn scenario(dir: &Path, csv: &str) -> Value {
    std::fs::write(dir.join("recounts.csv"), csv).unwrap();
    let sha = sha256(&dir.join("recounts.csv"));
    let mut v = common::base();
    common::official_votes(&mut v, &[700.0, 200.0, 100.0]);
    v["count_errors"] = json!({ "slips": {
        "prevalence": uniform(0.0, PRIOR_HIGH),
        "size": { "law": "poisson", "mean": num(MEAN) },
        "from": ["a"],
        "to": "invalid",
    } });
    v["observations"] = json!({ "recounts": {
        "file": "recounts.csv",
        "sha256": sha,
        "source": "synthetic recounts for the test",
        "selection": "random",
    } });
    v["inference"] = json!({ "kernel": "uniform", "tolerance": num(50.0), "proposal": "prior" });
    v
}

fn sha256(path: &Path) -> String {
    recount::model::protocols::sha256_file(path).unwrap()
}

/// The exact posterior mean and sd of the prevalence p: prior uniform on [0, PRIOR_HIGH],
/// likelihood (1 - p + p e^-MEAN)^(unchanged stations) x p^(slipped stations) (the Poisson
/// terms of the slips' sizes do not depend on p), by Simpson's rule on 20,000 intervals.
fn exact_posterior(slipped: usize) -> (f64, f64) {
    let unchanged = (STATIONS as usize - slipped) as f64;
    let log_l = |p: f64| unchanged * ln(1.0 - p + p * exp(-MEAN)) + slipped as f64 * ln(p);
    let n = 20_000;
    let h = PRIOR_HIGH / n as f64;
    let peak = (1..n).map(|i| log_l(i as f64 * h)).fold(f64::MIN, f64::max);
    let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
    for i in 1..n {
        let p = i as f64 * h;
        let w = if i % 2 == 1 { 4.0 } else { 2.0 } * exp(log_l(p) - peak);
        m0 += w;
        m1 += w * p;
        m2 += w * p * p;
    }
    let mean = m1 / m0;
    (mean, (m2 / m0 - mean * mean).sqrt())
}

fn run(dir: &TempDir, scenario: &Path, trials: u64) -> std::process::Output {
    run_in(dir, "out", scenario, trials, 2)
}

fn run_in(
    dir: &TempDir,
    out: &str,
    scenario: &Path,
    trials: u64,
    threads: usize,
) -> std::process::Output {
    let (trials, threads) = (trials.to_string(), threads.to_string());
    Command::cargo_bin("recount")
        .unwrap()
        .args(["run", scenario.to_str().unwrap(), "--trials", &trials])
        .args(["--seed", "5", "--json", "--quiet", "--threads", &threads])
        .arg("--out")
        .arg(dir.path().join(out))
        .output()
        .unwrap()
}

/// The inverse summary of a `--json` run that must succeed, and its posterior of the slips'
/// prevalence.
fn prevalence(out: &std::process::Output) -> (Value, Value) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inv = v["inverse"].clone();
    let p = inv["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "slips.prevalence")
        .unwrap_or_else(|| panic!("no prevalence among {}", inv["parameters"]))
        .clone();
    (inv, p)
}

/// The guided proposal (the default) fits the counting errors' unknowns to the recounts before
/// the trials: the same exact posterior within 4 standard errors, with at least 3 times the
/// effective sample size of drawing them from the priors in the same number of trials, and the
/// same answer, bit for bit, on 1 and 2 threads.
#[test]
fn the_guided_proposal_gives_the_same_posterior_with_more_effective_trials() {
    let dir = TempDir::new().unwrap();
    let (csv, slipped) = recounts();
    let mut v = scenario(dir.path(), &csv);
    let prior = common::write(dir.path(), "prior", &v);
    v["inference"]["proposal"] = json!("guided");
    let guided = common::write(dir.path(), "guided", &v);
    let (inv_prior, _) = prevalence(&run_in(&dir, "a", &prior, 4_000, 2));
    let out = run_in(&dir, "b", &guided, 4_000, 2);
    let (inv, p) = prevalence(&out);
    let (mean, sd) = exact_posterior(slipped.len());
    let ess = inv["ess"].as_f64().unwrap();
    let se = sd / ess.sqrt();
    let got = p["posterior"]["mean"].as_f64().unwrap();
    assert!(
        (got - mean).abs() < 4.0 * se,
        "guided posterior mean {got}, exact {mean} (s.e. {se}, ESS {ess:.0})"
    );
    let ess_prior = inv_prior["ess"].as_f64().unwrap();
    assert!(
        ess > 3.0 * ess_prior,
        "ESS guided {ess:.0}, from the priors {ess_prior:.0}"
    );
    let (one, _) = prevalence(&run_in(&dir, "c", &guided, 4_000, 1));
    assert_eq!(one, inv, "1 thread and 2 threads differ");
}

/// The run's posterior mean of the slips' prevalence is the exact one within 4 of its standard
/// errors (posterior sd / sqrt(ESS)), far from the prior mean; the JSON and the terminal say
/// what the recounts were.
#[test]
fn the_prevalence_posterior_is_the_exact_one_the_recounts_give() {
    let dir = TempDir::new().unwrap();
    let (csv, slipped) = recounts();
    let path = common::write(dir.path(), "recounted", &scenario(dir.path(), &csv));
    let (inv, p) = prevalence(&run(&dir, &path, 20_000));
    assert_eq!(inv["recounts"]["stations"], STATIONS);
    assert_eq!(inv["recounts"]["differing"], slipped.len());
    assert_eq!(inv["recounts"]["selection"], "random");
    let ess = inv["ess"].as_f64().unwrap();
    let got = p["posterior"]["mean"].as_f64().unwrap();
    let (mean, sd) = exact_posterior(slipped.len());
    let se = sd / ess.sqrt();
    assert!(
        (got - mean).abs() < 4.0 * se,
        "posterior mean {got}, exact {mean} (s.e. {se}, ESS {ess:.0})"
    );
    // The recounts moved the answer (so the check above is not the prior's): the exact
    // posterior is a fifth of the prior's spread, and its mean 3 sd from the prior's.
    assert!(sd < 0.2 * PRIOR_HIGH / 12f64.sqrt(), "posterior sd {sd}");
    assert!((mean - PRIOR_HIGH / 2.0).abs() > 3.0 * sd, "{mean}");

    let out = Command::cargo_bin("recount")
        .unwrap()
        .args([
            "run",
            path.to_str().unwrap(),
            "--trials",
            "300",
            "--quiet",
            "--out",
        ])
        .arg(dir.path().join("out2"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "Recounts: {STATIONS} stations (chosen at random), {} with figures that differ",
            slipped.len()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "The answer: Given the official result (no observers' sample), and the recounts of {STATIONS} stations (chosen at random; {} differ from their protocols",
            slipped.len()
        )),
        "{text}"
    );
}

/// A change to a scenario and its folder.
type Edit = dyn Fn(&Path, &mut Value);

/// A bad recount block or file exits 2 and names the field (and the file's line and column),
/// with nothing written.
#[test]
fn bad_recounts_exit_2_naming_the_field() {
    let (csv, _) = recounts();
    let edit = |f: &dyn Fn(&Path, &mut Value)| {
        let dir = TempDir::new().unwrap();
        let mut v = scenario(dir.path(), &csv);
        f(dir.path(), &mut v);
        let path = common::write(dir.path(), "bad", &v);
        let out = run(&dir, &path, 100);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!dir.path().join("out").exists(), "something was written");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let rewrite = |dir: &Path, v: &mut Value, text: &str| {
        std::fs::write(dir.join("recounts.csv"), text).unwrap();
        v["observations"]["recounts"]["sha256"] = json!(sha256(&dir.join("recounts.csv")));
    };
    let [c0, c1, c2, c3] = [0, 1, 2, 3].map(|_| csv.clone());
    let cases: Vec<(Box<Edit>, &str)> = vec![
        (
            Box::new(|_, v| {
                v["observations"]["recounts"]
                    .as_object_mut()
                    .unwrap()
                    .remove("sha256")
                    .map(|_| ())
                    .unwrap()
            }),
            "field `observations.recounts.sha256`: missing; add `\"sha256\": \"",
        ),
        (
            Box::new(|dir, _| std::fs::write(dir.join("recounts.csv"), "station\n").unwrap()),
            "has changed since the scenario was made",
        ),
        (
            Box::new(|_, v| {
                v.as_object_mut()
                    .unwrap()
                    .remove("count_errors")
                    .map(|_| ())
                    .unwrap()
            }),
            "field `observations.recounts`: needs a `count_errors` block",
        ),
        (
            Box::new(|_, v| v["observations"]["recounts"]["selection"] = json!("targeted")),
            "field `observations.recounts.enrichment`: missing",
        ),
        (
            Box::new(move |dir, v| rewrite(dir, v, &c0.replacen("p3,300", "p3,3x0", 1))),
            "line 5, column 2 (\"a_reported\"): \"3x0\" is not a whole number from 0 to",
        ),
        (
            Box::new(move |dir, v| rewrite(dir, v, &c1.replacen("p3,", "p2,", 1))),
            "line 5, column 1 (\"station\"): \"p2\" appears on an earlier row",
        ),
        (
            // Party b's figure changed with nothing to balance it: no slip goes b -> anywhere.
            Box::new(move |dir, v| {
                rewrite(dir, v, &c2.replacen("p3,300,300,100", "p3,300,300,90", 1))
            }),
            "line 5 (station \"p3\"): no slip, swap or zeroed figure",
        ),
        (
            Box::new(move |dir, v| {
                let text: String = c3
                    .lines()
                    .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
                    .collect();
                rewrite(dir, v, &text)
            }),
            "no column \"invalid_recounted\"",
        ),
        (
            Box::new(|_, v| v["observations"]["recounts"]["file"] = json!("missing.csv")),
            "field `observations.recounts.file`",
        ),
    ];
    for (f, says) in cases {
        let stderr = edit(&*f);
        assert!(stderr.contains(says), "expected {says:?} in:\n{stderr}");
        assert!(
            stderr.contains("bad.json"),
            "the scenario file is named:\n{stderr}"
        );
    }
}
