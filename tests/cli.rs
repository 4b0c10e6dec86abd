//! The `recount` binary as a user runs it: every subcommand, its exit codes, what it prints and
//! the files it writes. Each test works in its own temporary directory.

mod common;

use assert_cmd::Command;
use common::{num, set};
use predicates::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The binary, with no scenario directory from the environment, run from `dir`.
fn recount(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recount"));
    cmd.current_dir(dir).env_remove("RECOUNT_SCENARIOS");
    cmd
}

/// The named scenarios shipped in the source tree.
fn shipped_scenarios() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    v.sort();
    v
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("UTF-8 output")
}

#[test]
fn list_shows_every_named_scenario_with_its_question() {
    let tmp = TempDir::new().unwrap();
    // Run from an empty directory: the scenarios are found in the source tree recount was
    // built from.
    let out = stdout_of(recount(tmp.path()).arg("list"));
    let lines: Vec<&str> = out.lines().collect();
    let shipped = shipped_scenarios();
    assert_eq!(lines.len(), shipped.len(), "{out}");
    for ((name, path), line) in shipped.iter().zip(&lines) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(line.starts_with(&format!("{name} ")), "{line}");
        assert!(line.ends_with(v["question"].as_str().unwrap()), "{line}");
        assert!(!line.contains("INVALID"), "{line}");
    }
    // Every question starts in the same column, however long the name.
    let column = |line: &str, q: &str| line.len() - q.len();
    let columns: std::collections::BTreeSet<usize> = shipped
        .iter()
        .zip(&lines)
        .map(|((_, path), line)| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            column(line, v["question"].as_str().unwrap())
        })
        .collect();
    assert_eq!(columns.len(), 1, "{out}");
    assert!(shipped.iter().any(|(n, _)| n == "odihr-43"));
}

#[test]
fn list_reads_recount_scenarios_and_flags_invalid_files() {
    let tmp = TempDir::new().unwrap();
    common::write(tmp.path(), "good", &common::base());
    let mut bad = common::base();
    set(&mut bad, "/irregularities/prevalence", num(1.5));
    common::write(tmp.path(), "bad", &bad);
    std::fs::write(tmp.path().join("notes.txt"), "not a scenario").unwrap();
    let out = stdout_of(
        recount(tmp.path())
            .arg("list")
            .env("RECOUNT_SCENARIOS", tmp.path()),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("bad ") && lines[0].contains("INVALID"),
        "{out}"
    );
    assert!(lines[0].contains("irregularities.prevalence"), "{out}");
    assert!(
        lines[1].starts_with("good ") && lines[1].contains("Does the engine behave"),
        "{out}"
    );
}

#[test]
fn show_lists_every_number_with_its_source() {
    let tmp = TempDir::new().unwrap();
    let out = stdout_of(recount(tmp.path()).args(["show", "odihr-43"]));
    assert!(
        out.starts_with("odihr-43 — Irregular counts at the level ODIHR observed (43%)\n"),
        "{out}"
    );
    assert!(out.contains("hash: "));
    // Sections in words, in the order a reader needs them.
    let at = |text: &str| {
        out.find(text)
            .unwrap_or_else(|| panic!("no {text:?} in {out}"))
    };
    assert!(at("\nCountry\n") < at("\nParties\n"));
    assert!(at("\nParties\n") < at("\nRegions\n"));
    assert!(at("\nRegions\n") < at("\nIrregularities\n"));
    assert!(at("\nIrregularities\n") < at("\nSources\n"));
    // Whole numbers without a decimal point, with thousands separators; priors in words; a
    // party's and a region's numbers under its name.
    assert!(out.contains("country.registered "), "{out}");
    assert!(out.contains(" 8,891,561 "), "{out}");
    assert!(!out.contains("9728.0"), "{out}");
    assert!(out.contains("Uniform(0.04, 0.09)"), "{out}");
    assert!(out.contains("observed: 65 of 150"), "{out}");
    assert!(
        out.contains("  NSDP (National Social-Democratic Party)\n    parties[1]."),
        "{out}"
    );
    assert!(out.contains("  Akmola oblast\n    regions[0]."), "{out}");
    // Every number but the run defaults (seed and trials, not claims about the election) refers
    // to a source, and every source is listed once, in the order first cited.
    let (numbers, sources) = out.split_once("\nSources\n").unwrap();
    let refs: Vec<usize> = numbers
        .lines()
        .filter(|l| l.starts_with("    ") && !l.trim_start().starts_with("run."))
        .map(|l| {
            let r = l.rsplit_once(" [").map(|(_, r)| r.trim_end_matches(']'));
            r.and_then(|r| r.parse().ok())
                .unwrap_or_else(|| panic!("no source: {l}"))
        })
        .collect();
    assert!(refs.len() > 50, "{out}");
    let listed: Vec<&str> = sources.lines().collect();
    assert_eq!(refs.iter().max(), Some(&listed.len()));
    for (k, line) in listed.iter().enumerate() {
        assert!(line.starts_with(&format!("  [{}] ", k + 1)), "{line}");
    }
    let sources_text: Vec<&str> = listed
        .iter()
        .map(|l| l.split_once("] ").unwrap().1)
        .collect();
    let distinct: std::collections::BTreeSet<&&str> = sources_text.iter().collect();
    assert_eq!(distinct.len(), sources_text.len(), "a source listed twice");
    // The prevalence's reference is ODIHR's report.
    let prevalence = numbers
        .lines()
        .find(|l| l.trim_start().starts_with("irregularities.prevalence "))
        .unwrap();
    let k: usize = prevalence
        .rsplit_once(" [")
        .unwrap()
        .1
        .trim_end_matches(']')
        .parse()
        .unwrap();
    assert!(
        sources_text[k - 1].starts_with("seed 004 para 7-10"),
        "{prevalence}"
    );
    // A plain region number inherits the region's source.
    assert!(out.contains("    regions[0].precincts "), "{out}");
    assert!(out.contains("run.seed"));
    assert!(out.contains(" 20070818"), "a seed is a name: {out}");
}

#[test]
fn show_json_round_trips_to_the_same_scenario() {
    let tmp = TempDir::new().unwrap();
    let json = stdout_of(recount(tmp.path()).args(["show", "odihr-43", "--json"]));
    let copy = tmp.path().join("copy.json");
    std::fs::write(&copy, &json).unwrap();
    let original = stdout_of(recount(tmp.path()).args(["validate", "odihr-43"]));
    let again = stdout_of(recount(tmp.path()).arg("validate").arg(&copy));
    let hash = |s: &str| {
        s.trim_end()
            .rsplit(' ')
            .next()
            .unwrap()
            .trim_end_matches(')')
            .to_string()
    };
    assert_eq!(hash(&original), hash(&again), "{original}\n{again}");
    assert_eq!(hash(&original).len(), 16);
}

