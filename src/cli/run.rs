//! `recount run`: one scenario's question answered, printed and saved (with `--resume` and
//! `--shard`), after checking that it fits in time and memory.

use crate::cli::args::RunArgs;
use crate::cli::options;
use crate::cli::saved::{Saved, read_saved};
use crate::cli::terminal::emit;
use crate::engine::{self, Plan};
use crate::error::{Error, Result};
use crate::export::run::{self, RunReport, Timing};
use crate::export::write::Folder;
use crate::export::{posterior, profile};
use crate::model::load::Loaded;
use crate::question::{answer, odds};
use crate::sample::kind::SamplerKind;
use std::time::Instant;

pub(crate) fn run(args: &RunArgs) -> Result<()> {
    let loaded = crate::cli::options::load(&args.scenario)?;
    if args.draws && loaded.model.inverse.is_none() {
        return Err(Error::Usage(format!(
            "--draws writes the posterior of an inverse scenario, and {} is a forward one (it has no observations): its trials are draws of the prior, summed in the run's table",
            loaded.name
        )));
    }
    let resume = args
        .resume
        .as_deref()
        .map(|p| read_saved(p).and_then(|saved| saved.check_scenario(&loaded).map(|_| saved)))
        .transpose()?;
    let RunOptions {
        trials,
        seed,
        shard,
        range,
        threads,
        sampler,
    } = resolve(args, &loaded, resume.as_ref())?;
    check_size(
        &loaded,
        range.end - range.start,
        threads,
        sampler,
        args.quiet,
    )?;
    // A folder the results cannot go to is refused now, not after the simulation.
    Folder::check_writable(&args.out.join(&loaded.name))?;
    if let Some(t) = args.stop_at_trial {
        engine::STOP_AT.store(t, std::sync::atomic::Ordering::SeqCst);
    }
    if let Some(n) = args.stop_after {
        engine::STOP_AFTER.store(n, std::sync::atomic::Ordering::SeqCst);
    }
    // Ctrl-C stops the run after the trial each thread is on and keeps the whole batches done
    // (see `save_partial` below).
    // Failing to install the handler (e.g. one is already set in tests) only loses that comfort.
    let _ = ctrlc::set_handler(|| {
        engine::STOP.store(true, std::sync::atomic::Ordering::SeqCst);
        eprintln!("\nstopping: finishing the current trials and writing a partial result...");
    });
    let resumed = resume
        .as_ref()
        .map(|r| (r.path.clone(), r.checksum.clone()));
    let state = resume
        .map(|r| r.state)
        .unwrap_or_else(|| answer::State::new(&loaded.model, range.start));
    let job = Job {
        trials,
        seed,
        threads,
        quiet: args.quiet,
        sampler,
    };
    let (report, state) = simulate_range(&loaded, &job, state, range.end)?;
    let dir = args.out.join(&loaded.name);
    let base = result_base(seed, trials, sampler);
    if let Some(s) = shard {
        return save_shard(args, &loaded, report, &state, (&dir, &base), s, &range);
    }
    if state.done < range.end {
        return save_partial(args, &loaded, &report, &state, (&dir, &base));
    }
    has_answer(&loaded, &report)?;
    let stem = write_result(
        &dir,
        &base,
        &report,
        (&loaded, &state),
        args.force,
        args.json,
    )?;
    if args.draws {
        write_draws(&loaded, &job, &dir, &format!("{stem}.draws.csv"))?;
    }
    // The complete result supersedes the partial one it was resumed from.
    if let Some((path, checksum)) = &resumed {
        remove_superseded(&dir, path, checksum);
    }
    trusted(&report)
}

