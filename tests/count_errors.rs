//! Honest counting errors in ballots (`count_errors`): closed forms for slips, zero errors giving
//! reported == true, swaps and zeroed figures doing exactly what they say, thinning by station
//! kind, reproducibility over threads, and the errors a bad `count_errors` block gets.

mod common;

use assert_cmd::Command;
use common::{num, uniform};
use libm::{exp, log as ln};
use recount::election::country::Layout;
use recount::election::outcome::Record;
use recount::election::trial::Simulator;
use recount::numeric::stats::ln_gamma;
use recount::sample::rng::stream;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Stations in the closed-form country.
const STATIONS: u64 = 200;

/// One region of `STATIONS` stations of about 500 voters, turnout 60%, parties "a" (30%) and
/// "b" (the remainder), no spoiled ballots, no irregularities; `count_errors` as given. Party
/// a's pile is about 90 ballots a station, far above any slip drawn here, so the cap at the pile
/// never binds and the closed forms hold exactly.
fn country(count_errors: Value) -> Value {
    let mut v = common::base();
    v["parties"] = json!([
        { "id": "a", "name": "Party A", "support": num(0.3) },
        { "id": "b", "name": "Party B", "remainder": true },
    ]);
    v["focus"] = json!(["a"]);
    v["spoiled"] = num(0.0);
    v["regions"] = json!([common::region(
        "Only",
        STATIONS as u32,
        STATIONS * 500,
        0.0,
        0,
        0.6
    )]);
    v["precinct_sizes"] = json!({ "shape": num(1e4), "minimum": num(400.0) });
    v.as_object_mut().unwrap().remove("irregularities");
    v["count_errors"] = count_errors;
    v
}

/// Slips of Poisson(`mean`) ballots off a's pile, declared invalid, in a share `p` of stations.
fn slips_to_invalid(p: Value, size: Value) -> Value {
    json!({ "slips": { "prevalence": p, "size": size, "from": ["a"], "to": "invalid" } })
}

fn poisson(mean: f64) -> Value {
    json!({ "law": "poisson", "mean": num(mean) })
}

/// The votes a lost in each trial (true minus reported).
fn losses(records: &[Record]) -> Vec<f64> {
    records.iter().map(|r| -r.moved[0]).collect()
}

fn mean_and_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// P(Poisson(lambda) >= d), by the complement of the first d terms.
fn poisson_at_least(lambda: f64, d: u64) -> f64 {
    if lambda == 0.0 {
        return if d == 0 { 1.0 } else { 0.0 };
    }
    let below: f64 = (0..d)
        .map(|k| exp(-lambda + k as f64 * ln(lambda) - ln_gamma(k as f64 + 1.0)))
        .sum();
    (1.0 - below).max(0.0)
}

/// P(the `STATIONS` stations lose at least `d` votes) when each slips with probability `p` and
/// a slip loses Poisson(`theta`) votes: sum over K of Binomial(K; N, p) P(Poisson(K theta) >= d).
fn slips_lose_at_least(p: f64, theta: f64, d: u64) -> f64 {
    let n = STATIONS;
    let binomial = |k: u64| {
        exp(
            ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
                + k as f64 * ln(p)
                + (n - k) as f64 * ln(1.0 - p),
        )
    };
    (0..=n)
        .map(|k| binomial(k) * poisson_at_least(k as f64 * theta, d))
        .sum()
}

