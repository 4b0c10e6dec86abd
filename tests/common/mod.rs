//! Helpers shared by the integration tests: small synthetic scenarios built as JSON, edited by
//! path, written into a temporary directory or validated in memory, and run through the engine.
//!
//! Synthetic scenarios keep statistical tests fast in the unoptimised test profile: a few
//! precincts simulate thousands of elections in a second, where the 9,728-precinct country
//! manages a few dozen.

#![allow(dead_code)] // each test binary uses a different subset

use recount::election::country::Layout;
use recount::election::outcome::Record;
use recount::engine::summary::Results;
use recount::engine::{self, Plan};
use recount::model::load::{self, Loaded};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A number or a fixed prior: `{"value": v, "source": ...}`.
pub fn num(v: f64) -> Value {
    json!({ "value": v, "source": "assumption: test" })
}

/// A uniform prior on [lo, hi].
pub fn uniform(lo: f64, hi: f64) -> Value {
    json!({ "uniform": [lo, hi], "source": "assumption: test" })
}

/// A Beta(a, b) prior.
pub fn beta(a: f64, b: f64) -> Value {
    json!({ "beta": [a, b], "source": "assumption: test" })
}

/// A directed mechanism (transfer, stuffing, invalidation) with fixed probability and intensity.
pub fn mechanism(probability: f64, intensity: f64) -> Value {
    json!({ "probability": num(probability), "intensity": num(intensity) })
}

/// A region with no support factors.
pub fn region(
    name: &str,
    precincts: u32,
    registered: u64,
    urban: f64,
    evoting: u32,
    turnout: f64,
) -> Value {
    json!({
        "name": name,
        "precincts": precincts,
        "registered": registered,
        "urban_fraction": urban,
        "evoting_precincts": evoting,
        "source": "assumption: test",
        "turnout": num(turnout),
    })
}

/// The provenance columns every CSV recount writes ends with (`export::run::Stamp`).
pub const STAMP: [&str; 6] = [
    "scenario",
    "scenario_hash",
    "seed",
    "trials",
    "sampler",
    "recount_version",
];

/// A small valid scenario: three parties ("a", the remainder and beneficiary, about 70%; "b" 20%;
/// "c" 10%), two regions of 6 and 4 precincts, a 7% threshold, 10 seats, no irregularities.
pub fn base() -> Value {
    let mut south = region("South", 4, 3000, 0.0, 0, 0.7);
    south["support_factors"] = json!({ "b": num(2.0) });
    json!({
        "title": "Synthetic test scenario",
        "question": "Does the engine behave as its closed forms say?",
        "description": "A tiny country for tests.",
        "parties": [
            { "id": "a", "name": "Party A", "remainder": true },
            { "id": "b", "name": "Party B", "support": num(0.2) },
            { "id": "c", "name": "Party C", "support": num(0.1) },
        ],
        "focus": ["b", "c"],
        "spoiled": num(0.02),
        "threshold": num(0.07),
        "seats": num(10.0),
        "allocation": "hare",
        "precinct_sizes": { "shape": num(4.0), "minimum": num(50.0) },
        "behaviour": { "turnout_concentration": num(20.0), "share_concentration": num(50.0) },
        "regions": [region("North", 6, 4000, 0.5, 2, 0.6), south],
        "irregularities": {
            "prevalence": num(0.0),
            "urban_multiplier": num(1.0),
            "evoting_multiplier": num(1.0),
            "beneficiary": "a",
        },
        "run": { "trials": 100, "seed": 1 },
    })
}

/// `base()` with every mechanism switched on at moderate, uncertain levels: the scenario the
/// reproducibility and invariant tests run, so that every code path draws random numbers.
pub fn all_mechanisms() -> Value {
    let mut v = base();
    let ir = &mut v["irregularities"];
    ir["prevalence"] = beta(4.0, 6.0);
    ir["urban_multiplier"] = num(1.5);
    ir["evoting_multiplier"] = num(0.5);
    ir["transfer"] =
        json!({ "probability": num(0.7), "intensity": beta(2.0, 5.0), "dispersion": num(7.0) });
    ir["invalidation"] =
        json!({ "probability": num(0.3), "intensity": uniform(0.0, 0.2), "targets": ["b"] });
    ir["stuffing"] =
        json!({ "probability": num(0.3), "intensity": beta(1.0, 20.0), "dispersion": num(20.0) });
    ir["rewrite"] = json!({ "probability": num(0.05), "turnout": uniform(0.9, 1.0), "share": uniform(0.9, 1.0) });
    ir["miscount"] =
        json!({ "probability": num(0.5), "regular_probability": num(0.1), "intensity": num(0.02) });
    v
}