/// Removes the partial result at `path` that a completed run resumed from, if it lies in the
/// result folder `dir` and still holds what was read (`checksum`), under the folder's lock: a
/// newer partial written there meanwhile stays.
fn remove_superseded(dir: &std::path::Path, path: &std::path::Path, checksum: &str) {
    let (Ok(d), Ok(p)) = (std::fs::canonicalize(dir), std::fs::canonicalize(path)) else {
        return;
    };
    if p.parent() != Some(d.as_path()) {
        return;
    }
    let Ok(_folder) = Folder::open(dir) else {
        return;
    };
    let unchanged = std::fs::read_to_string(&p)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["checksum"] == checksum);
    if unchanged {
        let _ = std::fs::remove_file(&p);
    }
}

/// Exit 3 for a written inverse answer whose weights are too heavy-tailed to trust (the warning
/// printed with the answer says why and what to change).
pub(crate) fn trusted(report: &RunReport) -> Result<()> {
    match report
        .inverse
        .as_ref()
        .map(|inv| (inv.pareto_k, inv.pareto_k_limit))
    {
        Some((Some(k), limit)) if k > limit => Err(Error::Unreliable(format!(
            "the answer was written, but it is not to be trusted: the weights' tail is too heavy (Pareto k-hat {k:.2}, reliable below {limit:.2}); see the warning above"
        ))),
        _ => Ok(()),
    }
}

/// `--draws`: the run's trials again, each a weighted posterior draw, as CSV at `path`.
fn write_draws(loaded: &Loaded, job: &Job, dir: &std::path::Path, name: &str) -> Result<()> {
    let path = &dir.join(name);
    let bar =
        crate::cli::terminal::progress_bar(job.trials, job.quiet, "posterior draws (second pass)");
    let plan = Plan {
        trials: job.trials,
        seed: job.seed,
        threads: job.threads,
        sampler: job.sampler,
    };
    let (names, draws) =
        crate::question::inverse::posterior_draws(&loaded.model, &plan, |d| bar.set_position(d));
    bar.finish_and_clear();
    if (draws.len() as u64) < job.trials {
        return Err(Error::NoAnswer(format!(
            "stopped after {} of {} trials: {} not written (the run's result is)",
            draws.len(),
            job.trials,
            path.display()
        )));
    }
    let ids: Vec<String> = loaded.model.parties.iter().map(|p| p.id.clone()).collect();
    let stamp = run::Stamp::new(
        &loaded.name,
        &loaded.hash,
        job.seed,
        ("trials", job.trials),
        job.sampler.name(),
    );
    let csv = stamp.onto(&posterior::draws_csv(&names, &ids, &draws));
    Folder::open(dir)?.write(name, csv.as_bytes())?;
    let weights = draws
        .iter()
        .fold(crate::numeric::stats::Weights::default(), |mut w, d| {
            w.add(d.weight);
            w
        });
    eprintln!(
        "Posterior draws written to {}: {} trials with weights summing to 1 (ESS {:.0}; resample rows by weight for unweighted draws)",
        path.display(),
        draws.len(),
        weights.ess()
    );
    Ok(())
}

/// What `recount run` does, resolved once from its flags, the scenario and the run it resumes.
struct RunOptions {
    trials: u64,
    seed: u64,
    shard: Option<engine::Shard>,
    /// The trials this invocation simulates: the run's, or its shard's.
    range: std::ops::Range<u64>,
    threads: usize,
    sampler: SamplerKind,
}