#[test]
fn validate_accepts_good_files() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let out = stdout_of(
        recount(tmp.path())
            .args(["validate", "official"])
            .arg(&path),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("official.json: valid (7 parties, 16 regions, 9728 precincts, hash "),
        "{out}"
    );
    assert!(lines[1].starts_with(&format!(
        "{}: valid (3 parties, 2 regions, 10 precincts",
        path.display()
    )));
}

/// An edit that breaks the synthetic scenario.
type Edit = Box<dyn Fn(&mut Value)>;

/// Broken scenarios: (what is broken, the edit, text stderr must contain).
fn broken_cases() -> Vec<(&'static str, Edit, Vec<&'static str>)> {
    vec![
        (
            "regional electorates contradicting the national total",
            Box::new(|v| {
                let regions = v["regions"].as_array().unwrap();
                let precincts: f64 = regions
                    .iter()
                    .map(|r| r["precincts"].as_f64().unwrap())
                    .sum();
                let registered: f64 = regions
                    .iter()
                    .map(|r| r["registered"].as_f64().unwrap())
                    .sum();
                set(
                    v,
                    "/country",
                    json!({ "precincts": precincts, "registered": registered + 1000.0, "source": "test" }),
                );
            }),
            vec![
                "field `country.registered`",
                "but the regions' registered sum to",
                "(-1000 off)",
            ],
        ),
        (
            "regional precinct counts contradicting the national total",
            Box::new(|v| {
                set(
                    v,
                    "/country",
                    json!({ "precincts": 11.0, "registered": 0.0, "source": "test" }),
                );
            }),
            vec![
                "field `country.precincts`",
                "11 precincts in the country, but the regions' precincts sum to 10",
            ],
        ),
        (
            "more precincts in all than any machine should simulate",
            Box::new(|v| {
                let region = common::region("Big", 1_000_000, 100_000_000, 0.5, 0, 0.6);
                set(v, "/regions", Value::Array(vec![region; 101]));
            }),
            vec![
                "field `regions`",
                "101000000 precincts in all, allowed at most 100000000",
            ],
        ),
        (
            "official votes for some parties only",
            Box::new(|v| {
                set(v, "/parties/0/official_votes", num(7000.0));
                set(v, "/parties/2/official_votes", num(1000.0));
            }),
            vec![
                "field `parties[1].official_votes`",
                "missing, while 2 of the 3 parties give theirs; give every party's official votes or none",
            ],
        ),
        (
            "exit-poll shares summing above 1",
            Box::new(|v| {
                for id in ["a", "b", "c"] {
                    let j = ["a", "b", "c"].iter().position(|x| *x == id).unwrap();
                    set(v, &format!("/parties/{j}/official_votes"), num(1000.0));
                }
                set(
                    v,
                    "/observations",
                    json!({
                        "observers": {
                            "counts_observed": num(10.0), "negative_share": num(0.4),
                            "p_negative_if_irregular": num(0.8), "p_negative_if_regular": num(0.2),
                        },
                        "exit_poll": {
                            "shares": { "a": num(0.7), "b": num(0.3), "c": num(0.2) },
                            "standard_error": num(0.01), "bias": num(0.0),
                        },
                    }),
                );
                set(v, "/inference", json!({ "tolerance": num(0.1) }));
            }),
            vec![
                "field `observations.exit_poll.shares`",
                "the poll shares sum to 1.2",
            ],
        ),
        (
            "prevalence out of range",
            Box::new(|v| set(v, "/irregularities/prevalence", num(1.5))),
            vec![
                "field `irregularities.prevalence`",
                "value 1.5 is outside the allowed range [0, 1]",
            ],
        ),
        (
            "unknown field (typo)",
            Box::new(|v| {
                let p = v["irregularities"]
                    .as_object_mut()
                    .unwrap()
                    .remove("prevalence")
                    .unwrap();
                set(v, "/irregularities/prevalance", p);
            }),
            vec![
                "field `irregularities.prevalance`",
                "unknown field `prevalance`",
                "expected one of `prevalence`",
            ],
        ),
        (
            "target party that does not exist",
            Box::new(|v| {
                let mut t = common::mechanism(0.5, 0.5);
                t["targets"] = json!(["b", "xyz"]);
                set(v, "/irregularities/transfer", t);
            }),
            vec![
                "field `irregularities.transfer.targets[1]`",
                "no party \"xyz\"; valid options: a, b, c",
            ],
        ),
        (
            "beneficiary as a target",
            Box::new(|v| {
                let mut t = common::mechanism(0.5, 0.5);
                t["targets"] = json!(["a"]);
                set(v, "/irregularities/invalidation", t);
            }),
            vec![
                "field `irregularities.invalidation.targets[0]`",
                "cannot be a target",
            ],
        ),
        (
            "unknown beneficiary",
            Box::new(|v| set(v, "/irregularities/beneficiary", json!("zz"))),
            vec![
                "field `irregularities.beneficiary`",
                "valid options: a, b, c",
            ],
        ),
        (
            "mechanism intensity above 1",
            Box::new(|v| set(v, "/irregularities/stuffing", common::mechanism(0.5, 1.2))),
            vec!["field `irregularities.stuffing.intensity`", "[0, 1]"],
        ),
        (
            "a Beta prior where only [0, 0.5] is allowed",
            Box::new(|v| set(v, "/spoiled", common::beta(1.0, 20.0))),
            vec!["field `spoiled`", "allows only [0, 0.5]"],
        ),
        (
            "uniform bounds reversed",
            Box::new(|v| set(v, "/parties/1/support", common::uniform(0.3, 0.1))),
            vec!["field `parties[1].support`", "0 <= low <= high <= 1"],
        ),
        (
            "two forms in one prior",
            Box::new(|v| {
                set(
                    v,
                    "/parties/1/support",
                    json!({ "value": 0.2, "uniform": [0.1, 0.3], "source": "x" }),
                )
            }),
            vec![
                "field `parties[1].support`",
                "give exactly one of `value`, `uniform`, `beta`, `observed`",
            ],
        ),
        (
            "observed count above its total",
            Box::new(|v| {
                set(
                    v,
                    "/irregularities/prevalence",
                    json!({ "observed": { "negative": 9, "of": 5 }, "source": "x" }),
                )
            }),
            vec!["field `irregularities.prevalence`", "0 <= negative <= of"],
        ),
        (
            "empty source",
            Box::new(|v| set(v, "/threshold", json!({ "value": 0.07, "source": " " }))),
            vec!["field `threshold.source`", "cite a source"],
        ),
        (
            "turnout of exactly 1",
            Box::new(|v| set(v, "/regions/0/turnout", num(1.0))),
            vec![
                "field `regions[0].turnout.value`",
                "strictly between 0 and 1",
            ],
        ),
        (
            "fractional precinct count",
            Box::new(|v| set(v, "/regions/0/precincts", json!(2.5))),
            vec![
                "field `regions[0].precincts`",
                "whole number",
                "[1, 1000000]",
            ],
        ),
        (
            "more e-voting precincts than precincts",
            Box::new(|v| set(v, "/regions/0/evoting_precincts", json!(7))),
            vec!["field `regions[0].evoting_precincts`", "[0, 6]"],
        ),
        (
            "urban fraction above 1",
            Box::new(|v| set(v, "/regions/1/urban_fraction", json!(1.1))),
            vec!["field `regions[1].urban_fraction`", "[0, 1]"],
        ),
        (
            "electorate too small for the minimum precinct size",
            Box::new(|v| set(v, "/regions/1/registered", json!(150))),
            vec!["field `regions[1].registered`", "precinct_sizes.minimum"],
        ),
        (
            "support factor for an unknown party",
            Box::new(|v| set(v, "/regions/1/support_factors", json!({ "zz": num(2.0) }))),
            vec!["field `regions[1].support_factors.zz`", "no party \"zz\""],
        ),
        (
            "no remainder party",
            Box::new(|v| {
                set(
                    v,
                    "/parties/0",
                    json!({ "id": "a", "name": "A", "support": num(0.7) }),
                )
            }),
            vec![
                "field `parties`",
                "exactly one party needs `remainder: true`",
            ],
        ),
        (
            "support and remainder both given",
            Box::new(|v| set(v, "/parties/0/support", num(0.7))),
            vec!["field `parties[0]`", "not both or neither"],
        ),
        (
            "repeated party id",
            Box::new(|v| set(v, "/parties/2/id", json!("b"))),
            vec!["field `parties[2].id`", "unique"],
        ),
        (
            "other parties' shares already over 1",
            Box::new(|v| set(v, "/parties/1/support", common::uniform(0.95, 1.0))),
            vec!["field `parties`", "must be < 1"],
        ),
        (
            "unknown focus party",
            Box::new(|v| set(v, "/focus", json!(["b", "nobody"]))),
            vec!["field `focus[1]`", "no party \"nobody\""],
        ),
        (
            "an observers' share no whole number of counts gives",
            Box::new(|v| {
                for (j, votes) in [600.0, 300.0, 100.0].iter().enumerate() {
                    set(v, &format!("/parties/{j}/official_votes"), num(*votes));
                }
                set(
                    v,
                    "/observations",
                    json!({
                        "observers": {
                            "counts_observed": num(10.0), "negative_share": num(0.43),
                            "p_negative_if_irregular": num(0.8), "p_negative_if_regular": num(0.2),
                        },
                    }),
                );
                set(v, "/inference", json!({ "tolerance": num(0.1) }));
            }),
            vec![
                "field `observations.observers.negative_share.value`",
                "0.43 of 10 observed counts is 4.30 counts",
                "4 of 10 is 40.0%, 5 of 10 is 50.0%",
                "(for 4 of 10: 0.4000)",
            ],
        ),
        (
            "fractional seat count",
            Box::new(|v| set(v, "/seats", num(10.5))),
            vec!["field `seats.value`", "not a whole number"],
        ),
        (
            "share concentration below its range",
            Box::new(|v| set(v, "/behaviour/share_concentration", num(0.0))),
            vec![
                "field `behaviour.share_concentration.value`",
                "[0.1, 1000000]",
            ],
        ),
        (
            "zero trials by default",
            Box::new(|v| set(v, "/run/trials", json!(0))),
            vec!["field `run.trials`", "at least 1"],
        ),
        (
            "unknown allocation method",
            Box::new(|v| set(v, "/allocation", json!("dhont"))),
            vec!["field `allocation`", "unknown variant `dhont`", "`dhondt`"],
        ),
        (
            "too many parties",
            Box::new(|v| {
                let parties = v["parties"].as_array_mut().unwrap();
                for i in 0..13 {
                    parties
                        .push(json!({ "id": format!("p{i}"), "name": "P", "support": num(0.001) }));
                }
            }),
            vec!["field `parties`", "16 parties given, allowed 1 to 15"],
        ),
        (
            "missing field",
            Box::new(|v| common::remove(v, "/threshold")),
            vec!["missing field `threshold`"],
        ),
    ]
}

