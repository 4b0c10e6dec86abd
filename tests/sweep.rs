//! `recount sweep`, `precincts` and `report` driven as a user would, on a tiny synthetic country
//! (tests/data/tiny.json: odihr-43's parties and irregularities, 3 regions x 40 precincts) so
//! the tests stay fast in debug builds.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn tiny() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tiny.json")
        .display()
        .to_string()
}

/// `recount sweep tiny ...` writing into `out`, one thread.
fn sweep(out: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = cargo_bin_cmd!("recount");
    cmd.arg("sweep").arg(tiny()).args(args);
    cmd.args(["--threads", "1", "--quiet", "--out"]).arg(out);
    cmd.assert()
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn dir(out: &Path, name: &str) -> PathBuf {
    out.join("tiny").join(name)
}

/// (value, estimate) of one series and measure from curve.csv.
fn series(csv_text: &str, party: &str, measure: &str) -> Vec<(f64, f64)> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| &rec[1] == party && &rec[2] == measure)
        .map(|rec| (rec[0].parse().unwrap(), rec[3].parse().unwrap()))
        .collect()
}

#[test]
fn prevalence_up_means_flipped_up() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &[
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--steps",
            "4",
            "--trials",
            "192",
        ],
    )
    .success();
    let csv_text = read(dir(out.path(), "sweep-irregularities.prevalence").join("curve.csv"));
    let flipped = series(&csv_text, "nsdp_or_ak_zhol", "p_flipped");
    assert_eq!(
        flipped.iter().map(|p| p.0).collect::<Vec<_>>(),
        [0.0, 0.25, 0.5, 0.75, 1.0]
    );
    assert_eq!(flipped[0].1, 0.0, "no irregular counts, nothing flipped");
    for w in flipped.windows(2) {
        assert!(
            w[1].1 >= w[0].1,
            "P(flipped) fell from {:?} to {:?}: {flipped:?}",
            w[0],
            w[1]
        );
    }
    assert!(flipped[4].1 > 0.2, "{flipped:?}");
    // Reported crossings can only fall as more counts favour Nur Otan.
    let reported = series(&csv_text, "nsdp_or_ak_zhol", "p_reported_cross");
    for w in reported.windows(2) {
        assert!(w[1].1 <= w[0].1, "{reported:?}");
    }
}

