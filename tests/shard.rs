//! One run spread over several machines: `recount run --shard i/n` and `recount merge`. The
//! merged result must be the single-machine result to the byte, and merge must refuse files that
//! do not make up one run.

mod common;

use assert_cmd::Command;
use common::{num, set};
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn recount(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recount"));
    cmd.current_dir(dir).env_remove("RECOUNT_SCENARIOS");
    cmd
}

/// `recount run <scenario> <args> --quiet --json --out <dir>/out`: (exit code, stdout).
fn run(dir: &Path, scenario: &Path, args: &[&str]) -> (i32, String) {
    let o = recount(dir)
        .arg("run")
        .arg(scenario)
        .args(args)
        .args(["--quiet", "--json", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
    )
}

/// `recount merge <files> --json --out <dir>/merged`, expecting success: stdout.
fn merge(dir: &Path, files: &[PathBuf]) -> String {
    let out = recount(dir)
        .arg("merge")
        .args(files)
        .args(["--json", "--out"])
        .arg(dir.join("merged"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// Runs every shard i/n of `trials` trials with seed 4, each expected to succeed.
fn run_shards(dir: &Path, scenario: &Path, n: u32, trials: &str) {
    for i in 1..=n {
        let shard = format!("{i}/{n}");
        let args = ["--trials", trials, "--seed", "4", "--shard", &shard];
        assert_eq!(run(dir, scenario, &args).0, 0, "shard {shard}");
    }
}

fn shard_file(dir: &Path, i: u32, n: u32) -> PathBuf {
    dir.join(format!("out/tiny/run-4-1000.shard-{i}-of-{n}.json"))
}

/// A saved file's JSON with its checksum made again, as a forger who knew the rule would.
fn restamp(mut v: Value) -> String {
    use sha2::{Digest, Sha256};
    v.as_object_mut().unwrap().remove("checksum");
    let digest = Sha256::digest(serde_json::to_string(&v).unwrap().as_bytes());
    v["checksum"] = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into();
    serde_json::to_string(&v).unwrap()
}

fn without_timing(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("timing");
    v
}

#[test]
fn merged_shards_give_the_single_machine_result_to_the_byte() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let base = ["--trials", "1000", "--seed", "4"];
    let (code, whole) = run(tmp.path(), &path, &base);
    assert_eq!(code, 0);
    // Three shards on different thread counts; 1000 trials are 16 batches: 5, 5 and 6 of them.
    let mut firsts = Vec::new();
    for (i, threads) in [(1, "1"), (2, "2"), (3, "1")] {
        let shard = format!("{i}/3");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard, "--threads", threads]);
        let (code, text) = run(tmp.path(), &path, &args);
        assert_eq!(code, 0, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["partial"]["shard"]["index"], i);
        firsts.push(v["partial"]["first_trial"].as_u64().unwrap());
        assert!(shard_file(tmp.path(), i, 3).exists());
    }
    assert_eq!(firsts, [0, 320, 640]);
    // In any order.
    let files = [3, 1, 2].map(|i| shard_file(tmp.path(), i, 3));
    assert_eq!(merge(tmp.path(), &files), whole);
    // The merged file is where the run's would be, equal but for the timing block.
    assert_eq!(
        without_timing(&tmp.path().join("merged/tiny/run-4-1000.json")),
        without_timing(&tmp.path().join("out/tiny/run-4-1000.json"))
    );
    assert!(tmp.path().join("merged/tiny/run-4-1000.csv").exists());
    // Another split of the same run merges to the same bytes.
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard]);
        assert_eq!(run(tmp.path(), &path, &args).0, 0);
    }
    let files = [1, 2].map(|i| shard_file(tmp.path(), i, 2));
    assert_eq!(merge(tmp.path(), &files), whole);
}