/// The closed form: N stations, a slip in each with probability p, Poisson(theta) votes
/// lost in each slip. The total loss is Poisson(K theta) with K ~ Binomial(N, p) stations
/// slipping (Poisson(N p theta) in the limit of small p), so P(loss >= D) = sum over K of
/// Binomial(K; N, p) P(Poisson(K theta) >= D). The simulated share of trials losing at least D
/// agrees within 4 binomial standard errors, at three deficits around the mean loss N p theta =
/// 80; the mean loss within 4 of its standard errors; and the lost votes are exactly the new
/// invalid ballots (ballots are conserved: the turnout is unchanged).
#[test]
fn poisson_slips_lose_votes_as_the_closed_form_says() {
    let (p, theta) = (0.1, 4.0);
    let loaded = common::load(&country(slips_to_invalid(num(p), poisson(theta))));
    let trials = 4_000;
    let records = common::records(&loaded, trials, 11);
    let loss = losses(&records);
    for deficit in [60u64, 80, 100] {
        let want = slips_lose_at_least(p, theta, deficit);
        let got = loss.iter().filter(|&&l| l >= deficit as f64).count() as f64 / trials as f64;
        let se = (want * (1.0 - want) / trials as f64).sqrt();
        assert!(
            (got - want).abs() < 4.0 * se,
            "P(loss >= {deficit}): simulated {got}, closed form {want} (se {se})"
        );
    }
    let (m, se) = mean_and_se(&loss);
    let want = STATIONS as f64 * p * theta;
    assert!((m - want).abs() < 4.0 * se, "mean loss {m}, want {want}");
    // No ballot is truly spoiled here, so the reported invalid ballots are the votes lost.
    let registered = (STATIONS * 500) as f64;
    for (r, l) in records.iter().zip(&loss) {
        assert_eq!(r.moved[1], 0.0, "b gains nothing from slips to invalid");
        assert_eq!(r.reported_turnout, r.true_turnout, "ballots are conserved");
        let invalid = r.reported_invalid * r.reported_turnout * registered;
        assert!((invalid - l).abs() < 1e-6, "{invalid} invalid, {l} lost");
    }
}

/// The published P(the votes moved cover the official deficit) is the closed form above: with
/// a's official count 80 votes short of 7% of the official valid votes, it agrees with
/// P(loss >= 80) within 4 binomial standard errors, equals the share of the same trials' records
/// that lost at least 80 exactly, and is the focus parties' "any" figure. Party b, officially
/// over the threshold, has none.
#[test]
fn the_published_deficit_probability_is_the_closed_form() {
    let (p, theta, deficit) = (0.1, 4.0, 80u64);
    let mut v = country(slips_to_invalid(num(p), poisson(theta)));
    // All but about 10 of the 100,000 registered vote, so the simulated country counts what the
    // official count does (100,000 valid votes, 7% of them 7,000, and a's 6,920 lack 80) within
    // a vote: its deficit, scaled to its own count, is the same 80.
    v["regions"][0]["turnout"] = num(0.9999);
    v["behaviour"]["turnout_concentration"] = num(1e6);
    v["parties"][0]["official_votes"] = num(6_920.0);
    v["parties"][1]["official_votes"] = num(93_080.0);
    let loaded = common::load(&v);
    let trials = 4_000;
    let r = common::results(&loaded, trials, 11, 2);
    // The deficit is a share of the official count: ten times the official votes (a lacks 800
    // of 1,000,000) ask the same of the simulated country's 100,000.
    v["parties"][0]["official_votes"] = num(69_200.0);
    v["parties"][1]["official_votes"] = num(930_800.0);
    let tenfold = common::results(&common::load(&v), trials, 11, 2);
    assert_eq!(tenfold.parties[0].official_deficit, Some(800.0));
    assert_eq!(
        tenfold.parties[0].p_deficit_closed.map(|e| e.estimate),
        r.parties[0].p_deficit_closed.map(|e| e.estimate),
        "the deficit is compared as a share of the count"
    );
    let a = &r.parties[0];
    assert_eq!(a.official_deficit, Some(deficit as f64));
    let got = a
        .p_deficit_closed
        .expect("a is officially under 7%")
        .estimate;
    let records = common::records(&loaded, trials, 11);
    let counted = losses(&records)
        .iter()
        .filter(|&&l| l >= deficit as f64)
        .count() as f64
        / trials as f64;
    assert_eq!(
        got, counted,
        "the published figure counts the trials' records"
    );
    let want = slips_lose_at_least(p, theta, deficit);
    let se = (want * (1.0 - want) / trials as f64).sqrt();
    assert!(
        (got - want).abs() < 4.0 * se,
        "P(deficit closed): published {got}, closed form {want} (se {se})"
    );
    assert_eq!(r.p_any_deficit_closed.map(|e| e.estimate), Some(got));
    assert_eq!(r.parties[1].official_deficit, Some(0.0));
    assert!(r.parties[1].p_deficit_closed.is_none(), "b reached 7%");
}