#[test]
fn csv_reads_back_and_matches_json() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &[
            "--param",
            "threshold",
            "--values",
            "0.06,0.05",
            "--trials",
            "64",
        ],
    )
    .success();
    let d = dir(out.path(), "sweep-threshold.value");
    let json: Value = serde_json::from_str(&read(d.join("curve.json"))).unwrap();
    assert_eq!(json["param"]["path"], "threshold.value");
    assert_eq!(json["param"]["values"], serde_json::json!([0.05, 0.06]));
    assert_eq!(json["trials"], 64);
    assert!(
        json["common_random_numbers"]
            .as_str()
            .unwrap()
            .contains("same seed")
    );
    let mut r = csv::Reader::from_path(d.join("curve.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "value", "party", "measure", "estimate", "ci_low", "ci_high", "mcse", "ess", "param",
        ]
        .into_iter()
        .chain(common::STAMP)
        .collect::<Vec<_>>()
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    // 2 points x (7 parties + the focus parties together) x 3 measures, and P(deficit closed)
    // for the 6 parties officially under the threshold and the focus parties together.
    assert_eq!(rows.len(), 2 * (8 * 3 + 7));
    for row in &rows {
        let x: f64 = row[0].parse().unwrap();
        let (est, lo, hi): (f64, f64, f64) = (
            row[3].parse().unwrap(),
            row[4].parse().unwrap(),
            row[5].parse().unwrap(),
        );
        assert!(lo <= est && est <= hi, "{row:?}");
        assert_eq!(
            row[7].parse::<f64>().unwrap(),
            64.0,
            "forward mode: ESS = trials"
        );
        let point = json["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["value"] == x)
            .unwrap();
        let party = &row[1];
        let field = &row[2];
        let from_json = if party == "nsdp_or_ak_zhol" {
            point["results"][field.replacen("p_", "p_any_", 1)]["estimate"].clone()
        } else {
            let p = point["results"]["parties"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == party)
                .unwrap();
            p[field]["estimate"].clone()
        };
        assert_eq!(from_json.as_f64().unwrap(), est, "{row:?}");
    }
}

#[test]
fn svg_is_well_formed_with_every_series() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &[
            "--param",
            "transfer.intensity",
            "--values",
            "0.1,0.3",
            "--trials",
            "64",
        ],
    )
    .success();
    let svg = read(dir(out.path(), "sweep-irregularities.transfer.intensity").join("curve.svg"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    let title = texts
        .iter()
        .find(|t| t.starts_with("tiny: sweep of"))
        .expect("a title");
    assert!(title.contains("64 trials per point"), "{title}");
    for label in [
        "NSDP",
        "Ak Zhol",
        "NSDP or Ak Zhol",
        "P = 0.5",
        "transfer intensity (share of the votes it acts on) (irregularities.transfer.intensity)",
        "probability",
    ] {
        // Three panels, each with its legend and axis labels.
        assert_eq!(
            texts.iter().filter(|t| *t == label).count(),
            3,
            "{label}: {texts:?}"
        );
    }
    for caption in [
        "P(truly >= 7%)",
        "P(reported >= 7%)",
        "P(truly >= 7% and reported under)",
    ] {
        assert!(texts.iter().any(|t| t == caption), "{caption}");
    }
    // A line per series and panel, plus the 0.5 lines and legend marks.
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert!(lines >= 3 * 4, "{lines} polylines");
}

#[test]
fn one_point_sweep_equals_run() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &[
            "--param",
            "prevalence",
            "--values",
            "0.3",
            "--trials",
            "100",
            "--seed",
            "5",
        ],
    )
    .success();
    let curve: Value = serde_json::from_str(&read(
        dir(out.path(), "sweep-irregularities.prevalence").join("curve.json"),
    ))
    .unwrap();
    // The same scenario with the prevalence fixed at 0.3, run directly.
    let mut s: Value = serde_json::from_str(&read(tiny())).unwrap();
    s["irregularities"]["prevalence"] = serde_json::json!({"value": 0.3, "source": "test"});
    let file = out.path().join("tiny.json");
    std::fs::write(&file, serde_json::to_string(&s).unwrap()).unwrap();
    let run = cargo_bin_cmd!("recount")
        .arg("run")
        .arg(&file)
        .args([
            "--trials",
            "100",
            "--seed",
            "5",
            "--threads",
            "1",
            "--quiet",
            "--json",
            "--out",
        ])
        .arg(out.path().join("runs"))
        .assert()
        .success();
    let run: Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let point = &curve["points"][0]["results"];
    for key in [
        "parties",
        "p_any_true_cross",
        "p_any_reported_cross",
        "p_any_flipped",
        "p_all_true_cross",
        "reported_turnout",
    ] {
        assert_eq!(point[key], run[key], "{key}");
    }
}