/// The flag, else the resumed run's value, else the scenario's; each checked once, here.
fn resolve(args: &RunArgs, loaded: &Loaded, resume: Option<&Saved>) -> Result<RunOptions> {
    let trials = options::trials(args.trials.or(resume.map(|r| r.trials)), loaded)?;
    let sampler = options::sampler(args.sampler, loaded)?;
    let seed = match (resume, args.seed) {
        (Some(r), Some(s)) if s != r.seed => {
            return Err(Error::Usage(format!(
                "--seed {s} differs from the seed {} of the run being resumed",
                r.seed
            )));
        }
        (Some(r), _) => r.seed,
        (None, s) => options::seed(s, loaded),
    };
    let shard = match (resume, args.shard) {
        (Some(r), s) if s.is_some() && s != r.shard => {
            return Err(Error::Usage(format!(
                "--shard differs from the shard ({}) of the run being resumed",
                r.shard
                    .map_or("none".to_string(), |s| format!("{}/{}", s.index, s.count))
            )));
        }
        (Some(r), _) => r.shard,
        (None, s) => s,
    };
    if let Some(r) = resume {
        if r.sampler != sampler.name() {
            return Err(Error::Usage(format!(
                "the run being resumed used --sampler {}; resume it with the same sampler",
                r.sampler
            )));
        }
        if shard.is_some() && trials != r.trials {
            return Err(Error::Usage(format!(
                "--trials {trials} differs from the {} trials of the sharded run being resumed; \
                 a shard's trials depend on the run's total",
                r.trials
            )));
        }
    }
    let range = match shard {
        None => 0..trials,
        Some(s) => s.range(trials).ok_or_else(|| {
            Error::Usage(format!(
                "--shard {}/{}: {trials} trials make only {} batches of {} trials, fewer than {} shards; \
                 use at most {} shards or more trials",
                s.index,
                s.count,
                trials.div_ceil(engine::BATCH),
                engine::BATCH,
                s.count,
                trials.div_ceil(engine::BATCH)
            ))
        })?,
    };
    if let Some(r) = resume
        && r.state.done > range.end
    {
        return Err(Error::Usage(format!(
            "--trials {trials} is fewer than the {} trials the resumed run already did",
            r.state.done
        )));
    }
    let threads = options::threads(args.threads)?;
    Ok(RunOptions {
        trials,
        seed,
        shard,
        range,
        threads,
        sampler,
    })
}

/// Writes a shard's result (or, stopped early, its partial) into `dir`, named from the run's
/// `base`, and says what to do next.
fn save_shard(
    args: &RunArgs,
    loaded: &Loaded,
    mut report: RunReport,
    state: &answer::State,
    (dir, base): (&std::path::Path, &str),
    s: engine::Shard,
    range: &std::ops::Range<u64>,
) -> Result<()> {
    let stopped = state.done < range.end;
    report.partial = Some(run::PartialInfo {
        trials_done: state.done - state.first,
        first_trial: state.first,
        shard: Some(s),
    });
    let suffix = if stopped { ".partial" } else { "" };
    let text = saved_json(&report, state, loaded);
    let (path, elsewhere) = save_state(
        dir,
        &loaded.name,
        &format!("{base}.shard-{}-of-{}{suffix}", s.index, s.count),
        &text,
        |old| {
            // A finished shard is the same for the same content; a stopped one is replaced
            // only by the run that continued it.
            args.force || resumed_from(args, old) || (!stopped && same_run(old, &report.provenance))
        },
    )?;
    if args.json {
        emit(&run::to_json(&report, false))?;
    } else if !args.quiet {
        emit(&run::to_table(&report))?;
    }
    if stopped {
        eprintln!(
            "Shard stopped early ({} of its {} trials); written to {}; continue with:\n  {}",
            state.done - state.first,
            range.end - range.start,
            path.display(),
            resume_command(args, &report, &path)
        );
        return Err(Error::Interrupted);
    }
    if elsewhere {
        return Err(Error::NotSaved(format!(
            "shard {}/{} finished but could not be written into {}; it was saved to {} instead: move it there (or give that path to recount merge)",
            s.index,
            s.count,
            dir.display(),
            path.display()
        )));
    }
    eprintln!(
        "Shard {}/{} (trials {} to {}) written to {}; once all {} shards are done:\n  recount merge {}",
        s.index,
        s.count,
        range.start,
        range.end,
        path.display(),
        s.count,
        dir.join(format!("{base}.shard-*-of-{}.json", s.count))
            .display()
    );
    Ok(())
}