#[test]
fn validate_rejects_broken_scenarios_naming_file_field_and_range() {
    let tmp = TempDir::new().unwrap();
    for (i, (what, edit, expected)) in broken_cases().into_iter().enumerate() {
        let mut v = common::base();
        edit(&mut v);
        let path = common::write(tmp.path(), &format!("broken-{i}"), &v);
        let assert = recount(tmp.path())
            .arg("validate")
            .arg(&path)
            .assert()
            .code(2)
            .stdout("");
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.starts_with(&format!("error: {}: ", path.display())),
            "{what}: {stderr}"
        );
        for text in expected {
            assert!(
                stderr.contains(text),
                "{what}: stderr lacks {text:?}:\n{stderr}"
            );
        }
    }
}

#[test]
fn validate_reports_json_syntax_errors_with_line_and_column() {
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join("syntax.json");
    std::fs::write(&path, "{\n  \"title\": \"x\",\n  \"question\": \n}\n").unwrap();
    recount(tmp.path())
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: 4:1: field `question`",
            path.display()
        )));
}

#[test]
fn validate_checks_every_file_and_refuses_unknown_names() {
    let tmp = TempDir::new().unwrap();
    let good = common::write(tmp.path(), "good", &common::base());
    let mut v = common::base();
    set(&mut v, "/threshold", num(2.0));
    let bad = common::write(tmp.path(), "bad", &v);
    recount(tmp.path())
        .arg("validate")
        .arg(&bad)
        .arg(&good)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("good.json: valid"))
        .stderr(predicate::str::is_match(
            r"bad\.json: \d+:\d+: field `threshold\.value`: 2 is outside the allowed range \[0, 1\]",
        ).unwrap())
        .stderr(predicate::str::contains("1 of 2 scenario files are invalid"));
    recount(tmp.path())
        .args(["validate", "no-such-scenario"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no scenario file or named scenario \"no-such-scenario\"",
        ))
        .stderr(predicate::str::contains("odihr-43"));
    // clap's own usage errors exit with 2 too.
    recount(tmp.path()).arg("validate").assert().code(2);
}

