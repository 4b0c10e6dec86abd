//! The output protocol (`export::write`) as users meet it: runs side by side into one folder,
//! a folder that cannot be written, a write that fails at the end, interrupted runs' partial
//! results, sweeps made twice, and writers killed mid-way. Each test works in its own temporary
//! directory.

mod common;

use common::{num, set};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

/// `recount` with these arguments, run from `dir` (not yet started).
fn recount(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recount"));
    cmd.current_dir(dir)
        .env_remove("RECOUNT_SCENARIOS")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `recount run <scenario> --trials 1000 --seed 4 --quiet --out <out>` and `extra`, from `dir`.
fn run_1000(dir: &Path, scenario: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--trials",
        "1000",
        "--seed",
        "4",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    recount(dir, &args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The file names in `dir`, sorted, without the folder's lock.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".recount.lock")
        .collect();
    v.sort();
    v
}

/// The JSON path a run printed ("Results written to <path> and .csv").
fn written(out: &Output) -> PathBuf {
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Results written to "))
        .unwrap_or_else(|| panic!("no result line in: {stdout}\n{}", text(&out.stderr)));
    PathBuf::from(line.split(" and .csv").next().unwrap())
}

/// A temporary folder with `tiny.json` (every mechanism on) and the path of its `out/`.
fn tiny() -> (TempDir, PathBuf, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    let out = tmp.path().join("out");
    (tmp, path, out)
}

/// A country of a million precincts, every mechanism on, written as `<dir>/big.json`.
fn million(dir: &Path) -> PathBuf {
    let mut v = common::all_mechanisms();
    v["regions"] = serde_json::json!([
        common::region("North", 600_000, 420_000_000, 0.5, 2, 0.6),
        common::region("South", 400_000, 280_000_000, 0.0, 0, 0.7),
    ]);
    common::write(dir, "big", &v)
}

/// The path a message gives after `lead` (up to the next space).
fn saved_to(message: &str, lead: &str) -> PathBuf {
    let at = message
        .find(lead)
        .unwrap_or_else(|| panic!("no {lead:?} in {message}"));
    PathBuf::from(
        message[at + lead.len()..]
            .split_whitespace()
            .next()
            .unwrap(),
    )
}

/// Two scenarios of one name (`tiny`, thresholds 7% and 5%) in their own folders `a/`, `b/`.
fn two_of_one_name(tmp: &Path) -> [PathBuf; 2] {
    let a = tmp.join("a");
    let b = tmp.join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let mut v = common::all_mechanisms();
    let first = common::write(&a, "tiny", &v);
    set(&mut v, "/threshold", num(0.05));
    [first, common::write(&b, "tiny", &v)]
}

#[test]
fn runs_side_by_side_into_one_folder_lose_nothing_and_never_mix_files() {
    let tmp = TempDir::new().unwrap();
    let paths = two_of_one_name(tmp.path());
    let out = tmp.path().join("out");
    let out_arg = out.to_str().unwrap().to_string();
    // Each round, two runs of different content that want the same name start together.
    for seed in 0..10u64 {
        let seed = seed.to_string();
        let children: Vec<_> = paths
            .iter()
            .map(|p| {
                let args = [
                    "run",
                    p.to_str().unwrap(),
                    "--trials",
                    "64",
                    "--seed",
                    &seed,
                    "--threads",
                    "1",
                    "--quiet",
                    "--out",
                    &out_arg,
                ];
                recount(tmp.path(), &args).spawn().unwrap()
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let mut seen = Vec::new();
        for (o, threshold) in outputs.iter().zip([0.07, 0.05]) {
            assert!(o.status.success(), "{}", text(&o.stderr));
            let json = written(o);
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            // The file a run names is its own result...
            assert_eq!(
                v["threshold"].as_f64(),
                Some(threshold),
                "{}",
                json.display()
            );
            // ...and the CSV beside it is of the same scenario content.
            let mut csv = csv::Reader::from_path(json.with_extension("csv")).unwrap();
            let header = csv.headers().unwrap().clone();
            let col = header.iter().position(|h| h == "scenario_hash").unwrap();
            let row = csv.records().next().unwrap().unwrap();
            assert_eq!(&row[col], v["scenario"]["hash"].as_str().unwrap());
            seen.push(json);
        }
        assert_ne!(seen[0], seen[1], "two results under one name");
    }
    // Ten rounds, two results each, nothing else left behind.
    let dir = out.join("tiny");
    let results = names(&dir);
    assert_eq!(
        results.iter().filter(|n| n.ends_with(".json")).count(),
        20,
        "{results:?}"
    );
    assert!(results.iter().all(|n| !n.ends_with(".tmp")), "{results:?}");
}

#[test]
fn a_folder_that_cannot_be_written_is_refused_before_simulating() {
    let tmp = TempDir::new().unwrap();
    let path = common::write(tmp.path(), "tiny", &common::all_mechanisms());
    // A file where the output folder should be: no folder can be made there, even for root.
    let blocked = tmp.path().join("blocked");
    std::fs::write(&blocked, "not a folder").unwrap();
    let out = recount(
        tmp.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--trials",
            "64",
            "--out",
            blocked.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("could not be written there"), "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    // Nothing was simulated: no table was printed.
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn a_write_that_fails_at_the_end_still_prints_the_figures_and_keeps_a_copy() {
    let (tmp, path, out) = tiny();
    // A folder where the run's CSV goes: the folder is writable, the CSV cannot be renamed there.
    std::fs::create_dir_all(out.join("tiny/run-3-64.csv")).unwrap();
    let temp = tmp.path().join("temp");
    std::fs::create_dir_all(&temp).unwrap();
    let o = recount(
        tmp.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--trials",
            "64",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .env("TMPDIR", &temp)
    .output()
    .unwrap();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{stderr}");
    // The figures are on the terminal...
    assert!(
        text(&o.stdout).contains("The answer:"),
        "{}",
        text(&o.stdout)
    );
    assert!(stderr.contains("could not be written into"), "{stderr}");
    // ...the JSON is kept where the message says...
    let kept = saved_to(&stderr, "its JSON was saved to ");
    assert!(kept.starts_with(&temp), "{stderr}");
    assert!(kept.ends_with("run-3-64.json"), "{stderr}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    assert_eq!(v["trials"], 64);
    // ...and no incomplete result is left in the folder.
    assert_eq!(names(&out.join("tiny")), ["run-3-64.csv"]);
}

#[test]
fn an_interrupted_run_never_replaces_another_runs_partial_result() {
    let (tmp, path, out) = tiny();
    let run = |extra: &[&str]| {
        let mut args = vec!["--threads", "1"];
        args.extend_from_slice(extra);
        run_1000(tmp.path(), &path, &out, &args).output().unwrap()
    };
    let dir = out.join("tiny");
    let first = run(&["--stop-after", "300"]);
    assert_eq!(first.status.code(), Some(130), "{}", text(&first.stderr));
    let kept = std::fs::read_to_string(dir.join("run-4-1000.partial.json")).unwrap();
    // A second run of the same name, stopped elsewhere, goes beside the first.
    let second = run(&["--stop-after", "500"]);
    assert_eq!(second.status.code(), Some(130));
    assert!(
        text(&second.stderr).contains("run-4-1000.partial.2.json"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("run-4-1000.partial.json")).unwrap(),
        kept
    );
    // Continuing the first and stopping it again replaces it (its trials are in the new one).
    let partial = dir.join("run-4-1000.partial.json");
    let third = run(&["--resume", partial.to_str().unwrap(), "--stop-after", "700"]);
    assert_eq!(third.status.code(), Some(130), "{}", text(&third.stderr));
    let p: Value = serde_json::from_str(&std::fs::read_to_string(&partial).unwrap()).unwrap();
    assert!(p["partial"]["trials_done"].as_u64().unwrap() >= 700);
    assert_eq!(
        names(&dir),
        ["run-4-1000.partial.2.json", "run-4-1000.partial.json"]
    );
}

#[test]
fn a_sweep_made_differently_goes_beside_the_first_and_the_same_sweep_replaces_itself() {
    let (tmp, path, out) = tiny();
    let sweep = |seed: &str| {
        let o = recount(
            tmp.path(),
            &[
                "sweep",
                path.to_str().unwrap(),
                "--param",
                "prevalence",
                "--values",
                "0.1,0.2",
                "--trials",
                "64",
                "--seed",
                seed,
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let dir = out.join("tiny/sweep-irregularities.prevalence");
    sweep("1");
    let first = std::fs::read_to_string(dir.join("curve.json")).unwrap();
    assert!(sweep("2").contains("curve.2.{csv,json,svg,png}"));
    assert_eq!(
        std::fs::read_to_string(dir.join("curve.json")).unwrap(),
        first
    );
    sweep("1");
    sweep("2");
    let files = names(&dir);
    assert_eq!(files.len(), 8, "{files:?}");
}

#[test]
fn writers_killed_midway_leave_nothing_a_later_run_does_not_clean_up() {
    let (tmp, path, out) = tiny();
    let dir = out.join("tiny");
    let args = [
        "run",
        path.to_str().unwrap(),
        "--trials",
        "64",
        "--seed",
        "5",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    let first = recount(tmp.path(), &args).output().unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before: Vec<(String, Vec<u8>)> = names(&dir)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
        .collect();
    // The same run again, killed (SIGKILL: no handler runs) once every file of its set is
    // written and none renamed into place yet.
    let mut child = recount(tmp.path(), &args)
        .env("RECOUNT_PAUSE_BEFORE_RENAMES", "30000")
        .spawn()
        .unwrap();
    let temporaries = || {
        names(&dir)
            .into_iter()
            .filter(|n| n.starts_with(".recount-") && n.ends_with(".tmp"))
            .count()
    };
    let waited = std::time::Instant::now();
    while temporaries() < 2 && waited.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(temporaries() >= 2, "{:?}", names(&dir));
    // The earlier result is untouched, and the killed writer left only temporary files...
    for (n, bytes) in &before {
        assert_eq!(&std::fs::read(dir.join(n)).unwrap(), bytes, "{n}");
    }
    let files = names(&dir);
    assert_eq!(files.len(), before.len() + temporaries(), "{files:?}");
    // ...which the next writer of the folder removes.
    let again = recount(tmp.path(), &args).output().unwrap();
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(temporaries(), 0, "{:?}", names(&dir));
    for (n, bytes) in &before {
        let now = std::fs::read(dir.join(n)).unwrap();
        if n.ends_with(".csv") {
            assert_eq!(&now, bytes, "{n}");
        }
    }
}

/// A stop in the middle of a batch keeps the whole batches before it, and the run resumed from
/// there (on another thread count) gives the uninterrupted run's output byte for byte.
#[test]
fn a_stop_in_the_middle_of_a_batch_resumes_to_the_uninterrupted_result() {
    let (tmp, path, out) = tiny();
    let run = |extra: &[&str]| {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        run_1000(tmp.path(), &path, &out, &args).output().unwrap()
    };
    let whole = run(&["--threads", "2"]);
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    // Trial 100 is in batch 1 (trials 64-127): on one thread, batch 0 is kept, the rest dropped.
    let stopped = run(&["--threads", "1", "--stop-at-trial", "100"]);
    assert_eq!(
        stopped.status.code(),
        Some(130),
        "{}",
        text(&stopped.stderr)
    );
    let partial = out.join("tiny/run-4-1000.partial.json");
    let p: Value = serde_json::from_str(&std::fs::read_to_string(&partial).unwrap()).unwrap();
    assert_eq!(p["partial"]["trials_done"], 64);
    let resumed = run(&["--threads", "2", "--resume", partial.to_str().unwrap()]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&resumed.stdout), text(&whole.stdout));
    assert!(!partial.exists(), "the partial result is superseded");
}

/// The memory recount estimates before a run (and refuses a run by) is within 2x of the peak
/// the run's process held, for a million precincts forward and for the inverse question, whose
/// figures are drawn as PNG (the peak is Linux's VmHWM, in the timing block).
#[cfg(target_os = "linux")]
#[test]
fn the_memory_estimate_is_within_twice_the_measured_peak() {
    let tmp = TempDir::new().unwrap();
    let big = million(tmp.path());
    let out = tmp.path().join("out");
    for (scenario, trials) in [(big.to_str().unwrap(), "64"), ("inverse-odihr", "640")] {
        let o = recount(
            tmp.path(),
            &[
                "run",
                scenario,
                "--trials",
                trials,
                "--sampler",
                "pooled",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(written(&o)).unwrap()).unwrap();
        let peak = v["timing"]["peak_memory_mib"].as_f64().unwrap();
        let estimate = v["timing"]["memory_estimate_mib"].as_f64().unwrap();
        assert!(
            estimate <= 2.0 * peak && peak <= 2.0 * estimate,
            "{scenario}: estimated {estimate:.1} MiB, peak {peak:.1} MiB"
        );
    }
}

/// Ctrl-C (SIGINT) on a country of a million precincts, in the middle of its first batches
/// (exact, two threads: a batch takes many seconds there): the run exits 130 with a partial
/// result of whole batches and the command that resumes it. How fast it stops is measured by
/// benches/limits.sh, not timed here; which batches a stop keeps is
/// `a_stop_in_the_middle_of_a_batch_resumes_to_the_uninterrupted_result`'s.
#[cfg(unix)]
#[test]
fn an_interrupt_in_the_middle_of_a_batch_keeps_whole_batches() {
    let tmp = TempDir::new().unwrap();
    let big = million(tmp.path());
    let out = tmp.path().join("out");
    let child = recount(
        tmp.path(),
        &[
            "run",
            big.to_str().unwrap(),
            "--trials",
            "1000000",
            "--threads",
            "2",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .spawn()
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    let partial = out.join("big/run-1-1000000.partial.json");
    let p: Value = serde_json::from_str(&std::fs::read_to_string(&partial).unwrap()).unwrap();
    let done = p["partial"]["trials_done"].as_u64().unwrap();
    // Whole batches, and not the whole run.
    assert!(done.is_multiple_of(64) && done < 1_000_000, "{done}");
    assert!(text(&o.stderr).contains("--resume"), "{}", text(&o.stderr));
}

/// A precinct table of another scenario content under the same name goes beside the first; the
/// same table made again (other figure bins) replaces itself.
#[test]
fn a_precinct_table_of_other_content_goes_beside_the_first() {
    let tmp = TempDir::new().unwrap();
    let paths = two_of_one_name(tmp.path());
    let out = tmp.path().join("out");
    let precincts = |p: &Path, bins: &str| {
        let o = recount(
            tmp.path(),
            &[
                "precincts",
                p.to_str().unwrap(),
                "--bins",
                bins,
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    precincts(&paths[0], "40");
    let dir = out.join("tiny");
    let first = std::fs::read_to_string(dir.join("precincts-1-0.csv")).unwrap();
    assert!(precincts(&paths[1], "40").contains("precincts-1-0.2.csv"));
    assert!(precincts(&paths[0], "20").contains("precincts-1-0.csv"));
    assert_eq!(
        std::fs::read_to_string(dir.join("precincts-1-0.csv")).unwrap(),
        first
    );
    assert_eq!(names(&dir).len(), 6, "{:?}", names(&dir));
}

/// A run stopped early whose partial result cannot be written where asked keeps it in the
/// system's temporary folder, says where, and can be resumed from there.
#[test]
fn a_partial_result_that_cannot_be_written_is_kept_elsewhere() {
    let (tmp, path, out) = tiny();
    // A folder in the partial result's place, which --force then fails to replace.
    std::fs::create_dir_all(out.join("tiny/run-4-1000.partial.json")).unwrap();
    let temp = tmp.path().join("temp");
    std::fs::create_dir_all(&temp).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        run_1000(tmp.path(), &path, &out, &args)
            .env("TMPDIR", &temp)
            .output()
            .unwrap()
    };
    let o = run(&["--stop-after", "300", "--force"]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let kept = saved_to(&stderr, "saved to ");
    assert!(kept.starts_with(&temp), "{stderr}");
    assert!(kept.ends_with("run-4-1000.partial.json"), "{stderr}");
    let whole = run(&[]);
    let resumed = run(&["--resume", kept.to_str().unwrap()]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&resumed.stdout), text(&whole.stdout));
}
