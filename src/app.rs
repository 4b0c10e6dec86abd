//! The commands behind the command line: each takes parsed arguments, does its work through the
//! library and writes to stdout; errors come back to `main`, which prints them and exits.

use crate::cli::{Cli, Command, RunArgs};
use crate::engine::{self, Plan};
use crate::error::{Error, Result};
use crate::load::{self, Loaded};
use crate::output::write_atomic;
use crate::report::{self, RunReport, Timing};
use crate::sampler::SamplerKind;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::time::Instant;

/// Runs a parsed command line.
pub fn main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::List => list(),
        Command::Show { scenario, json } => show(&scenario, json),
        Command::Validate { scenarios } => validate(&scenarios),
        Command::Schema => emit(&crate::scenario::json_schema()),
        Command::Sweep(args) => crate::commands::sweep(&args),
        Command::Precincts(args) => crate::commands::precincts(&args),
        Command::Report(args) => crate::commands::report(&args),
    }
}

/// Writes to stdout; a closed pipe (`recount list | head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(()),
    }
}

fn list() -> Result<()> {
    let mut text = String::new();
    for name in load::list_names()? {
        match load::load(&name) {
            Ok(l) => text.push_str(&format!("{name:<18} {}\n", l.scenario.question)),
            Err(e) => text.push_str(&format!("{name:<18} INVALID: {e}\n")),
        }
    }
    emit(&text)
}

fn validate(names: &[String]) -> Result<()> {
    let mut text = String::new();
    for name in names {
        let l = load::load(name)?;
        text.push_str(&format!(
            "{}: valid ({} parties, {} regions, {} precincts, hash {})\n",
            l.path.display(),
            l.model.n_parties(),
            l.model.regions.len(),
            l.model.n_precincts(),
            l.hash
        ));
    }
    emit(&text)
}

fn show(name: &str, json: bool) -> Result<()> {
    let l = load::load(name)?;
    if json {
        let mut s = serde_json::to_string_pretty(&l.scenario).expect("serialises");
        s.push('\n');
        return emit(&s);
    }
    let mut text = format!(
        "{} — {}\nfile: {}  hash: {}\n\n{}\n\n{}\n\nEvery number and its source:\n",
        l.name,
        l.scenario.title,
        l.path.display(),
        l.hash,
        l.scenario.question,
        l.scenario.description
    );
    let value = serde_json::to_value(&l.scenario).expect("serialises");
    for [path, what, source] in crate::scenario::sourced_numbers(&value) {
        text.push_str(&format!("  {path}: {what}\n"));
        if !source.is_empty() {
            text.push_str(&format!("      source: {source}\n"));
        }
    }
    emit(&text)
}