/// Three mistakes in three sections of one file: all three named, each with the line:column of
/// its field.
#[test]
fn validate_names_every_mistake_of_a_file_with_its_line_and_column() {
    let tmp = TempDir::new().unwrap();
    let mut v = common::base();
    set(&mut v, "/threshold", num(7.0));
    set(&mut v, "/regions/0/turnout", num(1.4));
    v["irregularities"]["beneficiary"] = Value::from("nobody");
    let path = common::write(tmp.path(), "three", &v);
    let assert = recount(tmp.path())
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("3 problems:"), "{stderr}");
    let text = std::fs::read_to_string(&path).unwrap();
    // Each problem, and the text its line:column must point at in the file: the bad value
    // itself (written by serde_json as `"value": 7.0`, `"value": 1.4`, `"nobody"`).
    for (field, problem, at_text) in [
        (
            "threshold.value",
            "7 is outside the allowed range [0, 1]; shares and probabilities are fractions: 0.07?",
            "7.0",
        ),
        (
            "regions[0].turnout.value",
            "1.4 is outside the allowed range [0, 1]; shares and probabilities are fractions: 0.014?",
            "1.4",
        ),
        (
            "irregularities.beneficiary",
            "no party \"nobody\"",
            "\"nobody\"",
        ),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("field `{field}`: {problem}")))
            .unwrap_or_else(|| panic!("{field} not named:\n{stderr}"));
        let at: Vec<usize> = line
            .trim()
            .split(':')
            .take(2)
            .map(|x| x.parse().unwrap())
            .collect();
        let shown = &text.lines().nth(at[0] - 1).unwrap()[at[1] - 1..];
        assert!(
            shown.starts_with(at_text),
            "{line} points at {shown:?}, not {at_text:?}"
        );
    }
}

/// An out-of-range region number is reported once: the checks that compare regions with the
/// country's totals and the precinct sizes, which its stand-in value would fail, are skipped, so
/// the other sections' problems are still all named.
#[test]
fn a_bad_region_number_does_not_bring_its_consequences_along() {
    let tmp = TempDir::new().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/odihr-43.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(shipped).unwrap()).unwrap();
    assert!(v.get("country").is_some(), "odihr-43 states country totals");
    v["regions"][0]["precincts"] = Value::from(-3);
    set(&mut v, "/threshold", num(7.0));
    v["run"]["trials"] = Value::from(0);
    let path = common::write(tmp.path(), "consequences", &v);
    let assert = recount(tmp.path())
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("3 problems:"), "{stderr}");
    for field in ["regions[0].precincts", "threshold.value", "run.trials"] {
        assert!(
            stderr.contains(&format!("field `{field}`")),
            "{field}: {stderr}"
        );
    }
}

/// The named scenarios are built into the binary: an installed recount needs no source tree.
#[test]
fn named_scenarios_work_from_an_empty_directory() {
    let tmp = TempDir::new().unwrap();
    let list = stdout_of(recount(tmp.path()).arg("list"));
    assert!(list.contains("inverse-odihr"), "{list}");
    let out = stdout_of(
        recount(tmp.path())
            .args([
                "run",
                "inverse-odihr",
                "--sampler",
                "pooled",
                "--trials",
                "64",
                "--json",
                "--out",
            ])
            .arg(tmp.path().join("out")),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sampler"], "pooled", "{out}");
    assert_eq!(v["scenario"]["name"], "inverse-odihr", "{out}");
}

#[test]
fn schema_is_a_json_schema_of_the_format() {
    let tmp = TempDir::new().unwrap();
    let out = stdout_of(recount(tmp.path()).arg("schema"));
    let schema: Value = serde_json::from_str(&out).expect("schema is JSON");
    assert!(
        schema["$schema"]
            .as_str()
            .unwrap()
            .contains("json-schema.org")
    );
    assert_eq!(schema["title"], "Scenario");
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown fields are errors"
    );
    let props = schema["properties"].as_object().unwrap();
    for key in common::base().as_object().unwrap().keys() {
        assert!(props.contains_key(key), "schema lacks {key}");
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(required.contains(&"regions") && !required.contains(&"allocation"));
    assert!(!required.contains(&"irregularities") && props.contains_key("count_errors"));
    let prior = &schema["$defs"]["Prior"]["properties"];
    for form in ["value", "uniform", "beta", "observed", "source"] {
        assert!(prior.get(form).is_some(), "Prior lacks {form}");
    }
    for def in [
        "Irregularities",
        "Mechanism",
        "Region",
        "Prior",
        "Number",
        "Slips",
    ] {
        assert_eq!(schema["$defs"][def]["additionalProperties"], false, "{def}");
    }
}

/// Runs `recount run <scenario> ...` and returns stdout.
fn run(dir: &Path, scenario: &Path, args: &[&str], out: &Path) -> String {
    stdout_of(
        recount(dir)
            .arg("run")
            .arg(scenario)
            .args(args)
            .arg("--out")
            .arg(out),
    )
}

#[test]
fn run_prints_a_table_and_writes_json_and_csv() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let out_dir = tmp.path().join("results");
    let table = run(
        tmp.path(),
        &path,
        &["--trials", "150", "--seed", "3", "--quiet"],
        &out_dir,
    );
    assert!(
        table.starts_with("tiny (Synthetic test scenario)\n"),
        "{table}"
    );
    assert!(
        table.contains("150 trials x 10 precincts, seed 3"),
        "{table}"
    );
    assert!(
        table.contains("P(true >= 7.00%)") && table.contains("P(flipped)"),
        "{table}"
    );
    for id in ["a ", "b ", "c "] {
        assert!(
            table.lines().any(|l| l.starts_with(id)),
            "no row for {id}: {table}"
        );
    }
    assert!(
        table.contains("P(Party B or Party C truly >= 7.00%)"),
        "{table}"
    );
    let json_path = out_dir.join("tiny/run-3-150.json");
    let csv_path = out_dir.join("tiny/run-3-150.csv");
    assert!(table.contains(&format!(
        "Results written to {}/run-3-150.json and .csv",
        out_dir.join("tiny").display()
    )));

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["trials"], 150);
    assert_eq!(report["seed"], 3);
    assert_eq!(report["precincts"], 10);
    assert_eq!(report["scenario"]["name"], "tiny");
    assert!(report["timing"]["elapsed_seconds"].as_f64().unwrap() >= 0.0);
    let parties = report["parties"].as_array().unwrap();
    let ids: Vec<&str> = parties.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    for p in parties {
        let e = &p["p_true_cross"];
        let (est, lo, hi) = (
            e["estimate"].as_f64().unwrap(),
            e["ci95"][0].as_f64().unwrap(),
            e["ci95"][1].as_f64().unwrap(),
        );
        assert!(0.0 <= lo && lo <= est && est <= hi && hi <= 1.0, "{e}");
    }
    // "a" has about 70% of the vote: it always crosses, and "b" (about 20%) too.
    assert_eq!(parties[0]["p_true_cross"]["estimate"], 1.0);
    assert_eq!(report["p_any_true_cross"]["estimate"], 1.0);
    assert!(report["p_any_true_cross"]["ci95"].as_array().unwrap().len() == 2);

    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    // A row per party, then the focus parties together: any of them (the headline), all of them.
    assert_eq!(rows.len(), 6, "{csv}");
    let header: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(&header[..3], &["party_id", "party_name", "official_share"]);
    let col = header.iter().position(|h| *h == "p_true_cross").unwrap();
    for (row, p) in rows[1..].iter().zip(parties) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len());
        assert_eq!(cells[0], p["id"].as_str().unwrap());
        // serde_json (without its float_roundtrip feature) may parse the last digit 1 ulp off.
        let v: f64 = cells[col].parse().unwrap();
        assert!((v - p["p_true_cross"]["estimate"].as_f64().unwrap()).abs() < 1e-15);
        // Every row says which run it comes from.
        let at = |h: &str| cells[header.iter().position(|x| *x == h).unwrap()];
        assert_eq!(at("scenario"), "tiny");
        assert_eq!(
            at("scenario_hash"),
            report["scenario"]["hash"].as_str().unwrap()
        );
        assert_eq!(
            (at("seed"), at("trials"), at("sampler")),
            ("3", "150", "exact")
        );
    }
    for (row, id, key) in [
        (rows[4], "b_or_c", "p_any_true_cross"),
        (rows[5], "b_and_c", "p_all_true_cross"),
    ] {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{row}");
        assert_eq!(cells[0], id);
        let v: f64 = cells[col].parse().unwrap();
        assert!(
            (v - report[key]["estimate"].as_f64().unwrap()).abs() < 1e-15,
            "{row}"
        );
        assert_eq!(
            cells[header.iter().position(|h| *h == "true_share_mean").unwrap()],
            ""
        );
        assert_eq!(
            cells[header.len() - 6],
            "tiny",
            "provenance on the headline rows too"
        );
    }
}