/// The negative binomial and the mixture keep the law's mean: the mean loss is N p E[k], within
/// 4 standard errors, for NB(mean 6, shape 0.5) and for 90% Poisson(1) + 10% Poisson(30).
#[test]
fn negative_binomial_and_mixture_slips_have_the_laws_mean() {
    let p = 0.05;
    for (label, size, mean) in [
        (
            "negative binomial",
            json!({ "law": "negative_binomial", "mean": num(6.0), "shape": num(0.5) }),
            6.0,
        ),
        (
            "mixture",
            json!({ "law": "mixture", "components": [
                { "weight": num(0.9), "mean": num(1.0) },
                { "weight": num(0.1), "mean": num(30.0) },
            ] }),
            0.9 + 3.0,
        ),
    ] {
        let loaded = common::load(&country(slips_to_invalid(num(p), size)));
        let (m, se) = mean_and_se(&losses(&common::records(&loaded, 3_000, 5)));
        let want = STATIONS as f64 * p * mean;
        assert!(
            (m - want).abs() < 4.0 * se,
            "{label}: mean loss {m}, want {want} (se {se})"
        );
    }
}

/// A station's chance of a slip is its prevalence times the urban multiplier: with 40% urban
/// stations, p = 0.05 and a multiplier of 3, the mean loss is theta (p n_rural + 3 p n_urban)
/// for the layout's own stations, within 4 standard errors (candidates are drawn at the urban
/// rate and rural ones kept with probability 1/3).
#[test]
fn slips_follow_the_urban_multiplier() {
    let mut v = country(json!({ "slips": {
        "prevalence": num(0.05),
        "urban_multiplier": num(3.0),
        "size": poisson(2.0),
        "from": ["a"],
        "to": "neighbour",
    } }));
    v["regions"][0]["urban_fraction"] = json!(0.4);
    let loaded = common::load(&v);
    let layout = Layout::draw(&loaded.model, 9);
    let urban = layout.urban.iter().filter(|&&u| u).count() as f64;
    assert!(urban > 40.0 && urban < 120.0, "{urban} urban stations");
    let records = common::records(&loaded, 4_000, 9);
    let (m, se) = mean_and_se(&losses(&records));
    let want = 2.0 * (0.05 * (STATIONS as f64 - urban) + 0.15 * urban);
    assert!((m - want).abs() < 4.0 * se, "mean loss {m}, want {want}");
    // To its neighbour on the ballot: b gains what a loses, vote for vote.
    for r in &records {
        assert_eq!(r.moved[1], -r.moved[0]);
    }
}

/// No errors, no change: with every prevalence 0 the records are the very records of the same
/// scenario without `count_errors` (no random number is drawn for them), and reported == true.
#[test]
fn zero_prevalence_changes_nothing() {
    let with = common::all_mechanisms();
    let mut zero = with.clone();
    zero["count_errors"] = json!({
        "slips": { "prevalence": num(0.0), "size": poisson(5.0), "to": "other" },
        "zeroed": { "prevalence": num(0.0) },
        "swapped": { "prevalence": num(0.0) },
    });
    let a = common::records(&common::load(&with), 200, 3);
    let b = common::records(&common::load(&zero), 200, 3);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.reported_share, y.reported_share);
        assert_eq!(x.true_share, y.true_share);
    }
    let honest = country(slips_to_invalid(num(0.0), poisson(5.0)));
    for r in common::records(&common::load(&honest), 200, 3) {
        assert_eq!(r.reported_share, r.true_share);
        assert!(r.moved.iter().all(|&m| m == 0.0));
    }
}