/// Writes the partial result of a run stopped early into `dir`, named from the run's `base`,
/// and says how to continue it.
fn save_partial(
    args: &RunArgs,
    loaded: &Loaded,
    report: &RunReport,
    state: &answer::State,
    (dir, base): (&std::path::Path, &str),
) -> Result<()> {
    let trials = report.provenance.trials;
    let text = saved_json(report, state, loaded);
    let (path, _) = save_state(
        dir,
        &loaded.name,
        &format!("{base}.partial"),
        &text,
        |old| args.force || resumed_from(args, old),
    )?;
    if args.json {
        emit(&run::to_json(report, false))?;
    } else {
        emit(&run::to_table(report))?;
    }
    let again = resume_command(args, report, &path);
    eprintln!(
        "Partial result ({} of {trials} trials) written to {}; continue with:\n  {again}",
        state.done,
        path.display(),
    );
    Err(Error::Interrupted)
}

/// The command that continues a stopped run from `path`: the flags a resume must repeat (the
/// sampler, the output folder), quoted for a POSIX shell; trials and seed come from the file.
fn resume_command(args: &RunArgs, report: &RunReport, path: &std::path::Path) -> String {
    let quote = |s: &str| {
        if s.is_empty()
            || s.starts_with(['~', '#'])
            || s.contains(|c: char| c.is_whitespace() || "'\"$`\\;&|<>()*?!{}[]".contains(c))
        {
            format!("'{}'", s.replace('\'', "'\\''"))
        } else {
            s.to_string()
        }
    };
    let mut again = format!(
        "recount run {} --resume {}",
        quote(&args.scenario),
        quote(&path.display().to_string())
    );
    if report.provenance.sampler != SamplerKind::Exact.name() {
        again.push_str(&format!(" --sampler {}", report.provenance.sampler));
    }
    if args.out != std::path::Path::new("out") {
        again.push_str(&format!(
            " --out {}",
            quote(&args.out.display().to_string())
        ));
    }
    again
}

/// The file name of a run's result, without extension: run-<seed>-<trials>[-fast].
pub(crate) fn result_base(seed: u64, trials: u64, sampler: SamplerKind) -> String {
    match sampler {
        SamplerKind::Exact => format!("run-{seed}-{trials}"),
        kind => format!("run-{seed}-{trials}-{}", kind.name()),
    }
}

/// Writes a complete result (JSON with timing, and CSV) under `dir`, never silently replacing a
/// different result, and prints it (table, or JSON without timing). Where the files cannot be
/// written, the figures are printed all the same and the JSON is kept in the system's temporary
/// folder (`keep_elsewhere`); the error says where (exit 4).
pub(crate) fn write_result(
    dir: &std::path::Path,
    base: &str,
    report: &RunReport,
    (loaded, state): (&Loaded, &answer::State),
    force: bool,
    json: bool,
) -> Result<String> {
    let print = || {
        if json {
            // The table, which carries the warning, is not printed: say it on stderr instead.
            if let Some(w) = report.inverse.as_ref().and_then(|i| i.warning.as_ref()) {
                eprintln!("warning: {w}");
            }
            emit(&run::to_json(report, false))
        } else {
            emit(&run::to_table(report))
        }
    };
    let (stem, figure) = match save_result(dir, base, report, (loaded, state), force) {
        Ok(saved) => saved,
        Err(e) => {
            // Whatever failed (a file, a figure), the copy first: a failing terminal must not
            // cost it.
            let kept = match keep_elsewhere(&loaded.name, base, &run::to_json(report, true)) {
                Ok(path) => format!("its JSON was saved to {}", path.display()),
                Err(e2) => format!("no copy could be kept elsewhere ({e2})"),
            };
            let _ = print();
            return Err(Error::NotSaved(format!(
                "the run finished, but its files could not be written into {} ({e}); the figures are printed above and {kept}",
                dir.display()
            )));
        }
    };
    print()?;
    if !json {
        emit(&format!(
            "Results written to {}/{stem}.json and .csv{}\n{figure}",
            dir.display(),
            if report.inverse.is_some() {
                " (the unknowns' table in .unknowns.csv, the headline under each prior in .headline.csv)"
            } else {
                ""
            }
        ))?;
    }
    Ok(stem)
}

