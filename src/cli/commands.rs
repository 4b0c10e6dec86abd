//! The `sweep`, `precincts` and `report` commands: flags in, library calls, files and a short
//! summary out. Kept apart from `app` so each command's glue sits in one place.

use crate::cli::app::emit;
use crate::cli::args::{PrecinctsArgs, ReportArgs, SweepArgs};
use crate::error::{Error, Result};
use crate::export::curve::{self, SweepReport};
use crate::export::plot;
use crate::export::write::write_atomic;
use crate::model::load;
use crate::question::sweep::{self, AxisFlags, AxisSpec, Param, Spec};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;

/// Worker threads from the flag (default: all cores).
fn threads(flag: Option<usize>) -> Result<usize> {
    match flag {
        Some(0) => Err(Error::Usage("--threads must be at least 1".into())),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// A progress bar on stderr over `total` trials (hidden with --quiet; indicatif hides it by
/// itself when stderr is not a terminal).
fn progress_bar(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} trials {what} ({{per_sec}}, ETA {{eta}})"
        ))
        .expect("valid template"),
    );
    b
}

/// The axis the flags describe (the flag suffix is "" or "2").
fn axis(
    from: Option<f64>,
    to: Option<f64>,
    steps: Option<u64>,
    step: Option<f64>,
    values: &Option<Vec<f64>>,
    suffix: &'static str,
) -> Result<Vec<f64>> {
    let spec = match (values, from, to, steps, step) {
        (Some(v), ..) => AxisSpec::Values(v.clone()),
        (None, Some(from), Some(to), Some(steps), None) => AxisSpec::Steps { from, to, steps },
        (None, Some(from), Some(to), None, Some(step)) => AxisSpec::Step { from, to, step },
        (None, Some(_), Some(_), None, None) => {
            return Err(Error::Usage(format!(
                "a range needs --steps{suffix} (how many equal steps) or --step{suffix} (the step size)"
            )));
        }
        _ => {
            return Err(Error::Usage(format!(
                "give --from{suffix} A --to{suffix} B --steps{suffix} N, or --values{suffix} A,B,C"
            )));
        }
    };
    spec.points(AxisFlags { suffix })
}

/// Turns the flags into a validated sweep.
pub fn sweep_spec(args: &SweepArgs, base: &load::Loaded) -> Result<Spec> {
    let a = &args.axis;
    let param = Param::resolve(base, &args.param)?;
    let xs = axis(a.from, a.to, a.steps, a.step, &a.values, "")?;
    let second = match &args.param2 {
        Some(p2) => {
            let b = &args.axis2;
            let p2 = Param::resolve(base, p2).map_err(|e| match e {
                Error::Usage(m) => Error::Usage(m.replacen("--param ", "--param2 ", 1)),
                other => other,
            })?;
            Some((
                p2,
                axis(b.from2, b.to2, b.steps2, b.step2, &b.values2, "2")?,
            ))
        }
        None => None,
    };
    Spec::new(
        param,
        xs,
        second,
        args.trials.unwrap_or(base.model.trials),
        args.seed.unwrap_or(base.model.seed),
        threads(args.threads)?,
    )
    .map(|spec| spec.with_sampler(args.sampler))
}

/// The folder a sweep's files go to.
pub fn sweep_dir(out: &Path, scenario: &str, spec: &Spec) -> std::path::PathBuf {
    let mut name = format!("sweep-{}", spec.param.slug());
    if let Some(p2) = &spec.param2 {
        name.push('-');
        name.push_str(&p2.slug());
    }
    if spec.sampler != crate::sample::exact::SamplerKind::Exact {
        // Kept apart from the exact sweep's files, as `run` does with run-<seed>-<trials>-fast.
        name.push('-');
        name.push_str(spec.sampler.name());
    }
    out.join(scenario).join(name)
}

/// `recount sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let base = load::load(&args.scenario)?;
    let spec = sweep_spec(args, &base)?;
    // Validate every point's scenario before simulating anything.
    sweep::prepare(&spec, &base)?;
    let bar = progress_bar(
        spec.len() as u64 * spec.trials,
        args.quiet,
        &format!("over {} points", spec.len()),
    );
    let points = sweep::run(&spec, &base, |done| bar.set_position(done))?;
    bar.finish_and_clear();
    let mut report = SweepReport::new(&base, &spec, points);
    let sentences = if args.tipping {
        let tips = sweep::tipping(&spec, &report.points, args.measure);
        let focus: Vec<String> = report.points[0].results.focus.clone();
        let text = sweep::tipping_sentences(&spec, &tips, &focus, base.model.threshold);
        report.tipping = Some(tips);
        text
    } else {
        String::new()
    };
    let dir = sweep_dir(&args.out, &base.name, &spec);
    write_atomic(&dir.join("curve.csv"), curve::to_csv(&report).as_bytes())?;
    write_atomic(&dir.join("curve.json"), curve::to_json(&report).as_bytes())?;
    let svg_path = dir.join("curve.svg");
    let svg =
        plot::sweep_figure(&report).map_err(|e| Error::io(&svg_path, std::io::Error::other(e)))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    if args.json {
        return emit(&curve::to_json(&report));
    }
    let mut text = curve::to_table(&report);
    if !sentences.is_empty() {
        text.push('\n');
        text.push_str(&sentences);
    }
    text.push_str(&format!(
        "Curves written to {}/curve.{{csv,json,svg}}\n",
        dir.display()
    ));
    emit(&text)
}