#[test]
fn run_json_on_stdout_is_the_file_without_timing() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let out_dir = tmp.path().join("out");
    let stdout = run(
        tmp.path(),
        &path,
        &["-n", "70", "-s", "5", "-j", "2", "--json", "-q"],
        &out_dir,
    );
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    assert!(printed.get("timing").is_none());
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("tiny/run-5-70.json")).unwrap())
            .unwrap();
    assert!(file.as_object_mut().unwrap().remove("timing").is_some());
    assert_eq!(printed, file);
}

#[test]
fn run_is_reproducible_whatever_the_thread_count() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let go = |seed: &str, threads: &str| {
        let out = tmp.path().join(format!("out-{seed}-{threads}"));
        let args = [
            "--trials",
            "200",
            "--seed",
            seed,
            "--threads",
            threads,
            "--json",
            "--quiet",
        ];
        let stdout = run(tmp.path(), &path, &args, &out);
        let csv = std::fs::read(out.join(format!("tiny/run-{seed}-200.csv"))).unwrap();
        (stdout, csv)
    };
    let one = go("7", "1");
    let two = go("7", "2");
    let three = go("7", "3");
    assert_eq!(one.0, two.0, "stdout differs between 1 and 2 threads");
    assert_eq!(one.0, three.0, "stdout differs between 1 and 3 threads");
    assert_eq!(one.1, two.1, "CSV differs between 1 and 2 threads");
    let other = go("8", "2");
    assert_ne!(one.0, other.0, "another seed gives the same output");
    assert_ne!(one.1, other.1);
}

#[test]
fn run_finds_named_scenarios_and_writes_under_their_name() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    let stdout = stdout_of(
        recount(tmp.path())
            .args([
                "run", "official", "--trials", "64", "--seed", "2", "-q", "--out",
            ])
            .arg(&out),
    );
    assert!(
        stdout.starts_with("official (The official result at face value)"),
        "{stdout}"
    );
    assert!(stdout.contains("64 trials x 9728 precincts"));
    assert!(out.join("official/run-2-64.json").is_file());
    assert!(out.join("official/run-2-64.csv").is_file());
}

#[test]
fn run_rejects_bad_arguments_with_exit_code_2() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::base());
    let out = tmp.path().join("out");
    for (args, message) in [
        (vec!["--trials", "0"], "--trials must be at least 1"),
        (vec!["--threads", "0"], "--threads must be at least 1"),
        (
            vec!["--threads", "100000"],
            "--threads 100000 is more than this machine can use",
        ),
        (vec!["--trials", "-5"], "unexpected argument '-5'"),
        (vec!["--bogus"], "--bogus"),
    ] {
        recount(tmp.path())
            .arg("run")
            .arg(&path)
            .args(&args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    recount(tmp.path())
        .args(["run", "nowhere", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no scenario file or named scenario \"nowhere\"",
        ));
    assert!(!out.exists(), "nothing is written for a rejected run");
}

#[test]
fn help_and_version() {
    let tmp = TempDir::new().unwrap();
    let help = stdout_of(recount(tmp.path()).arg("--help"));
    for cmd in ["run", "list", "show", "validate", "schema"] {
        assert!(help.contains(cmd), "{help}");
    }
    let version = stdout_of(recount(tmp.path()).arg("--version"));
    assert_eq!(version.trim(), format!("recount {}", recount::VERSION));
}

/// docs/scenario-format.md stays true to the format: its complete example validates and runs,
/// and it explains every field the JSON Schema knows.
#[test]
fn scenario_format_doc_matches_the_format() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario-format.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    let after = &doc[doc
        .find("## A complete example")
        .expect("the doc has a complete example")..];
    let start = after.find("```json\n").unwrap() + "```json\n".len();
    let example = &after[start..start + after[start..].find("```").unwrap()];
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join("example.json");
    std::fs::write(&path, example).unwrap();
    let out = stdout_of(recount(tmp.path()).arg("validate").arg(&path));
    assert!(
        out.contains("valid (3 parties, 2 regions, 100 precincts"),
        "{out}"
    );
    let table = run(
        tmp.path(),
        &path,
        &["--trials", "64", "-q"],
        &tmp.path().join("out"),
    );
    assert!(
        table.contains("64 trials x 100 precincts, seed 1"),
        "{table}"
    );

    let schema: Value =
        serde_json::from_str(&stdout_of(recount(tmp.path()).arg("schema"))).unwrap();
    let mut fields: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    for def in schema["$defs"].as_object().unwrap().values() {
        if let Some(props) = def["properties"].as_object() {
            fields.extend(props.keys().map(|k| k.as_str()));
        }
        // Enumerations (allocation, kernel, selection) list their values.
        for variant in def["oneOf"].as_array().into_iter().flatten() {
            if let Some(c) = variant["const"].as_str().or(variant["enum"][0].as_str()) {
                assert!(
                    doc.contains(&format!("\"{c}\"")),
                    "docs/scenario-format.md does not mention \"{c}\""
                );
            }
        }
    }
    for f in fields {
        assert!(
            doc.contains(&format!("`{f}`")),
            "docs/scenario-format.md does not explain `{f}`"
        );
    }
}