/// Keeps `text` (a result's JSON, or a partial result) as `<stem>.json` in a new folder of the
/// system's temporary folder (`$TMPDIR/recount-<scenario>-<random suffix>`, made for this copy alone, so
/// no other user can have prepared it) when its own folder cannot be written; returns its path.
fn keep_elsewhere(name: &str, stem: &str, text: &str) -> Result<std::path::PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("recount-{name}-"))
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?
        .keep();
    let path = dir.join(format!("{stem}.json"));
    crate::export::write::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Saves a partial result or shard, `text`, as the one-file set `stem` in `dir`, replacing only
/// what `replaceable` allows; where `dir` cannot be written, in the system's temporary folder
/// (`keep_elsewhere`: the trials done are not lost), with a line saying why. Returns the path
/// written and whether it is that other place.
fn save_state(
    dir: &std::path::Path,
    name: &str,
    stem: &str,
    text: &str,
    replaceable: impl Fn(&std::path::Path) -> bool,
) -> Result<(std::path::PathBuf, bool)> {
    let in_dir = Folder::open(dir)
        .and_then(|f| f.claim(stem, ".json", replaceable)?.finish(text.as_bytes()));
    match in_dir {
        Ok(path) => Ok((path, false)),
        Err(e) => {
            let path = keep_elsewhere(name, stem, text).map_err(|e2| {
                Error::io(
                    dir,
                    std::io::Error::other(format!(
                        "{e}; and no copy could be kept elsewhere ({e2}): the trials done are lost"
                    )),
                )
            })?;
            eprintln!(
                "could not write into {} ({e}); saved to {} instead",
                dir.display(),
                path.display()
            );
            Ok((path, true))
        }
    }
}

/// Whether `old` is the file this run resumed from (which its new state supersedes).
fn resumed_from(args: &RunArgs, old: &std::path::Path) -> bool {
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).ok();
    args.resume.as_deref().is_some_and(|r| {
        canonical(std::path::Path::new(r)).is_some()
            && canonical(std::path::Path::new(r)) == canonical(old)
    })
}