/// One region with a single precinct of `registered` voters and two parties: "a" with fixed
/// support `p` and "b" the remainder (and beneficiary); no spoiled ballots; turnout and shares
/// nearly fixed (both concentrations at their maximum, 1e6).
pub fn one_precinct(registered: u64, turnout: f64, p: f64) -> Value {
    let mut v = base();
    v["parties"] = json!([
        { "id": "a", "name": "Party A", "support": num(p) },
        { "id": "b", "name": "Party B", "remainder": true },
    ]);
    v["focus"] = json!(["a"]);
    v["spoiled"] = num(0.0);
    v["precinct_sizes"]["minimum"] = num(1.0);
    v["behaviour"] = json!({ "turnout_concentration": num(1e6), "share_concentration": num(1e6) });
    v["regions"] = json!([region("Only", 1, registered, 0.0, 0, turnout)]);
    v["irregularities"]["beneficiary"] = json!("b");
    v
}

/// Gives the parties these official votes, in ballot order.
pub fn official_votes(v: &mut Value, votes: &[f64]) {
    let parties = v["parties"].as_array_mut().expect("parties");
    assert_eq!(parties.len(), votes.len(), "one figure per party");
    for (p, &n) in parties.iter_mut().zip(votes) {
        p["official_votes"] = num(n);
    }
}

/// Sets the value at a JSON pointer ("/irregularities/prevalence"), creating the last key if
/// its parent object exists.
pub fn set(v: &mut Value, pointer: &str, new: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer starts with /");
    let target = v
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in scenario"));
    match target {
        Value::Object(map) => {
            map.insert(key.to_string(), new);
        }
        Value::Array(items) => {
            let i: usize = key.parse().expect("an array index");
            items[i] = new;
        }
        _ => panic!("{parent} is neither an object nor an array"),
    }
}

/// Removes the key at a JSON pointer.
pub fn remove(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer starts with /");
    let removed = v
        .pointer_mut(parent)
        .and_then(|p| p.as_object_mut())
        .and_then(|m| m.remove(key));
    assert!(removed.is_some(), "no {pointer} in scenario");
}

/// Validates a scenario held in memory, the way `recount validate` does a file.
pub fn try_load(v: &Value) -> recount::error::Result<Loaded> {
    let text = serde_json::to_string_pretty(v).expect("JSON serialises");
    let scenario = load::parse(&text).map_err(|message| recount::error::Error::Scenario {
        file: "<memory>".into(),
        message,
    })?;
    Loaded::new("synthetic".into(), PathBuf::from("<memory>"), scenario)
}

/// Validates a scenario held in memory, panicking with the error if it is invalid.
pub fn load(v: &Value) -> Loaded {
    try_load(v).unwrap_or_else(|e| panic!("scenario should be valid: {e}"))
}

/// Writes a scenario as `<dir>/<name>.json`.
pub fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).expect("write scenario");
    path
}

/// Every trial's record, in trial order, exactly as `engine::run` would see them.
pub fn records(loaded: &Loaded, trials: u64, seed: u64) -> Vec<Record> {
    let model = &loaded.model;
    let layout = Layout::draw(model, seed);
    let batches = trials.div_ceil(engine::BATCH);
    (0..batches)
        .flat_map(|b| {
            let count = engine::BATCH.min(trials - b * engine::BATCH);
            engine::simulate_batch(model, &layout, seed, b, count)
        })
        .collect()
}

/// The published results of `trials` trials.
pub fn results(loaded: &Loaded, trials: u64, seed: u64, threads: usize) -> Results {
    let plan = Plan {
        trials,
        seed,
        threads,
        sampler: recount::sample::kind::SamplerKind::Exact,
    };
    engine::run(&loaded.model, &plan, |_| {}).results(&loaded.model)
}

/// The smallest count k with k / n >= threshold, computed as the engine compares shares.
pub fn first_count_over(n: u64, threshold: f64) -> u64 {
    (0..=n)
        .find(|&k| k as f64 / n as f64 >= threshold)
        .unwrap_or(n + 1)
}

/// Simulation-based calibration's verdict on `n` replications: the posterior CDF at the truth,
/// binned in `ranks`, must be uniform (chi-square over the bins below its 0.999 quantile), and
/// the 90% intervals must cover the truth in `covered` of them within 4 binomial standard
/// deviations of 90%. Prints and returns the chi-square.
pub fn assert_calibrated(what: &str, ranks: &[u64], covered: u64, n: u64) -> f64 {
    let bins = ranks.len() as f64;
    let expected = n as f64 / bins;
    let chi2: f64 = ranks
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    let critical = recount::numeric::stats::chi2_quantile(bins - 1.0, 3.090_232);
    eprintln!(
        "SBC, {what}: ranks {ranks:?}, chi2 {chi2:.2} (critical {critical:.2}), 90% coverage {covered}/{n}"
    );
    assert!(
        chi2 < critical,
        "{what}: ranks {ranks:?}, chi2 {chi2} >= {critical}"
    );
    let nf = n as f64;
    assert!(
        (covered as f64 - 0.9 * nf).abs() <= 4.0 * (nf * 0.09).sqrt(),
        "{what}: covered {covered} of {n}"
    );
    chi2
}