#[test]
fn run_never_silently_overwrites_a_different_result() {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("results");
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let args = ["--trials", "64", "--seed", "3", "--quiet"];
    run(tmp.path(), &path, &args, &out_dir);
    // The same scenario again replaces its own, identical result.
    run(tmp.path(), &path, &args, &out_dir);
    let files = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".recount.lock")
            .collect();
        v.sort();
        v
    };
    let dir = out_dir.join("tiny");
    assert_eq!(files(&dir), ["run-3-64.csv", "run-3-64.json"]);
    let first = std::fs::read_to_string(dir.join("run-3-64.json")).unwrap();
    // A changed scenario under the same name gets a new file; the first stays untouched.
    let mut v = common::all_mechanisms();
    set(&mut v, "/threshold", num(0.05));
    common::write(tmp.path(), "tiny", &v);
    let table = run(tmp.path(), &path, &args, &out_dir);
    assert!(table.contains("run-3-64.2.json"), "{table}");
    assert_eq!(files(&dir).len(), 4);
    assert_eq!(
        std::fs::read_to_string(dir.join("run-3-64.json")).unwrap(),
        first
    );
    // --force overwrites.
    run(
        tmp.path(),
        &path,
        &["--trials", "64", "--seed", "3", "--quiet", "--force"],
        &out_dir,
    );
    assert_ne!(
        std::fs::read_to_string(dir.join("run-3-64.json")).unwrap(),
        first
    );
}

/// Runs `recount run` and returns (exit code, stdout).
fn run_code(dir: &Path, scenario: &Path, args: &[&str], out: &Path) -> (i32, String) {
    let o = recount(dir)
        .arg("run")
        .arg(scenario)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
    )
}