/// Writes a complete result's files under `dir` (`write_result` without printing), as one set
/// (`export::write`): returns the file stem and the line that names the posterior figure. An
/// inverse result also gets its posterior figure and curves, `<stem>.posterior.svg` (and `.png`)
/// and `.csv`, drawn from `state`'s trials.
pub(crate) fn save_result(
    dir: &std::path::Path,
    base: &str,
    report: &RunReport,
    (loaded, state): (&Loaded, &answer::State),
    force: bool,
) -> Result<(String, String)> {
    // Everything is drawn before anything is written, and the run's JSON, which marks the result
    // as there, is written last.
    let posterior = report.inverse.as_ref().map(|_| {
        let c = posterior::curves(&loaded.model, &state.acc, &report.results);
        let title = format!(
            "{}: each party's true share, before and after the evidence ({} trials, seed {})",
            loaded.name, report.provenance.trials, report.provenance.seed
        );
        let stamp = run::Stamp::of(&report.provenance);
        (
            posterior::svg(&c, &title),
            stamp.onto(&posterior::to_csv(&c)),
        )
    });
    let rests_on = report.inverse.as_ref().map(|inv| {
        let names = crate::export::words::focus_names(&loaded.model);
        let parties: Vec<String> = report.results.parties.iter().map(|p| p.name.clone()).collect();
        let headline = crate::export::words::headline(&names, loaded.model.threshold);
        let title = format!(
            "{}: {headline} across the prior of the unknowns it depends on most ({} trials, seed {})",
            loaded.name, report.provenance.trials, report.provenance.seed
        );
        let stamp = run::Stamp::of(&report.provenance);
        (
            profile::svg(
                inv,
                &parties,
                &headline,
                &report.results.p_any_true_cross,
                &title,
            ),
            stamp.onto(&profile::to_csv(inv)),
        )
    });
    let rests_on = rests_on
        .map(|(svg, csv)| svg.transpose().map(|svg| (svg, csv)))
        .transpose()
        .map_err(|e| Error::NoAnswer(format!("drawing what the answer rests on: {e}")))?;
    let posterior = posterior
        .map(|(svg, csv)| svg.map(|svg| (svg, csv)))
        .transpose()
        .map_err(|e| Error::NoAnswer(format!("drawing the posterior figure: {e}")))?;
    let folder = Folder::open(dir)?;
    let mut set = folder.claim(base, ".json", |old| {
        force || same_run(old, &report.provenance)
    })?;
    set.replaces(&[
        ".csv",
        ".posterior.svg",
        ".posterior.png",
        ".posterior.csv",
        ".profile.csv",
        ".rests-on.svg",
        ".rests-on.png",
        ".unknowns.csv",
        ".headline.csv",
        ".draws.csv",
    ]);
    let mut figure = String::new();
    if let Some((svg, csv)) = posterior {
        set.write(".posterior.csv", csv.as_bytes())?;
        set.figure(".posterior.svg", &svg)?;
        figure = format!(
            "Posterior figure written to {} (and .png; curves in .csv)\n",
            set.path(".posterior.svg").display()
        );
    }
    if let Some((svg, csv)) = rests_on {
        set.write(".profile.csv", csv.as_bytes())?;
        // Where no unknown moves the answer there is no figure (one an earlier run of this name
        // left is removed by `finish`).
        if let Some(svg) = svg {
            set.figure(".rests-on.svg", &svg)?;
            figure.push_str(&format!(
                "What the answer rests on drawn in {} (and .png; every unknown's bins in .profile.csv)\n",
                set.path(".rests-on.svg").display()
            ));
        }
    }
    set.write(".csv", run::to_csv(report).as_bytes())?;
    if let Some(csv) = run::unknowns_csv(report) {
        set.write(".unknowns.csv", csv.as_bytes())?;
    }
    if let Some(csv) = run::headline_csv(report) {
        set.write(".headline.csv", csv.as_bytes())?;
    }
    let stem = set.stem().to_string();
    // The peak memory now, with the figures drawn, is the whole run's.
    let mut last = report.clone();
    if let Some(t) = last.timing.as_mut() {
        t.peak_memory_mib = memory_peak().map(mib).or(t.peak_memory_mib);
    }
    set.finish(run::to_json(&last, true).as_bytes())?;
    Ok((stem, figure))
}

/// Whether the result whose JSON is at `path` is the one `p` describes: the same scenario
/// content and versions (seed, trials and sampler are in its name), so its figures are identical
/// and rewriting them loses nothing.
fn same_run(path: &std::path::Path, p: &run::Provenance) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(old) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    old["scenario"]["hash"] == p.scenario.hash.as_str()
        && old["sampler_version"] == p.sampler_version
        && old["recount_version"] == p.recount_version.as_str()
}

/// A partial result (interrupted run, or shard): the report of the trials done, the state to
/// continue or merge from, and the scenario itself, so that `merge` needs nothing else.
pub(crate) fn saved_json(report: &RunReport, state: &answer::State, loaded: &Loaded) -> String {
    crate::export::files::saved_json(report, state, &loaded.scenario)
}

/// Refuses absurd requests and warns about very long ones before anything runs.
pub(crate) fn check_size(
    loaded: &Loaded,
    trials: u64,
    threads: usize,
    sampler: SamplerKind,
    quiet: bool,
) -> Result<()> {
    let work = trials as f64 * loaded.model.n_precincts() as f64;
    if work > 1e16 {
        return Err(Error::Usage(format!(
            "--trials {trials} x {} precincts is {work:.1e} precinct-trials, beyond any machine (limit 1e16); \
             use fewer trials or split the run",
            loaded.model.n_precincts()
        )));
    }
    let need = memory_needed(
        loaded.model.n_precincts(),
        threads,
        loaded.model.inverse.is_some(),
    );
    if let Some(have) = memory_available() {
        check_memory(need, have)?;
    }
    // Conservative precinct-trials per second per thread: about two thirds of the slowest rate
    // docs/performance.md records for each sampler since 0.4.0 (on 1 thread of a shared 2-core
    // machine: exact 1.5e6, fast 5.2e6, pooled 1.5e7).
    let rate = match sampler {
        SamplerKind::Exact => 1e6,
        SamplerKind::Fast => 3.5e6,
        SamplerKind::Pooled => 1e7,
    };
    let hours = work / (rate * threads as f64) / 3600.0;
    if hours > 1.0 && !quiet {
        eprintln!(
            "warning: {trials} trials may take about {hours:.0} hours on {threads} threads; memory stays flat, Ctrl-C stops it"
        );
    }
    Ok(())
}

