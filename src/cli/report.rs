//! `recount report`: the HTML page of a scenario's run, sweeps and fingerprint.

use crate::cli::args::ReportArgs;
use crate::cli::options;
use crate::cli::terminal::emit;
use crate::error::{Error, Result};
use crate::export::write::Folder;

use crate::question::answer;
use crate::question::sweep::{self};
use std::path::Path;

/// Files in `dir` whose names start with `prefix` and end with `suffix`, sorted by name.
pub(crate) fn files(dir: &Path, prefix: &str, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    v.sort();
    v
}

/// The most recently written of `paths`.
fn newest(paths: impl IntoIterator<Item = std::path::PathBuf>) -> Option<std::path::PathBuf> {
    paths.into_iter().max_by_key(|p| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH)
    })
}

pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// A sweep's figure for the report, captioned from its curve.json: the newest complete sweep in
/// `dir` (another sweep of the same numbers made differently sits beside it as `curve.2.*`).
pub(crate) fn sweep_figure(dir: &Path) -> Result<Option<crate::export::html::Figure>> {
    let Some(json_path) = newest(files(dir, "curve", ".json")) else {
        return Ok(None);
    };
    let svg_path = json_path.with_extension("svg");
    if !svg_path.is_file() {
        return Ok(None);
    }
    let svg = read(&svg_path)?;
    let json: serde_json::Value = read(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let axis = |p: &serde_json::Value| -> Option<String> {
        let values = p["values"].as_array()?;
        let (first, last) = (values.first()?.as_f64()?, values.last()?.as_f64()?);
        Some(format!(
            "{} from {} to {} ({} values)",
            p["path"].as_str()?,
            sweep::fmt_num(first),
            sweep::fmt_num(last),
            values.len()
        ))
    };
    let mut caption = match axis(&json["param"]) {
        Some(a) => format!(
            "{a}{}",
            axis(&json["param2"])
                .map(|b| format!(" x {b}"))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    if let (Some(t), Some(seed)) = (json["trials"].as_u64(), json["seed"].as_u64()) {
        let sampler = json["sampler"].as_str().unwrap_or("exact");
        caption.push_str(&format!(
            "; {t} trials per point, seed {seed}, {sampler} sampler"
        ));
    }
    for tip in json["tipping"].as_array().into_iter().flatten() {
        for c in tip["crossings"].as_array().into_iter().flatten() {
            if let (Some(level), Some(v)) = (c["level"].as_f64(), c["value"].as_f64()) {
                caption.push_str(&format!(
                    "; P({} {}) reaches {level} at {}",
                    tip["series"].as_str().unwrap_or(""),
                    tip["measure"].as_str().unwrap_or(""),
                    sweep::fmt_num(v)
                ));
            }
        }
    }
    caption.push_str(&format!(" ({}).", json_path.display()));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Some(crate::export::html::Figure {
        id: name.clone(),
        title: format!("Sweep: {}", name.trim_start_matches("sweep-")),
        caption,
        svg,
    }))
}

/// `recount report`.
pub fn report(args: &ReportArgs) -> Result<()> {
    let loaded = crate::cli::options::load(&args.scenario)?;
    let dir = args.out.join(&loaded.name);
    // A run the report makes itself is simulated only into a folder it can write.
    Folder::check_writable(&dir)?;
    // The newest complete run of this scenario, or a fresh one: an interrupted run's
    // `.partial.json` and one shard's file hold only some of the trials.
    let runs = files(&dir, "run-", ".json").into_iter().filter(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        !name.contains(".partial.") && !name.contains(".shard-")
    });
    let mut notes = String::new();
    let run_path = match newest(runs) {
        Some(p) => p,
        None => {
            let trials = options::trials(args.trials, &loaded)?;
            let seed = loaded.model.seed;
            let sampler = crate::cli::options::sampler(args.sampler, &loaded)?;
            let job = crate::cli::run::Job {
                trials,
                seed,
                threads: options::threads(args.threads)?,
                quiet: args.quiet,
                sampler,
            };
            let start = answer::State::new(&loaded.model, 0);
            let (report, state) = crate::cli::run::simulate_range(&loaded, &job, start, trials)?;
            crate::cli::run::has_answer(&loaded, &report)?;
            // Named, guarded and drawn as `recount run` names, guards and draws its results.
            let base = crate::cli::run::result_base(seed, trials, sampler);
            let (stem, _) =
                crate::cli::run::save_result(&dir, &base, &report, (&loaded, &state), false)?;
            let p = dir.join(format!("{stem}.json"));
            notes.push_str(&format!(
                "No run in {} yet: ran {trials} trials ({}).\n",
                dir.display(),
                p.display()
            ));
            p
        }
    };
    let run: serde_json::Value =
        serde_json::from_str(&read(&run_path)?).map_err(|e| Error::Scenario {
            file: run_path.display().to_string(),
            message: format!("not a recount run file: {e}"),
        })?;
    let mut sweeps = Vec::new();
    for d in files(&dir, "sweep-", "") {
        if let Some(f) = sweep_figure(&d)? {
            sweeps.push(f);
        }
    }
    // Simulated precinct tables (true beside reported) and real protocols beside a simulated
    // election: (file prefix, title, what the figure shows).
    let kinds = [
        (
            "precincts-",
            "Precincts: ",
            "Precincts by turnout and the beneficiary's share of valid votes (2-D histogram, darker = more precincts, log scale), true count left, reported count right",
        ),
        (
            "fingerprint-",
            "The protocols beside a simulated election: ",
            "Stations by turnout and the party's share of valid votes (2-D histogram, one shading scale for both panels): the real protocols left, an election simulated on the same stations right (for an inverse scenario, a draw from the posterior); a model that fits draws the same shape",
        ),
    ];
    let mut fingerprints = Vec::new();
    for (prefix, title, shows) in kinds {
        for p in files(&dir, prefix, ".svg") {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            fingerprints.push(crate::export::html::Figure {
                id: stem.clone(),
                title: format!("{title}{}", stem.trim_start_matches(prefix)),
                caption: format!(
                    "{shows}{} ({}; table in {}).",
                    made_by(&p.with_extension("csv")),
                    p.display(),
                    p.with_extension("csv").display()
                ),
                svg: read(&p)?,
            });
        }
    }
    // The inverse answer's figures beside the run: (file, id, title, what it shows, its table
    // in words, the table's file).
    let answer_figures = [
        (
            "posterior.svg",
            "posterior",
            "The answer: each party's true share, before and after the evidence",
            "The shaded curve is the posterior density of the party's true share of valid votes (given the evidence the run weighed); the grey line its prior, before the evidence; the red line the threshold; the dashed line the official share. Where the two curves differ, the evidence taught something; where they agree, the answer rests on the prior",
            "curves",
            "posterior.csv",
        ),
        (
            "rests-on.svg",
            "rests-on-figure",
            "What the answer rests on",
            "Each point is the answer the same evidence gives had the unknown been known to lie in that twentieth of its prior (read off the run's own weighted trials, with its 95% band); the shaded range is where the evidence puts the unknown (its posterior 90% range), the dashed line the answer itself. A curve that climbs across the shaded range means the answer depends on that unknown's prior: with a narrower prior the answer moves along the curve. The unknowns shown are those whose prior halves give the most different answers",
            "every unknown's bins",
            "profile.csv",
        ),
    ];
    let mut posterior = Vec::new();
    for (file, id, title, shows, table, table_file) in answer_figures {
        let path = run_path.with_extension(file);
        if path.is_file() {
            posterior.push(crate::export::html::Figure {
                id: id.into(),
                title: title.into(),
                caption: format!(
                    "{shows} ({}; {table} in {}).",
                    path.display(),
                    run_path.with_extension(table_file).display()
                ),
                svg: read(&path)?,
            });
        }
    }
    // The newest check of this very scenario content (a check of an edited scenario is not
    // this one's).
    let mut checks: Vec<(std::time::SystemTime, serde_json::Value, String)> =
        files(&dir, "check-", ".json")
            .into_iter()
            .filter_map(|p| {
                let v: serde_json::Value = serde_json::from_str(&read(&p).ok()?).ok()?;
                let when = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
                (v["scenario_hash"] == loaded.hash.as_str())
                    .then(|| (when, v, p.display().to_string()))
            })
            .collect();
    checks.sort_by_key(|c| c.0);
    let check = checks.pop().map(|(_, v, f)| (v, f));
    let page = crate::export::html::Page {
        loaded: &loaded,
        run: &run,
        run_file: run_path.display().to_string(),
        posterior,
        check,
        sweeps,
        fingerprints,
    };
    let html = crate::export::html::render(&page);
    // The page is a view of the folder, made again from what is there: it replaces itself.
    let out = Folder::open(&dir)?.write("report.html", html.as_bytes())?;
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    emit(&format!(
        "{notes}Report on {} ({}, {}) written to {}\n",
        loaded.name,
        count(page.sweeps.len(), "sweep figure", "sweep figures"),
        count(page.fingerprints.len(), "fingerprint", "fingerprints"),
        out.display()
    ))
}

/// Which simulated election a precinct table or fingerprint shows, from the provenance columns
/// of the CSV beside its figure (", trial 3 of seed 20070818, fast sampler"); empty where the
/// table cannot be read or lacks them.
fn made_by(csv: &Path) -> String {
    let Ok(mut reader) = csv::Reader::from_path(csv) else {
        return String::new();
    };
    let Ok(header) = reader.headers().cloned() else {
        return String::new();
    };
    let Some(Ok(row)) = reader.records().next() else {
        return String::new();
    };
    let get = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
    };
    match (get("trial"), get("seed"), get("sampler")) {
        (Some(t), Some(seed), Some(sampler)) => {
            format!(", trial {t} of seed {seed}, {sampler} sampler")
        }
        _ => String::new(),
    }
}