/// Station by station: a swap exchanges two adjacent parties' figures (the station's counts are
/// a permutation of the true ones, ballots conserved); a zeroed figure is 0 and nothing else
/// changes; with both in every station, each station shows one of the outcomes they allow.
#[test]
fn swaps_and_zeroed_figures_do_exactly_that_in_each_station() {
    let mut v = common::base();
    v["count_errors"] = json!({ "swapped": { "prevalence": uniform(0.2, 0.8) } });
    let loaded = common::load(&v);
    let layout = Layout::draw(&loaded.model, 2);
    let mut sim = Simulator::new(&loaded.model, &layout);
    let mut swapped = 0;
    for t in 0..50 {
        let mut rng = stream(2, t);
        let d = sim.draw(&mut rng);
        sim.run_observed(&mut rng, &d, |_, truth, reported| {
            assert_eq!(truth[3], reported[3], "invalid ballots are not swapped");
            let mut a = truth.to_vec();
            let mut b = reported.to_vec();
            if a != b {
                swapped += 1;
                let diff: Vec<usize> = (0..4).filter(|&j| a[j] != b[j]).collect();
                assert!(
                    diff.len() == 2 && diff[1] == diff[0] + 1,
                    "adjacent parties exchanged: {truth:?} -> {reported:?}"
                );
            }
            a.sort();
            b.sort();
            assert_eq!(a, b, "a swap is a permutation");
        });
    }
    assert!(swapped > 50, "{swapped} swapped stations of 500");

    let mut v = common::base();
    v["count_errors"] = json!({ "zeroed": { "prevalence": num(1.0), "parties": ["c"] } });
    let loaded = common::load(&v);
    for r in common::records(&loaded, 50, 4) {
        assert_eq!(
            r.reported_share[2], 0.0,
            "c's figure is lost in every station"
        );
        assert!(r.true_share[2] > 0.0);
        assert!(r.reported_turnout < r.true_turnout, "its ballots vanish");
    }
}

/// The same scenario, seed and trial count give the same results on 1 and 3 threads.
#[test]
fn count_errors_are_reproducible_whatever_the_threads() {
    let mut v = common::all_mechanisms();
    v["count_errors"] = json!({
        "slips": { "prevalence": uniform(0.0, 0.3), "urban_multiplier": num(2.0),
                   "size": { "law": "negative_binomial", "mean": uniform(1.0, 20.0), "shape": num(1.0) },
                   "to": "other" },
        "zeroed": { "prevalence": num(0.02) },
        "swapped": { "prevalence": num(0.05), "pairs": [["a", "c"]] },
    });
    let loaded = common::load(&v);
    let one = serde_json::to_string(&common::results(&loaded, 300, 8, 1)).unwrap();
    let three = serde_json::to_string(&common::results(&loaded, 300, 8, 3)).unwrap();
    assert_eq!(one, three);
}