/// Bytes a run needs, whatever its trial count: a fit to the peak memory measured by
/// benches/limits.sh (docs/performance.md), not a bound: 8 MiB for the program and the sums, the
/// precinct layout (12 bytes a precinct), two bytes a precinct per thread (the per-trial flags
/// and the pooled sampler's tables), and for the inverse question 8 more a precinct (its
/// observers) and 24 MiB (its figures, drawn as PNG). From ten thousand to ten million precincts
/// and one to eight threads, the estimate is 0.9-1.7 times the peak (`tests/outputs.rs` holds it
/// within 2x).
pub(crate) fn memory_needed(precincts: u64, threads: usize, inverse: bool) -> f64 {
    let (fixed, per_precinct) = if inverse { (32.0, 20.0) } else { (8.0, 12.0) };
    fixed * 1024.0 * 1024.0 + (per_precinct + 2.0 * threads as f64) * precincts as f64
}

/// Bytes in MiB, as the timing block records memory.
fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

/// The most memory this process has held so far (Linux: VmHWM in /proc/self/status), in bytes.
pub(crate) fn memory_peak() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Memory this machine has available now (Linux: MemAvailable in /proc/meminfo), in bytes.
pub(crate) fn memory_available() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Refuses a run that would need more memory than the machine has available, before it starts.
pub(crate) fn check_memory(need: f64, have: f64) -> Result<()> {
    let gib = |b: f64| b / (1024.0 * 1024.0 * 1024.0);
    if need > have {
        return Err(Error::Usage(format!(
            "this run needs about {:.1} GiB of memory (precincts x threads) but {:.1} GiB are available; \
             use fewer --threads or a scenario with fewer precincts",
            gib(need),
            gib(have)
        )));
    }
    Ok(())
}

/// What to simulate, and how.
pub struct Job {
    pub trials: u64,
    pub seed: u64,
    pub threads: usize,
    pub quiet: bool,
    pub sampler: SamplerKind,
}

/// Continues `state` up to trial `end` of the job's run; returns the report of the trials in the
/// state and the state. The report is marked partial if the run stopped before `end`.
pub fn simulate_range(
    loaded: &Loaded,
    job: &Job,
    state: answer::State,
    end: u64,
) -> Result<(RunReport, answer::State)> {
    let first = state.done;
    let bar = crate::cli::terminal::progress_bar(end - state.first, job.quiet, "");
    let started = Instant::now();
    let plan = Plan {
        trials: job.trials,
        seed: job.seed,
        threads: job.threads,
        sampler: job.sampler,
    };
    let offset = state.first;
    bar.set_position(first - offset);
    let state = answer::estimate_until(&loaded.model, &plan, state, end, |done| {
        bar.set_position(done - offset)
    });
    bar.finish_and_clear();
    let mut ran = state.done - first;
    let mut report = report_of(loaded, job.seed, job.trials, job.sampler, &state);
    if state.done < end {
        report.partial = Some(run::PartialInfo {
            trials_done: state.done - state.first,
            first_trial: state.first,
            shard: None,
        });
    } else if state.first == 0 && end == job.trials {
        // A whole run (not a shard, even the first: `merge` makes the pass): the prior pass is
        // part of its time and of its rate.
        ran += add_odds(loaded, &plan, job.quiet, &mut report);
    }
    let elapsed = started.elapsed().as_secs_f64();
    report.timing = Some(Timing {
        elapsed_seconds: elapsed,
        threads: job.threads,
        trials_per_second: ran as f64 / elapsed,
        precinct_trials_per_second: (ran * loaded.model.n_precincts()) as f64 / elapsed,
        peak_memory_mib: memory_peak().map(mib),
        memory_estimate_mib: Some(mib(memory_needed(
            loaded.model.n_precincts(),
            job.threads,
            loaded.model.inverse.is_some(),
        ))),
    });
    Ok((report, state))
}