#[test]
fn an_interrupted_shard_resumes_and_merges() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let base = ["--trials", "1000", "--seed", "4"];
    let (_, whole) = run(tmp.path(), &path, &base);
    let mut args = base.to_vec();
    args.extend(["--shard", "2/2", "--stop-after", "600", "--threads", "1"]);
    let (code, _) = run(tmp.path(), &path, &args);
    assert_eq!(code, 130);
    let partial = tmp
        .path()
        .join("out/tiny/run-4-1000.shard-2-of-2.partial.json");
    assert!(partial.exists());
    let mut args = base.to_vec();
    args.extend(["--shard", "1/2"]);
    assert_eq!(run(tmp.path(), &path, &args).0, 0);
    // Merging now names the unfinished shard.
    recount(tmp.path())
        .arg("merge")
        .arg(shard_file(tmp.path(), 1, 2))
        .arg(&partial)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("stopped early").and(predicate::str::contains("--resume")),
        );
    let resume = ["--resume", partial.to_str().unwrap()];
    assert_eq!(run(tmp.path(), &path, &resume).0, 0);
    let files = [1, 2].map(|i| shard_file(tmp.path(), i, 2));
    assert_eq!(merge(tmp.path(), &files), whole);
}

#[test]
fn merge_refuses_files_that_are_not_one_run() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    run_shards(tmp.path(), &path, 3, "1000");
    let refuse = |files: &[PathBuf], why: &str| {
        recount(tmp.path())
            .arg("merge")
            .args(files)
            .args(["--out"])
            .arg(tmp.path().join("merged"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why));
    };
    let f = |i| shard_file(tmp.path(), i, 3);
    refuse(&[f(1), f(3)], "shard 2/3 missing");
    refuse(&[f(1), f(2), f(2), f(3)], "both hold trials");
    // Another seed, another trial count, another scenario content.
    let other = ["--trials", "1000", "--seed", "5", "--shard", "2/3"];
    assert_eq!(run(tmp.path(), &path, &other).0, 0);
    let seed5 = tmp.path().join("out/tiny/run-5-1000.shard-2-of-3.json");
    refuse(&[f(1), seed5, f(3)], "seed");
    let other = ["--trials", "2000", "--seed", "4", "--shard", "2/3"];
    assert_eq!(run(tmp.path(), &path, &other).0, 0);
    let t2000 = tmp.path().join("out/tiny/run-4-2000.shard-2-of-3.json");
    refuse(&[f(1), t2000, f(3)], "trial count");
    let mut v = common::all_mechanisms();
    set(&mut v, "/threshold", num(0.05));
    let path2 = common::write(tmp.path(), "tiny2", &v);
    let other = ["--trials", "1000", "--seed", "4", "--shard", "2/3"];
    assert_eq!(run(tmp.path(), &path2, &other).0, 0);
    let content = tmp.path().join("out/tiny2/run-4-1000.shard-2-of-3.json");
    refuse(&[f(1), content, f(3)], "scenario content");
    // Nothing was written by the refused merges.
    assert!(!tmp.path().join("merged").exists());
    // More shards than batches, and malformed shards, are refused before running.
    let (code, _) = run(tmp.path(), &path, &["--trials", "100", "--shard", "3/3"]);
    assert_eq!(code, 2);
    for bad in ["0/3", "4/3", "x", "1/0"] {
        let (code, _) = run(tmp.path(), &path, &["--trials", "100", "--shard", bad]);
        assert_eq!(code, 2, "--shard {bad}");
    }
}