#[test]
fn interrupted_runs_resume_to_the_uninterrupted_result() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let base = ["--trials", "1000", "--seed", "4", "--quiet", "--json"];
    let (code, whole) = run_code(tmp.path(), &path, &base, &tmp.path().join("a"));
    assert_eq!(code, 0);
    // Stopped early (as by Ctrl-C): exit 130, a partial result marked as such.
    let out = tmp.path().join("b");
    let mut stopped = base.to_vec();
    stopped.extend(["--threads", "2", "--stop-after", "300"]);
    let (code, partial) = run_code(tmp.path(), &path, &stopped, &out);
    assert_eq!(code, 130);
    let p: Value = serde_json::from_str(&partial).unwrap();
    let done = p["partial"]["trials_done"].as_u64().unwrap();
    assert!(
        (300..1000).contains(&done) && done.is_multiple_of(64),
        "{done}"
    );
    assert_ne!(partial, whole);
    let file = out.join("tiny/run-4-1000.partial.json");
    assert!(file.exists());
    // Resumed on another thread count: byte-identical to the uninterrupted run.
    let resume = [
        "--resume",
        file.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
        "--json",
    ];
    let (code, resumed) = run_code(tmp.path(), &path, &resume, &out);
    assert_eq!(code, 0);
    assert_eq!(resumed, whole);
    assert!(!file.exists(), "the partial result is superseded");
    // A partial result of another scenario content is refused.
    let (code, _) = run_code(tmp.path(), &path, &stopped, &out);
    assert_eq!(code, 130);
    let mut v = common::all_mechanisms();
    set(&mut v, "/threshold", num(0.05));
    common::write(tmp.path(), "tiny", &v);
    recount(tmp.path())
        .arg("run")
        .arg(&path)
        .args(["--resume", file.to_str().unwrap(), "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot resume"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_a_partial_result() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let out = tmp.path().join("out");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_recount"))
        .current_dir(tmp.path())
        .args([
            "run",
            path.to_str().unwrap(),
            "--trials",
            "100000000",
            "--quiet",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let file = out.join("tiny/run-1-100000000.partial.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(v["partial"]["trials_done"].as_u64().unwrap() > 0);
    assert!(v["state"]["acc"].is_object());
}

/// A scenario file holds one JSON document, each key once, in UTF-8, of a bounded size: anything
/// else is refused with exit 2, line:column and what to do, before any of it is used. A UTF-8
/// byte-order mark is accepted and changes nothing.
#[test]
fn validate_is_strict_about_what_a_file_holds() {
    let tmp = TempDir::new().unwrap();
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/official.json"),
    )
    .unwrap();
    let refused = |name: &str, bytes: &[u8], expect: &[&str]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = recount(tmp.path())
            .arg("validate")
            .arg(&path)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(out).unwrap();
        for e in expect {
            assert!(err.contains(e), "{name}: no {e:?} in {err}");
        }
    };
    let lines = good.lines().count();
    let trailing = format!("{good}\n{{\"title\": \"another\"}}\n");
    refused(
        "trailing.json",
        trailing.as_bytes(),
        &[&format!("{}:", lines + 2), "content after the end"],
    );
    let conflict = format!("{good}<<<<<<< HEAD\n");
    refused(
        "conflict.json",
        conflict.as_bytes(),
        &["content after the end"],
    );
    // A key repeated in a map, where serde_json would silently keep the last.
    let at = good
        .find("\"support_factors\": {")
        .expect("official has support factors");
    let (a, b) = good.split_at(at + "\"support_factors\": {".len());
    let repeated = format!("{a}\"nsdp\": {{\"value\": 1, \"source\": \"x\"}}, {b}");
    refused(
        "repeated.json",
        repeated.as_bytes(),
        &["appears twice", "support_factors.nsdp"],
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(good.encode_utf16().flat_map(|u| u.to_le_bytes()));
    refused("utf16.json", &utf16, &["1:1", "UTF-16", "iconv"]);
    // A Latin-1 "é" in the title.
    let mut bytes = good.clone().into_bytes();
    let t = good.find("\"title\": \"").unwrap() + "\"title\": \"".len();
    bytes.insert(t, 0xE9);
    let line = good[..t].matches('\n').count() + 1;
    refused(
        "latin1.json",
        &bytes,
        &[&format!("{line}:"), "is not UTF-8"],
    );
    let big = tmp.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    recount(tmp.path())
        .arg("validate")
        .arg(&big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at most 64 MiB"));
    // A file named "...json" would write its results into the parent of --out.
    refused(
        "...json",
        good.as_bytes(),
        &["the scenario's name", "starts with '.'"],
    );
    // A byte-order mark is dropped: the same scenario, the same hash.
    let plain = tmp.path().join("plain.json");
    std::fs::write(&plain, &good).unwrap();
    let bom = tmp.path().join("bom.json");
    std::fs::write(&bom, format!("\u{FEFF}{good}")).unwrap();
    let hash = |p: &Path| {
        let out = stdout_of(recount(tmp.path()).arg("validate").arg(p));
        out.split("hash ").nth(1).unwrap().trim().to_string()
    };
    assert_eq!(hash(&plain), hash(&bom));
    // -0.0 and 0.0 are one number: the same hash.
    let mut v: Value = serde_json::from_str(&good).unwrap();
    v["spoiled"]["value"] = json!(0.0);
    let zero = common::write(tmp.path(), "zero", &v);
    v["spoiled"]["value"] = json!(-0.0);
    let negative = common::write(tmp.path(), "negative", &v);
    assert!(std::fs::read_to_string(&negative).unwrap().contains("-0.0"));
    assert_eq!(hash(&zero), hash(&negative));
    // A number of 300 digits is named in scientific notation.
    v["spoiled"]["value"] = json!(1e300);
    let huge = common::write(tmp.path(), "huge", &v);
    let out = recount(tmp.path())
        .arg("validate")
        .arg(&huge)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("1e300 is outside the allowed range"), "{err}");
    assert!(!err.contains("0000000000"), "{err}");
}

/// An inverse run that no trial reproduces has no answer: exit 1, a message that says what to
/// change, and no result file (it would be a table of NaN).
#[test]
fn an_inverse_run_without_an_effective_trial_is_an_error_not_nan() {
    let tmp = TempDir::new().unwrap();
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/inverse-honest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    v["inference"]["kernel"] = json!("uniform");
    set(&mut v, "/inference/tolerance", num(0.0001));
    let path = common::write(tmp.path(), "hopeless", &v);
    let out = tmp.path().join("out");
    let o = recount(tmp.path())
        .arg("run")
        .arg(&path)
        .args(["--trials", "64", "--sampler", "pooled", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no answer")
            && err.contains("inference.tolerance")
            && err.contains("--trials"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(out.join("hopeless"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter().all(|n| n == ".recount.lock"),
        "a result was written: {left:?}"
    );
}

/// An inverse run draws its answer: a posterior figure (well-formed SVG, one panel per focus
/// party) and its curves as CSV beside the run's JSON, shown by the report; a forward run has
/// none.
#[test]
fn inverse_runs_write_a_posterior_figure_the_report_shows() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    let mut printed = Vec::new();
    for name in ["inverse-honest", "odihr-43"] {
        printed.push(stdout_of(
            recount(tmp.path())
                .args([
                    "run",
                    name,
                    "--trials",
                    "128",
                    "--sampler",
                    "pooled",
                    "--quiet",
                    "--out",
                ])
                .arg(&out),
        ));
    }
    let dir = out.join("inverse-honest");
    let stem = "run-20070818-128-pooled";
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.posterior.svg"))).unwrap();
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert!(svg.contains("NSDP: P(truly ≥ 7%)") && svg.contains("Ak Zhol: P(truly ≥ 7%)"));
    // The same figure as a PNG beside it, twice the SVG's size.
    let png = std::fs::read(dir.join(format!("{stem}.posterior.png"))).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let width: u32 = doc
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        2 * width
    );
    let csv = std::fs::read_to_string(dir.join(format!("{stem}.posterior.csv"))).unwrap();
    let header = format!(
        "party_id,share_low,share_high,posterior_density,prior_density,{}\n",
        common::STAMP.join(",")
    );
    assert!(csv.starts_with(&header), "{csv}");
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.starts_with("nsdp,") || l.starts_with("ak_zhol,"))
    );
    assert!(std::fs::read_dir(out.join("odihr-43")).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .contains("posterior")
    }));
    stdout_of(
        recount(tmp.path())
            .args(["report", "inverse-honest", "--out"])
            .arg(&out),
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("The answer: each party&#39;s true share"));
    // The page opens with the answer in words: what it was given, the headline as a percentage
    // with its interval (the run's own figures), and the run that made it.
    let run: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("run-20070818-128-pooled.json")).unwrap(),
    )
    .unwrap();
    let pct = |x: &Value| {
        let x = (1000.0 * x.as_f64().unwrap()).round() / 10.0;
        format!("{x}").trim_end_matches(".0").to_string()
    };
    let e = &run["p_any_true_cross"];
    let headline = format!(
        "the chance that NSDP or Ak Zhol truly reached 7% is <strong>{}% ({}-{}%)</strong>, from 128 simulated elections (pooled sampler, seed 20070818",
        pct(&e["estimate"]),
        pct(&e["ci95"][0]),
        pct(&e["ci95"][1])
    );
    let at = html.find("<p id=\"answer\"").expect("an answer paragraph");
    assert!(
        html[at..].contains(&headline),
        "{headline} not in {}",
        &html[at..at + 600]
    );
    assert!(html[at..].starts_with(
        "<p id=\"answer\" class=\"answer\"><strong>The answer.</strong> Given the official result"
    ));
    assert!(
        at < html.find("<h2 id=\"run\">").unwrap(),
        "the answer comes first"
    );
    // The sentence is written once: the JSON carries it and the terminal printed it.
    let sentence = run["answer"]["sentence"]
        .as_str()
        .expect("the answer in the JSON");
    assert!(sentence.contains(&headline.replace("<strong>", "").replace("</strong>", "")));
    assert!(
        printed[0].contains(&format!("The answer: {sentence}\n")),
        "{}",
        printed[0]
    );
    // How far the evidence moved the odds, from the prior pass: in the JSON, in words on the
    // terminal and on the page, wherever the headline is neither 0 nor 1.
    let p = e["estimate"].as_f64().unwrap();
    let odds = &run["inverse"]["odds"];
    assert_eq!(odds.is_object(), p > 0.0 && p < 1.0, "{odds} for {p}");
    assert_eq!(run["answer"]["odds"].is_string(), odds.is_object());
    if let Some(words) = run["answer"]["odds"].as_str() {
        assert!(words.contains("Bayes factor"), "{words}");
        assert!(printed[0].contains(words), "{}", printed[0]);
        assert!(html.contains(&format!("<p id=\"odds\">{}", words.replace('\'', "&#39;"))));
        let prior = odds["prior"]["estimate"].as_f64().unwrap();
        let ratio = (p / (1.0 - p)) / (prior / (1.0 - prior));
        assert!((odds["bayes_factor"].as_f64().unwrap() - ratio).abs() < 1e-9 * ratio);
    }
    // A forward scenario's answer says it rests on the scenario's assumptions.
    stdout_of(
        recount(tmp.path())
            .args(["report", "odihr-43", "--out"])
            .arg(&out),
    );
    let forward = std::fs::read_to_string(out.join("odihr-43/report.html")).unwrap();
    assert!(forward.contains("<strong>The answer.</strong> If this scenario&#39;s assumptions hold, NSDP or Ak Zhol truly reached 7% in <strong>"), "{forward}");
}