/// Adds to a complete inverse run's report how far the evidence moved the odds of its headline
/// (`question::odds`), after a pass of elections from the priors alone, with its own progress
/// bar; returns the trials that pass simulated (0 for a forward run or one with no answer).
pub(crate) fn add_odds(loaded: &Loaded, plan: &Plan, quiet: bool, report: &mut RunReport) -> u64 {
    let headline = report.results.p_any_true_cross;
    let Some(inv) = report.inverse.as_mut() else {
        return 0;
    };
    if inv.ess < 1.0 {
        return 0;
    }
    let n = plan.trials.min(odds::PRIOR_TRIALS);
    // `--stop-after` counts the run's own trials, which are all done; the pass's are numbered
    // far beyond them.
    engine::STOP_AFTER.store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
    let bar = crate::cli::terminal::progress_bar(n, quiet, "from the priors alone");
    let prior = odds::prior_probability(&loaded.model, plan, |done| bar.set_position(done));
    bar.finish_and_clear();
    if prior.is_none() {
        eprintln!(
            "stopped during the pass from the priors alone: the complete result is written without the Bayes factor"
        );
    }
    inv.odds = prior.and_then(|(p, n)| odds::odds(&headline, &p, n));
    n
}

/// Refuses a complete inverse result with less than one effective trial: its every figure would
/// be NaN (0/0), so nothing is written and the message says what to change.
pub(crate) fn has_answer(loaded: &Loaded, report: &run::RunReport) -> Result<()> {
    let Some(inv) = &report.inverse else {
        return Ok(());
    };
    if inv.ess >= 1.0 {
        return Ok(());
    }
    let fingerprint = if inv.fingerprint.is_some() {
        " or inference.protocols.tolerance"
    } else {
        ""
    };
    Err(Error::NoAnswer(format!(
        "{}: no answer: none of the {} trials came near the official result (effective sample size {:.2}), so nothing was written. Widen inference.tolerance{fingerprint} (now {:.4} points), run more trials (--trials), or check the official votes against the priors (recount show {})",
        loaded.path.display(),
        report.provenance.trials,
        inv.ess,
        inv.tolerance_pp,
        loaded.path.display()
    )))
}

/// The report of the trials in `state` (without timing).
pub(crate) fn report_of(
    loaded: &Loaded,
    seed: u64,
    trials: u64,
    sampler: SamplerKind,
    state: &answer::State,
) -> RunReport {
    let results = state.acc.results(&loaded.model);
    let inverse = answer::summarize(&loaded.model, state);
    let mut report = RunReport::new(loaded, seed, trials, results, inverse);
    report.provenance.sampler = sampler.name().to_string();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_beyond_what_is_available_is_refused_before_running() {
        // Kazakhstan on 2 threads, inverse: under a MiB beyond the fixed 32.
        let kz = memory_needed(9_728, 2, true);
        assert!(kz < 33.0 * 1024.0 * 1024.0, "{kz}");
        assert!(check_memory(kz, 1e9).is_ok());
        // The largest scenario allowed, on 64 threads, on a 4 GiB machine.
        let big = memory_needed(crate::model::MAX_PRECINCTS, 64, true);
        let err = check_memory(big, 4.0 * 1024.0 * 1024.0 * 1024.0).unwrap_err();
        assert!(err.to_string().contains("GiB are available"), "{err}");
        assert!(err.to_string().contains("--threads"), "{err}");
    }
}