#[test]
fn second_parameter_gives_a_heat_map() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &[
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--steps",
            "2",
            "--param2",
            "transfer.intensity",
            "--values2",
            "0.05,0.5",
            "--trials",
            "32",
        ],
    )
    .success();
    let d = dir(
        out.path(),
        "sweep-irregularities.prevalence-irregularities.transfer.intensity",
    );
    let mut r = csv::Reader::from_path(d.join("curve.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..3], ["value", "value2", "party"]);
    assert_eq!(&header[9..11], ["param", "param2"]);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3 * 2 * (8 * 3 + 7));
    for row in &rows {
        assert_eq!(&row[9], "irregularities.prevalence");
        assert_eq!(&row[10], "irregularities.transfer.intensity");
        assert_eq!(row.len(), header.len());
    }
    let svg = read(d.join("curve.svg"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(doc.descendants().filter(|n| n.has_tag_name("rect")).count() >= 3 * 6);
    assert!(svg.contains("irregularities.transfer.intensity"));
    let png = std::fs::read(d.join("curve.png")).expect("a PNG beside the SVG");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn tipping_point_in_a_sentence() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &[
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--steps",
            "4",
            "--trials",
            "64",
            "--tipping",
            "--measure",
            "reported",
        ],
    )
    .success()
    .stdout(predicate::str::contains(
        "P(NSDP or Ak Zhol reported >= 7%)",
    ))
    .stdout(
        predicate::str::contains("reaches 0.05")
            .or(predicate::str::contains("does not reach 0.05")),
    );
    let json: Value = serde_json::from_str(&read(
        dir(out.path(), "sweep-irregularities.prevalence").join("curve.json"),
    ))
    .unwrap();
    assert_eq!(json["tipping"][0]["crossings"].as_array().unwrap().len(), 3);
}

/// `--levels` chooses the levels; a level not reached is explained: a flat curve (the true
/// shares of a forward scenario do not depend on the irregularities) names the measures that
/// move, a moving curve that misses gets its range. The figure marks the tipping points, the
/// scenario's value and the swept number in words.
#[test]
fn levels_are_chosen_and_a_level_not_reached_says_why() {
    let out = tempfile::tempdir().unwrap();
    let args = |measure: &'static str, levels: &'static str| {
        [
            "--param",
            "prevalence",
            "--values",
            "0,0.4,0.8",
            "--trials",
            "400",
            "--measure",
            measure,
            "--levels",
            levels,
        ]
    };
    sweep(out.path(), &args("true", "0.3"))
        .success()
        .stdout(predicate::str::contains(
            "does not reach 0.3 for irregularities.prevalence in [0, 0.8]: the curve is flat",
        ))
        .stdout(predicate::str::contains(
            "--measure reported, flipped or deficit-closed",
        ));
    let svg_path = dir(out.path(), "sweep-irregularities.prevalence").join("curve.svg");
    assert!(
        !read(&svg_path).contains("tipping point"),
        "nothing to mark"
    );

    sweep(out.path(), &args("reported", "0.3,0.999"))
        .success()
        .stdout(predicate::str::contains(
            "P(NSDP or Ak Zhol reported >= 7%) reaches 0.3 at",
        ))
        .stdout(predicate::str::contains("does not reach 0.999 for"))
        .stdout(predicate::str::contains("widen the range (--from, --to)"));
    let json: Value = serde_json::from_str(&read(
        dir(out.path(), "sweep-irregularities.prevalence").join("curve.json"),
    ))
    .unwrap();
    let crossings = &json["tipping"][0]["crossings"];
    assert_eq!(crossings.as_array().unwrap().len(), 2);
    let at = crossings[0]["value"].as_f64().expect("0.3 is reached");
    let svg = read(&svg_path);
    roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(svg.contains("tipping point (--tipping)"), "{svg}");
    // The marker's label: the level and where it is reached, in percent to 4 digits.
    let label = svg
        .split("0.3 at ")
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .expect("the 0.3 tipping point is marked");
    let marked: f64 = label.trim().parse().unwrap();
    assert!(
        (marked - 100.0 * at).abs() < 0.01,
        "marked at {marked}%, reached at {at}"
    );
    assert!(svg.contains("share of counts that were irregular (irregularities.prevalence)"));
    assert!(svg.contains("in the scenario: "));

    sweep(out.path(), &args("reported", "0.5,1"))
        .code(2)
        .stderr(predicate::str::contains(
            "--levels: 1 is not a probability strictly between 0 and 1",
        ));
}

#[test]
fn bad_ranges_name_the_flag() {
    let out = tempfile::tempdir().unwrap();
    let fails = |args: &[&str], text: &str| {
        sweep(out.path(), args)
            .code(2)
            .stderr(predicate::str::contains(text.to_string()));
    };
    fails(
        &[
            "--param",
            "prevalence",
            "--from",
            "0.5",
            "--to",
            "0.1",
            "--steps",
            "3",
        ],
        "empty range: --from 0.5 is not below --to 0.1",
    );
    fails(
        &[
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--step",
            "0",
        ],
        "--step must be a positive number",
    );
    fails(
        &[
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--steps",
            "0",
        ],
        "--steps must be at least 1",
    );
    fails(
        &[
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--steps",
            "5000",
        ],
        "too many points",
    );
    fails(
        &["--param", "prevalence", "--from", "0", "--to", "1"],
        "a range needs --steps",
    );
    fails(
        &[
            "--param",
            "prevalence",
            "--values",
            "0.1,0.2",
            "--param2",
            "threshold",
            "--from2",
            "0",
            "--to2",
            "0.1",
            "--steps2",
            "999",
        ],
        "too many points: 2 x 1000",
    );
    fails(
        &["--param", "nonsense.path", "--values", "1"],
        "Sweepable paths",
    );
    fails(
        &["--param", "run.trials", "--values", "1"],
        "use --trials or --seed",
    );
    // A value the scenario does not allow: the error names the field and its range.
    fails(
        &["--param", "threshold", "--values", "0.05,1.5"],
        "threshold.value`: 1.5 is outside the allowed range [0, 1]",
    );
    assert!(
        !out.path().join("tiny").exists(),
        "nothing written after an error"
    );
}

#[test]
fn unknown_path_lists_sweepable_paths() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &["--param", "transfer.intnsity", "--values", "1"],
    )
    .code(2)
    .stderr(predicate::str::contains(
        "irregularities.transfer.intensity (a prior: sweeping fixes it)",
    ))
    .stderr(predicate::str::contains("regions[i].turnout.value"))
    .stderr(predicate::str::contains(
        "prevalence   = irregularities.prevalence",
    ));
}