/// `recount precincts`.
pub fn precincts(args: &PrecinctsArgs) -> Result<()> {
    let loaded = load::load(&args.scenario)?;
    let seed = args.seed.unwrap_or(loaded.model.seed);
    if !(2..=500).contains(&args.bins) {
        return Err(Error::Usage(format!(
            "--bins must be between 2 and 500 (got {})",
            args.bins
        )));
    }
    if args.sampler == crate::sample::exact::SamplerKind::Pooled {
        return Err(Error::Usage(
            "--sampler pooled draws no precinct counts (it pools their ballot-level noise over \
             the country); replay with --sampler fast (the same precinct-level draws) or exact"
                .to_string(),
        ));
    }
    let election = crate::export::precincts::replay(&loaded.model, seed, args.trial, args.sampler);
    let dir = args.out.join(&loaded.name);
    let mut stem = format!("precincts-{seed}-{}", args.trial);
    // Kept apart from the exact replay's files, as `run` does with run-<seed>-<trials>-fast.
    if args.sampler != crate::sample::exact::SamplerKind::Exact {
        stem.push('-');
        stem.push_str(args.sampler.name());
    }
    let csv_path = dir.join(format!("{stem}.csv"));
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(
        &csv_path,
        crate::export::precincts::to_csv(&loaded.model, &election).as_bytes(),
    )?;
    let svg =
        crate::export::precincts::fingerprint(&loaded.model, &loaded.name, &election, args.bins)
            .map_err(|e| Error::io(&svg_path, std::io::Error::other(e)))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let irregular = election.precincts.iter().filter(|p| p.irregular).count();
    emit(&format!(
        "{}: trial {} of seed {}: {} precincts, {irregular} with irregular counts (prevalence drawn {:.3}).\n\
         Precinct table written to {}\nFingerprint (turnout x {} share, true and reported) written to {}\n",
        loaded.name,
        args.trial,
        seed,
        election.precincts.len(),
        election.draw.prevalence,
        csv_path.display(),
        loaded.model.parties[loaded.model.irregular.beneficiary].id,
        svg_path.display()
    ))
}

/// Files in `dir` whose names start with `prefix` and end with `suffix`, sorted by name.
fn files(dir: &Path, prefix: &str, suffix: &str) -> Vec<std::path::PathBuf> {
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

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// A sweep's figure for the report, captioned from its curve.json.
fn sweep_figure(dir: &Path) -> Result<Option<crate::export::html::Figure>> {
    let svg_path = dir.join("curve.svg");
    if !svg_path.is_file() {
        return Ok(None);
    }
    let svg = read(&svg_path)?;
    let json: serde_json::Value = read(&dir.join("curve.json"))
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
        caption.push_str(&format!("; {t} trials per point, seed {seed}"));
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
    caption.push_str(&format!(" ({}).", dir.display()));
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
    let loaded = load::load(&args.scenario)?;
    let dir = args.out.join(&loaded.name);
    // The newest run of this scenario, or a fresh one.
    let mut runs: Vec<(std::time::SystemTime, std::path::PathBuf)> = files(&dir, "run-", ".json")
        .into_iter()
        .map(|p| {
            (
                std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH),
                p,
            )
        })
        .collect();
    runs.sort();
    let mut notes = String::new();
    let run_path = match runs.pop() {
        Some((_, p)) => p,
        None => {
            let trials = args.trials.unwrap_or(loaded.model.trials);
            if trials == 0 {
                return Err(Error::Usage("--trials must be at least 1".into()));
            }
            let seed = loaded.model.seed;
            let report = crate::cli::app::simulate(
                &loaded,
                trials,
                seed,
                threads(args.threads)?,
                args.quiet,
            )?;
            let p = dir.join(format!("run-{seed}-{trials}.json"));
            write_atomic(&p, crate::export::run::to_json(&report, true).as_bytes())?;
            write_atomic(
                &p.with_extension("csv"),
                crate::export::run::to_csv(&report).as_bytes(),
            )?;
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
    let mut fingerprints = Vec::new();
    for p in files(&dir, "precincts-", ".svg") {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        fingerprints.push(crate::export::html::Figure {
            id: stem.clone(),
            title: format!("Precincts: {}", stem.trim_start_matches("precincts-")),
            caption: format!(
                "Precincts by turnout and the beneficiary's share of valid votes (2-D histogram, darker = more precincts, log scale), true count left, reported count right ({}; table in {}).",
                p.display(),
                p.with_extension("csv").display()
            ),
            svg: read(&p)?,
        });
    }
    let page = crate::export::html::Page {
        loaded: &loaded,
        run: &run,
        run_file: run_path.display().to_string(),
        sweeps,
        fingerprints,
    };
    let html = crate::export::html::render(&page);
    let out = dir.join("report.html");
    write_atomic(&out, html.as_bytes())?;
    emit(&format!(
        "{notes}Report on {} ({} sweep figures, {} precinct fingerprints) written to {}\n",
        loaded.name,
        page.sweeps.len(),
        page.fingerprints.len(),
        out.display()
    ))
}