/// A shard or partial file edited after recount wrote it (a state sum changed or zeroed, `done`
/// stretched over a missing shard, `first` moved before a resume, the checksum removed) is
/// refused with exit 2 naming the file; even with its checksum made again, a file whose trials
/// are not its shard's is refused.
#[test]
fn edited_shards_and_partial_results_are_refused() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    run_shards(tmp.path(), &path, 3, "1000");
    let f = |i| shard_file(tmp.path(), i, 3);
    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let refuse = |files: &[PathBuf], why: &str| {
        recount(tmp.path())
            .arg("merge")
            .args(files)
            .args(["--out"])
            .arg(tmp.path().join("merged"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(files[1].display().to_string()))
            .stderr(predicate::str::contains(why));
    };
    let edited = tmp.path().join("edited.json");
    let edit = |change: &dyn Fn(&mut Value), stamp: bool| {
        let mut v = read(&f(2));
        change(&mut v);
        let text = if stamp {
            restamp(v)
        } else {
            serde_json::to_string(&v).unwrap()
        };
        std::fs::write(&edited, text).unwrap();
        edited.clone()
    };
    // The first non-zero number of the state's sums, changed, then zeroed.
    fn first_number(v: &mut Value) -> Option<&mut Value> {
        match v {
            Value::Number(n) if n.as_f64() != Some(0.0) => Some(v),
            Value::Array(a) => a.iter_mut().find_map(first_number),
            Value::Object(o) => o.values_mut().find_map(first_number),
            _ => None,
        }
    }
    for new in [Value::from(12345), Value::from(0)] {
        let e = edit(
            &|v| *first_number(&mut v["state"]["acc"]).unwrap() = new.clone(),
            false,
        );
        refuse(&[f(1), e, f(3)], "checksum does not match");
    }
    // `done` stretched over shard 3, so that two files look like the whole run.
    let e = edit(&|v| v["state"]["done"] = Value::from(1000), false);
    refuse(&[f(1), e.clone()], "checksum does not match");
    let e = edit(&|v| v["state"]["done"] = Value::from(1000), true);
    refuse(&[f(1), e], "not the start of shard 2/3's trials");
    // No checksum at all.
    let e = edit(
        &|v| {
            v.as_object_mut().unwrap().remove("checksum");
        },
        false,
    );
    refuse(&[f(1), e, f(3)], "no checksum");
    // `first` moved before a resume of a stopped run.
    let stop = ["--trials", "1000", "--seed", "6", "--stop-after", "300"];
    assert_eq!(run(tmp.path(), &path, &stop).0, 130);
    let partial = tmp.path().join("out/tiny/run-6-1000.partial.json");
    for stamp in [false, true] {
        let mut v = read(&partial);
        v["state"]["first"] = Value::from(64);
        let text = if stamp {
            restamp(v)
        } else {
            serde_json::to_string(&v).unwrap()
        };
        std::fs::write(&edited, text).unwrap();
        recount(tmp.path())
            .arg("run")
            .arg(&path)
            .args(["--quiet", "--out"])
            .arg(tmp.path().join("out"))
            .arg("--resume")
            .arg(&edited)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(edited.display().to_string()))
            .stderr(predicate::str::contains(if stamp {
                "not the start of the trials"
            } else {
                "checksum does not match"
            }));
    }
    // The files as written still merge.
    merge(tmp.path(), &[f(1), f(2), f(3)]);
}

/// The output folder of `merge` comes from the scenario's name inside the shard files: a name
/// that would climb out of `--out` or point elsewhere is refused with exit 2, and nothing is
/// written anywhere.
#[test]
fn merge_refuses_a_scenario_name_that_is_a_path() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    run_shards(tmp.path(), &path, 2, "200");
    let outside = tmp.path().join("outside");
    for name in ["../../escaped", outside.to_str().unwrap(), "..", "a/b"] {
        let mut files = Vec::new();
        for i in 1..=2 {
            let f = tmp
                .path()
                .join(format!("out/tiny/run-4-200.shard-{i}-of-2.json"));
            let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            v["scenario"]["name"] = Value::from(name);
            let edited = tmp.path().join(format!("edited-{i}.json"));
            std::fs::write(&edited, restamp(v)).unwrap();
            files.push(edited);
        }
        recount(tmp.path())
            .arg("merge")
            .args(&files)
            .args(["--out"])
            .arg(tmp.path().join("merged/deep"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("the scenario's name"));
        assert!(
            !tmp.path().join("merged").exists(),
            "{name}: wrote into merged/"
        );
        assert!(
            !tmp.path().join("escaped").exists() && !outside.exists(),
            "{name}"
        );
    }
}

/// `merge` and `--resume` read only regular files: /dev/zero (endless) and a FIFO (which would
/// block forever) are refused at once with exit 2.
#[cfg(unix)]
#[test]
fn merge_and_resume_refuse_what_is_not_a_regular_file() {
    let tmp = TempDir::new().unwrap();
    let fifo = tmp.path().join("shard.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for target in [Path::new("/dev/zero"), fifo.as_path()] {
        recount(tmp.path())
            .arg("merge")
            .arg(target)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a regular file"));
        recount(tmp.path())
            .args(["run", "official", "--trials", "64", "--resume"])
            .arg(target)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a regular file"));
    }
}