fn run(args: &RunArgs) -> Result<()> {
    let loaded = load::load(&args.scenario)?;
    let resume = args
        .resume
        .as_deref()
        .map(|p| read_partial(p, &loaded))
        .transpose()?;
    let trials = args
        .trials
        .or(resume.as_ref().map(|r| r.trials))
        .unwrap_or(loaded.model.trials);
    let seed = match (&resume, args.seed) {
        (Some(r), Some(s)) if s != r.seed => {
            return Err(Error::Usage(format!(
                "--seed {s} differs from the seed {} of the run being resumed",
                r.seed
            )));
        }
        (Some(r), _) => r.seed,
        (None, s) => s.unwrap_or(loaded.model.seed),
    };
    if trials == 0 {
        return Err(Error::Usage("--trials must be at least 1".into()));
    }
    if let Some(r) = &resume
        && r.sampler != args.sampler.name()
    {
        return Err(Error::Usage(format!(
            "the run being resumed used --sampler {}; resume it with the same sampler",
            r.sampler
        )));
    }
    if let Some(r) = &resume
        && r.state.done > trials
    {
        return Err(Error::Usage(format!(
            "--trials {trials} is fewer than the {} trials the resumed run already did",
            r.state.done
        )));
    }
    let threads = match args.threads {
        Some(0) => return Err(Error::Usage("--threads must be at least 1".into())),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    check_size(&loaded, trials, threads, args.quiet)?;
    if args.sampler != SamplerKind::Exact && loaded.model.inverse.is_some() {
        return Err(Error::Usage(
            "--sampler fast is for forward scenarios; inverse scenarios run exact".into(),
        ));
    }
    if let Some(n) = args.stop_after {
        engine::STOP_AFTER.store(n, std::sync::atomic::Ordering::SeqCst);
    }
    // Ctrl-C stops the run at the next chunk and keeps what it has (see `write partial` below).
    // Failing to install the handler (e.g. one is already set in tests) only loses that comfort.
    let _ = ctrlc::set_handler(|| {
        engine::STOP.store(true, std::sync::atomic::Ordering::SeqCst);
        eprintln!("\nstopping: finishing the current trials and writing a partial result...");
    });
    let (report, state) = simulate_from(
        &loaded,
        trials,
        seed,
        threads,
        args.quiet,
        args.sampler,
        resume.map(|r| r.state),
    )?;
    let dir = args.out.join(&loaded.name);
    let base = match args.sampler {
        SamplerKind::Exact => format!("run-{seed}-{trials}"),
        kind => format!("run-{seed}-{trials}-{}", kind.name()),
    };
    if report.partial.is_some() {
        let path = dir.join(format!("{base}.partial.json"));
        let text = partial_json(&report, &state);
        write_atomic(&path, text.as_bytes())?;
        if args.json {
            emit(&report::to_json(&report, false))?;
        } else {
            emit(&report::to_table(&report))?;
        }
        eprintln!(
            "Partial result ({} of {trials} trials) written to {}; continue with:\n  recount run {} --resume {}",
            state.done,
            path.display(),
            args.scenario,
            path.display()
        );
        return Err(Error::Interrupted);
    }
    let stem = output_stem(&dir, &base, &report, args.force);
    write_atomic(
        &dir.join(format!("{stem}.json")),
        report::to_json(&report, true).as_bytes(),
    )?;
    write_atomic(
        &dir.join(format!("{stem}.csv")),
        report::to_csv(&report).as_bytes(),
    )?;
    // The complete result supersedes the partial one it was resumed from.
    if let Some(p) = &args.resume
        && p.starts_with(&dir)
    {
        let _ = std::fs::remove_file(p);
    }
    if args.json {
        emit(&report::to_json(&report, false))
    } else {
        emit(&report::to_table(&report))?;
        emit(&format!(
            "Results written to {}/{stem}.json and .csv\n",
            dir.display()
        ))
    }
}

/// A partial result: the report of the trials done, plus the state to resume from.
fn partial_json(report: &RunReport, state: &engine::State) -> String {
    let mut v = serde_json::to_value(report).expect("a report serialises");
    v["state"] = serde_json::to_value(state).expect("a state serialises");
    let mut s = serde_json::to_string(&v).expect("a value serialises");
    s.push('\n');
    s
}

/// What `--resume` needs from a partial-result file.
struct Partial {
    sampler: String,
    trials: u64,
    seed: u64,
    state: engine::State,
}

/// Reads a partial result and checks it belongs to this scenario and this recount.
fn read_partial(path: &std::path::Path, loaded: &Loaded) -> Result<Partial> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let bad = |why: String| Error::Usage(format!("{}: cannot resume: {why}", path.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a partial result ({e})")))?;
    if v["scenario"]["hash"] != loaded.hash.as_str() {
        return Err(bad(format!(
            "it was made from scenario content {} but {} now has {}; results would mix two scenarios",
            v["scenario"]["hash"], loaded.name, loaded.hash
        )));
    }
    if v["sampler_version"] != crate::SAMPLER_VERSION || v["recount_version"] != crate::VERSION {
        return Err(bad(format!(
            "it was made by recount {} (sampler {}), this is recount {} (sampler {})",
            v["recount_version"],
            v["sampler_version"],
            crate::VERSION,
            crate::SAMPLER_VERSION
        )));
    }
    let state: engine::State = serde_json::from_value(v["state"].clone())
        .map_err(|e| bad(format!("no resumable state in it ({e})")))?;
    if !state.done.is_multiple_of(engine::BATCH) {
        return Err(bad(format!(
            "{} trials done is not a whole number of batches",
            state.done
        )));
    }
    Ok(Partial {
        sampler: v["sampler"].as_str().unwrap_or("exact").to_string(),
        trials: v["trials"]
            .as_u64()
            .ok_or_else(|| bad("no `trials`".into()))?,
        seed: v["seed"].as_u64().ok_or_else(|| bad("no `seed`".into()))?,
        state,
    })
}

/// Refuses absurd requests and warns about very long ones before anything runs.
fn check_size(loaded: &Loaded, trials: u64, threads: usize, quiet: bool) -> Result<()> {
    let work = trials as f64 * loaded.model.n_precincts() as f64;
    if work > 1e16 {
        return Err(Error::Usage(format!(
            "--trials {trials} x {} precincts is {work:.1e} precinct-trials, beyond any machine (limit 1e16); \
             use fewer trials or split the run",
            loaded.model.n_precincts()
        )));
    }
    // A conservative 1e6 precinct-trials per second per thread (docs/performance.md).
    let hours = work / (1e6 * threads as f64) / 3600.0;
    if hours > 1.0 && !quiet {
        eprintln!(
            "warning: {trials} trials may take about {hours:.0} hours on {threads} threads; memory stays flat, Ctrl-C stops it"
        );
    }
    Ok(())
}

/// The file stem for a run's results. Rerunning the same scenario content, seed, trials and
/// versions replaces its files (the figures are identical); anything else never overwrites an
/// existing result silently: it gets the next free `.2`, `.3`, ... suffix unless `--force`.
fn output_stem(dir: &std::path::Path, stem: &str, report: &RunReport, force: bool) -> String {
    let same = |path: &std::path::Path| {
        let Ok(text) = std::fs::read_to_string(path) else {
            return false;
        };
        let Ok(old) = serde_json::from_str::<serde_json::Value>(&text) else {
            return false;
        };
        let p = &report.provenance;
        old["scenario"]["hash"] == p.scenario.hash.as_str()
            && old["sampler_version"] == p.sampler_version
            && old["recount_version"] == p.recount_version.as_str()
    };
    let mut candidate = stem.to_string();
    for n in 2.. {
        let path = dir.join(format!("{candidate}.json"));
        if force || !path.exists() || same(&path) {
            break;
        }
        candidate = format!("{stem}.{n}");
    }
    candidate
}

/// Runs the engine with a progress bar and returns the report.
pub fn simulate(
    loaded: &Loaded,
    trials: u64,
    seed: u64,
    threads: usize,
    quiet: bool,
) -> Result<RunReport> {
    simulate_from(
        loaded,
        trials,
        seed,
        threads,
        quiet,
        SamplerKind::Exact,
        None,
    )
    .map(|(report, _)| report)
}

/// `simulate`, continuing from a saved state if given; also returns the final state. The report
/// is marked partial if the run stopped before `trials`.
pub fn simulate_from(
    loaded: &Loaded,
    trials: u64,
    seed: u64,
    threads: usize,
    quiet: bool,
    sampler: SamplerKind,
    resume: Option<engine::State>,
) -> Result<(RunReport, engine::State)> {
    let first = resume.as_ref().map_or(0, |s| s.done);
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        // indicatif hides the bar by itself when stderr is not a terminal.
        let b = ProgressBar::with_draw_target(Some(trials), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} trials ({per_sec}, ETA {eta})",
            )
            .expect("valid template"),
        );
        b
    };
    let started = Instant::now();
    let plan = Plan {
        trials,
        seed,
        threads,
        sampler,
    };
    bar.set_position(first);
    let est = engine::estimate(&loaded.model, &plan, resume, |done| bar.set_position(done));
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let ran = est.state.done - first;
    let results = est.state.acc.results(&loaded.model);
    let mut report = RunReport::new(loaded, seed, trials, results, est.inverse);
    report.provenance.sampler = sampler.name().to_string();
    if est.state.done < trials {
        report.partial = Some(report::PartialInfo {
            trials_done: est.state.done,
        });
    }
    report.timing = Some(Timing {
        elapsed_seconds: elapsed,
        threads,
        trials_per_second: ran as f64 / elapsed,
        precinct_trials_per_second: (ran * loaded.model.n_precincts()) as f64 / elapsed,
    });
    if let Some(w) = report.inverse.as_ref().and_then(|i| i.warning.as_ref())
        && !quiet
    {
        eprintln!("warning: {w}");
    }
    Ok((report, est.state))
}