/// `recount report` with no run yet makes one as `recount run` does: for an inverse scenario
/// that includes the posterior figure (SVG and PNG), its curves and the unknowns' table, and the
/// page shows the figure (a fresh run used to write only the JSON and CSV).
#[test]
fn a_report_that_runs_the_scenario_draws_its_posterior() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    let said = stdout_of(
        recount(tmp.path())
            .args([
                "report",
                "inverse-honest",
                "--trials",
                "64",
                "--sampler",
                "pooled",
            ])
            .args(["--quiet", "--out"])
            .arg(&out),
    );
    assert!(said.contains("No run in"), "{said}");
    let dir = out.join("inverse-honest");
    for ext in [
        "json",
        "csv",
        "unknowns.csv",
        "posterior.svg",
        "posterior.png",
        "posterior.csv",
    ] {
        let f = dir.join(format!("run-20070818-64-pooled.{ext}"));
        assert!(f.is_file(), "{} missing", f.display());
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("The answer: each party&#39;s true share"),
        "no posterior figure"
    );
}

/// The command a stopped run prints to continue it works as printed: it repeats the sampler and
/// the output folder (it used to drop both, and then refused to resume).
#[test]
fn the_printed_resume_command_works_as_printed() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    // A whole run and a shard, each stopped early.
    for (shard, done) in [
        (None, "elsewhere/tiny/run-1-1000-fast.json"),
        (
            Some("2/2"),
            "elsewhere/tiny/run-1-1000-fast.shard-2-of-2.json",
        ),
    ] {
        let mut args = vec!["--trials", "1000", "--sampler", "fast", "--threads", "1"];
        args.extend(["--out", "elsewhere", "--quiet"]);
        match shard {
            // --stop-after counts trials from the run's first, as tests/shard.rs uses it.
            Some(s) => args.extend(["--shard", s, "--stop-after", "600"]),
            None => args.extend(["--stop-after", "300"]),
        }
        let o = recount(tmp.path())
            .arg("run")
            .arg(&path)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(130));
        let err = String::from_utf8(o.stderr).unwrap();
        let command = err
            .lines()
            .skip_while(|l| !l.ends_with("continue with:"))
            .nth(1)
            .unwrap_or_else(|| panic!("no resume command in {err}"))
            .trim()
            .to_string();
        assert!(
            command.contains("--sampler fast") && command.contains("--out elsewhere"),
            "{command}"
        );
        let words: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(words[..2], ["recount", "run"]);
        recount(tmp.path())
            .args(&words[1..])
            .arg("--quiet")
            .assert()
            .success();
        assert!(tmp.path().join(done).exists(), "{shard:?}: no {done}");
    }
}

/// Names from files reach terminals and spreadsheets: a control character (an escape sequence)
/// is refused with its field, and a name a spreadsheet would run as a formula is written to the
/// run CSV with a leading apostrophe.
#[test]
fn names_cannot_drive_a_terminal_or_a_spreadsheet() {
    let tmp = TempDir::new().unwrap();
    let mut v = common::base();
    v["parties"][1]["name"] = json!("B\u{1b}[2J");
    let path = common::write(tmp.path(), "escape", &v);
    recount(tmp.path())
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "field `parties[1].name`: contains the control character '\\u{1b}'",
        ));
    let mut v = common::base();
    v["parties"][1]["name"] = json!("=HYPERLINK(\"http://x\")");
    let path = common::write(tmp.path(), "formula", &v);
    stdout_of(
        recount(tmp.path())
            .arg("run")
            .arg(&path)
            .args(["--trials", "64", "--quiet", "--out"])
            .arg(tmp.path().join("out")),
    );
    let csv = std::fs::read_to_string(tmp.path().join("out/formula/run-1-64.csv")).unwrap();
    let row = csv.lines().nth(2).unwrap();
    assert!(row.starts_with("b,\"'=HYPERLINK("), "{row}");
    // A region name in the precinct table, and every other stamped table, likewise; numbers,
    // negative ones included, stay numbers.
    let mut v = common::all_mechanisms();
    v["regions"][0]["name"] = json!("@SUM(A1:A9)");
    let path = common::write(tmp.path(), "region", &v);
    stdout_of(
        recount(tmp.path())
            .arg("precincts")
            .arg(&path)
            .args(["--out"])
            .arg(tmp.path().join("out")),
    );
    let csv = std::fs::read_to_string(tmp.path().join("out/region/precincts-1-0.csv")).unwrap();
    assert!(csv.contains(",'@SUM(A1:A9),"), "{}", &csv[..300]);
    assert!(!csv.contains(",@SUM"));
    // Party ids name files and columns: a path or a formula is refused, naming the field.
    for id in ["../up", "=1+1", "a b", ".hidden", ""] {
        let mut v = common::base();
        v["parties"][2]["id"] = json!(id);
        v["focus"] = json!(["b"]);
        let path = common::write(tmp.path(), "ids", &v);
        recount(tmp.path())
            .arg("validate")
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("parties[2].id"));
    }
}

/// Shell completions and manual pages come from the clap definitions, so they know every
/// command and flag (a flag added later is in them without more work).
#[test]
fn completions_and_man_pages_know_every_command() {
    let tmp = TempDir::new().unwrap();
    let stdout = |args: &[&str]| {
        let out = recount(tmp.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let bash = stdout(&["completions", "bash"]);
    assert!(
        bash.contains("_recount()") && bash.contains("--levels"),
        "{bash}"
    );
    assert!(stdout(&["completions", "zsh"]).starts_with("#compdef recount"));
    assert!(stdout(&["completions", "fish"]).contains("complete -c recount"));
    let man = stdout(&["man"]);
    assert!(man.contains(".TH recount 1"), "{man}");
    for command in ["run", "sweep", "report", "import"] {
        assert!(
            man.contains(&format!("recount\\-{command}(1)")),
            "{command} in {man}"
        );
    }
    let sweep = stdout(&["man", "sweep"]);
    assert!(sweep.contains(".TH recount-sweep 1"), "{sweep}");
    assert!(sweep.contains("\\-\\-levels"), "{sweep}");
    recount(tmp.path())
        .args(["man", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "recount has no command \"nope\"; its commands: run, merge",
        ));
}
