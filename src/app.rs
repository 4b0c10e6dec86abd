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
    sourced_numbers(&value, String::new(), None, &mut text);
    emit(&text)
}

/// Lists every object with a `source` as "path: value  (source)", walking the scenario's JSON.
/// `region_source` carries a region's shared source to its plain-number fields.
fn sourced_numbers(v: &serde_json::Value, path: String, inherited: Option<&str>, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let source = map.get("source").and_then(Value::as_str);
            let is_quantity = source.is_some()
                && ["value", "uniform", "beta", "observed"].iter().any(|k| map.contains_key(*k));
            if is_quantity {
                let what: Vec<String> = map
                    .iter()
                    .filter(|(k, _)| *k != "source")
                    .map(|(k, v)| if k == "value" { v.to_string() } else { format!("{k} {v}") })
                    .collect();
                out.push_str(&format!("  {path}: {}\n      source: {}\n", what.join(", "), source.unwrap_or("")));
                return;
            }
            for (k, child) in map {
                if k == "source" {
                    continue;
                }
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                sourced_numbers(child, p, source.or(inherited), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                sourced_numbers(child, format!("{path}[{i}]"), inherited, out);
            }
        }
        Value::Number(n) => {
            if let Some(src) = inherited {
                out.push_str(&format!("  {path}: {n}\n      source: {src}\n"));
            } else {
                out.push_str(&format!("  {path}: {n}\n"));
            }
        }
        _ => {}
    }
}

fn run(args: &RunArgs) -> Result<()> {
    let loaded = load::load(&args.scenario)?;
    let trials = args.trials.unwrap_or(loaded.model.trials);
    let seed = args.seed.unwrap_or(loaded.model.seed);
    if trials == 0 {
        return Err(Error::Usage("--trials must be at least 1".into()));
    }
    let threads = match args.threads {
        Some(0) => return Err(Error::Usage("--threads must be at least 1".into())),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if args.sampler != SamplerKind::Exact && loaded.model.inverse.is_some() {
        return Err(Error::Usage(
            "--sampler fast is for forward scenarios; inverse scenarios run exact".into(),
        ));
    }
    let report = simulate_with(&loaded, trials, seed, threads, args.quiet, args.sampler)?;
    let dir = args.out.join(&loaded.name);
    let stem = match args.sampler {
        SamplerKind::Exact => format!("run-{seed}-{trials}"),
        kind => format!("run-{seed}-{trials}-{}", kind.name()),
    };
    write_atomic(&dir.join(format!("{stem}.json")), report::to_json(&report, true).as_bytes())?;
    write_atomic(&dir.join(format!("{stem}.csv")), report::to_csv(&report).as_bytes())?;
    if args.json {
        emit(&report::to_json(&report, false))
    } else {
        emit(&report::to_table(&report))?;
        emit(&format!("Results written to {}/{stem}.json and .csv\n", dir.display()))
    }
}

/// Runs the engine with a progress bar and returns the report.
pub fn simulate(loaded: &Loaded, trials: u64, seed: u64, threads: usize, quiet: bool) -> Result<RunReport> {
    simulate_with(loaded, trials, seed, threads, quiet, SamplerKind::Exact)
}

/// `simulate` with the given samplers.
pub fn simulate_with(
    loaded: &Loaded,
    trials: u64,
    seed: u64,
    threads: usize,
    quiet: bool,
    sampler: SamplerKind,
) -> Result<RunReport> {
    let total = trials;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        // indicatif hides the bar by itself when stderr is not a terminal.
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
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
    let est = engine::estimate(&loaded.model, &plan, |done| bar.set_position(done));
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let results = est.acc.results(&loaded.model);
    let mut report = RunReport::new(loaded, seed, trials, results, est.inverse);
    report.sampler = sampler.name().to_string();
    report.timing = Some(Timing {
        elapsed_seconds: elapsed,
        threads,
        trials_per_second: trials as f64 / elapsed,
        precinct_trials_per_second: (trials * loaded.model.n_precincts()) as f64 / elapsed,
    });
    if let Some(w) = report.inverse.as_ref().and_then(|i| i.warning.as_ref())
        && !quiet
    {
        eprintln!("warning: {w}");
    }
    Ok(report)
}