#[test]
fn precincts_table_and_fingerprint() {
    let out = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("recount")
        .arg("precincts")
        .arg(tiny())
        .args(["--trial", "65", "--seed", "4", "--bins", "20", "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "trial 65 of seed 4: 120 precincts",
        ));
    let mut r = csv::Reader::from_path(dir(out.path(), "precincts-4-65.csv")).unwrap();
    let header = r.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (reg, tn, rn) = (
        col("registered"),
        col("true_turnout"),
        col("reported_turnout"),
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 120);
    for row in &rows {
        assert!(row[reg].parse::<u64>().unwrap() > 0);
        let (t, rep): (f64, f64) = (row[tn].parse().unwrap(), row[rn].parse().unwrap());
        assert!(
            (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&rep),
            "{row:?}"
        );
    }
    let svg = read(dir(out.path(), "precincts-4-65.svg"));
    roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(svg.contains("True count") && svg.contains("Reported count"));
}

#[test]
fn fast_sampler_is_plumbed_recorded_and_kept_apart() {
    let out = tempfile::tempdir().unwrap();
    let args = [
        "--param",
        "prevalence",
        "--values",
        "0.3",
        "--trials",
        "64",
        "--seed",
        "5",
    ];
    sweep(out.path(), &args).success();
    sweep(out.path(), &[&args[..], &["--sampler", "fast"]].concat()).success();
    let curve = |name: &str| -> Value {
        serde_json::from_str(&read(dir(out.path(), name).join("curve.json"))).unwrap()
    };
    let exact = curve("sweep-irregularities.prevalence");
    let fast = curve("sweep-irregularities.prevalence-fast");
    assert_eq!(exact["sampler"], "exact");
    assert_eq!(fast["sampler"], "fast");
    // Same trials and seed: the election-level draws agree and only precinct counts differ, so
    // the true-support probabilities agree up to the trials within precinct noise of the
    // threshold, while the reported turnouts differ. With 120 precincts that noise is about 0.3
    // points of national share: over seeds 1-16 of `recount run tiny --trials 64`, exact and fast
    // differed by up to 8 trials (SAMPLER_VERSION 4) and 5 (version 5); tests/fast_sampler.rs
    // checks the distributions themselves.
    let (e, f) = (
        &exact["points"][0]["results"],
        &fast["points"][0]["results"],
    );
    let p = |r: &Value| r["p_any_true_cross"]["estimate"].as_f64().unwrap();
    assert!((p(e) - p(f)).abs() <= 10.0 / 64.0, "{} vs {}", p(e), p(f));
    assert_ne!(e["reported_turnout"], f["reported_turnout"]);

    // The inverse question takes the fast samplers too (tests/fast_sampler.rs compares its
    // posteriors with exact's), and records them.
    cargo_bin_cmd!("recount")
        .args([
            "sweep",
            "inverse-honest",
            "--param",
            "threshold",
            "--values",
            "0.07",
        ])
        .args(["--trials", "8", "--sampler", "fast", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let inverse_fast: Value = serde_json::from_str(&read(
        out.path()
            .join("inverse-honest")
            .join("sweep-threshold.value-fast")
            .join("curve.json"),
    ))
    .unwrap();
    assert_eq!(inverse_fast["sampler"], "fast");
    // Its figure has one panel, P(truly): the reported count is the official one, so P(reported)
    // would be a constant and P(flipped) a copy of P(truly).
    let svg = read(
        out.path()
            .join("inverse-honest/sweep-threshold.value-fast/curve.svg"),
    );
    assert_eq!(
        svg.matches("P(truly &gt;= 7%)").count() + svg.matches("P(truly >= 7%)").count(),
        1,
        "{svg}"
    );
    assert!(
        !svg.contains("reported &gt;=") && !svg.contains("reported >="),
        "{svg}"
    );
}

/// `recount report` on an empty folder makes its run with the samplers asked for, names the file
/// as `recount run` would, and does not replace a different run already there.
#[test]
fn report_runs_with_the_sampler_asked_and_names_the_run_as_run_does() {
    let tmp = tempfile::TempDir::new().unwrap();
    let out = tmp.path().join("out");
    let mut cmd = cargo_bin_cmd!("recount");
    cmd.args(["report"]).arg(tiny());
    cmd.args([
        "--sampler",
        "pooled",
        "--trials",
        "64",
        "--threads",
        "1",
        "--quiet",
        "--out",
    ])
    .arg(&out);
    cmd.assert().success();
    let run = dir(&out, "run-11-64-pooled.json");
    let v: Value = serde_json::from_str(&read(&run)).unwrap();
    assert_eq!(v["sampler"], "pooled");
    assert_eq!(v["trials"], 64);
    assert!(dir(&out, "report.html").is_file());
}

/// `recount report` takes only complete runs: an interrupted run's `.partial.json` and one
/// shard's file (here not even JSON, so reading either would fail) are passed over, and with no
/// complete run the report makes one.
#[test]
fn report_passes_over_partial_runs_and_shards() {
    let tmp = tempfile::TempDir::new().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("tiny")).unwrap();
    for name in ["run-11-64.partial.json", "run-11-64.shard-1-of-2.json"] {
        std::fs::write(dir(&out, name), "not a run").unwrap();
    }
    let mut cmd = cargo_bin_cmd!("recount");
    cmd.args(["report"]).arg(tiny());
    cmd.args(["--trials", "64", "--threads", "1", "--quiet", "--out"])
        .arg(&out);
    let said = String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap();
    assert!(said.contains("No run in"), "{said}");
    assert!(dir(&out, "run-11-64.json").is_file());
    assert!(dir(&out, "report.html").is_file());
}