/// Bad `count_errors` get the field and what is allowed; `--sampler pooled` is refused with
/// the reason; nothing is written.
#[test]
fn bad_count_errors_name_the_field() {
    let cases = [
        (
            json!({ "slips": { "prevalence": num(0.1), "size": { "law": "mixture", "components": [
                { "weight": num(0.5), "mean": num(1.0) }, { "weight": num(0.4), "mean": num(9.0) } ] },
                "to": "other" } }),
            "count_errors.slips.size.components[].weight",
        ),
        (
            json!({ "slips": { "prevalence": num(0.1), "size": poisson(2.0), "from": ["zz"], "to": "other" } }),
            "count_errors.slips.from[0]",
        ),
        (
            json!({ "swapped": { "prevalence": num(0.1), "pairs": [["b", "b"]] } }),
            "count_errors.swapped.pairs[0]",
        ),
        (
            json!({ "zeroed": { "prevalence": num(1.5) } }),
            "count_errors.zeroed.prevalence",
        ),
        (
            json!({ "slips": { "prevalence": num(0.1), "size": poisson(-1.0), "to": "other" } }),
            "count_errors.slips.size.mean",
        ),
        (
            json!({ "zeroed": { "prevalence": num(0.1), "parties": ["b", "c", "b"] } }),
            "count_errors.zeroed.parties[2]",
        ),
        (
            json!({ "swapped": { "prevalence": num(0.1), "pairs": [["a", "b"], ["b", "a"]] } }),
            "count_errors.swapped.pairs[1]",
        ),
        (json!({}), "count_errors"),
    ];
    for (block, field) in cases {
        let mut v = common::base();
        v["count_errors"] = block;
        let Err(e) = common::try_load(&v) else {
            panic!("{field}: accepted")
        };
        let e = e.to_string();
        assert!(e.contains(&format!("`{field}")), "{field}: {e}");
    }
    let mut v = common::base();
    v["count_errors"] =
        json!({ "slips": { "prevalence": num(0.1), "size": poisson(2.0), "to": "sideways" } });
    let Err(e) = common::try_load(&v) else {
        panic!("an unknown `to` accepted")
    };
    let e = e.to_string();
    assert!(e.contains("neighbour") && e.contains("invalid"), "{e}");

    let tmp = TempDir::new().unwrap();
    let mut v = common::base();
    v["count_errors"] =
        json!({ "slips": { "prevalence": num(0.1), "size": poisson(2.0), "to": "other" } });
    common::write(tmp.path(), "slips", &v);
    let out = Command::new(env!("CARGO_BIN_EXE_recount"))
        .current_dir(tmp.path())
        .args(["run", "slips.json", "--sampler", "pooled", "--out", "out"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("count_errors") && err.contains("--sampler fast"),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

/// The tipping point for the error rate: sweeping the slips' prevalence with `--tipping
/// --measure deficit-closed` finds where P(the slips cover a's 80-vote deficit) reaches one
/// half, between the prevalences whose mean loss N p theta is under and over 80 (0.05 and
/// 0.15); curve.csv carries the measure. A scenario whose focus parties all reached the
/// threshold has no deficit to close and gets an error naming why (exit 2).
#[test]
fn the_tipping_point_of_the_error_rate_for_the_deficit() {
    let dir = TempDir::new().unwrap();
    let mut v = country(slips_to_invalid(num(0.1), poisson(4.0)));
    v["parties"][0]["official_votes"] = num(6_920.0);
    v["parties"][1]["official_votes"] = num(93_080.0);
    let path = common::write(dir.path(), "deficit", &v);
    let sweep = |path: &std::path::Path| {
        let mut c = Command::cargo_bin("recount").unwrap();
        c.args(["sweep"])
            .arg(path)
            .args(["--param", "slips.prevalence", "--values", "0.05,0.1,0.15"])
            .args([
                "--trials",
                "512",
                "--tipping",
                "--measure",
                "deficit-closed",
                "-q",
            ])
            .arg("--out")
            .arg(dir.path().join("out"));
        c.assert()
    };
    let out = sweep(&path).success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("P(Party A had at least its official shortfall taken) reaches 0.5 at"),
        "{text}"
    );
    let sweep_dir = dir
        .path()
        .join("out/deficit/sweep-count_errors.slips.prevalence.value");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(sweep_dir.join("curve.json")).unwrap())
            .unwrap();
    let half = &json["tipping"][0]["crossings"][1];
    assert_eq!(half["level"], 0.5);
    let at = half["value"].as_f64().unwrap();
    assert!(at > 0.05 && at < 0.15, "tipping point {at}");
    let csv = std::fs::read_to_string(sweep_dir.join("curve.csv")).unwrap();
    // Three points, for the party and for the focus series (also named "a": one focus party).
    assert_eq!(csv.matches(",a,p_deficit_closed,").count(), 6, "{csv}");
    // b reached 7%: it has no deficit rows.
    assert!(!csv.contains(",b,p_deficit_closed,"));
    v["focus"] = json!(["b"]);
    let reached = common::write(dir.path(), "reached", &v);
    sweep(&reached).code(2).stderr(predicates::str::contains(
        "--measure deficit-closed needs a focus party",
    ));
}
