//! `recount sweep`: flags to a sweep's spec, the sweep run, its curve and figure saved.

use crate::cli::args::SweepArgs;
use crate::cli::options;
use crate::cli::terminal::{emit, progress_bar};
use crate::error::{Error, Result};
use crate::export::curve::{self, SweepReport};
use crate::export::plot;
use crate::export::write::Folder;
use crate::model::load::{self};
use crate::question::sweep::{self, AxisFlags, AxisSpec, Param, Spec};
use std::path::Path;

/// The axis the flags describe (the flag suffix is "" or "2").
pub(crate) fn axis(
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
    let sampler = options::sampler(args.sampler, base)?;
    Spec::new(
        param,
        xs,
        second,
        options::trials(args.trials, base)?,
        options::seed(args.seed, base),
        options::threads(args.threads)?,
    )
    .map(|spec| spec.with_sampler(sampler))
}

/// The folder a sweep's files go to.
pub fn sweep_dir(out: &Path, scenario: &str, spec: &Spec) -> std::path::PathBuf {
    let mut name = format!("sweep-{}", spec.param.slug());
    if let Some(p2) = &spec.param2 {
        name.push('-');
        name.push_str(&p2.slug());
    }
    if spec.sampler != crate::sample::kind::SamplerKind::Exact {
        // Kept apart from the exact sweep's files, as `run` does with run-<seed>-<trials>-fast.
        name.push('-');
        name.push_str(spec.sampler.name());
    }
    out.join(scenario).join(name)
}

/// Whether the sweep whose JSON is at `path` is the one in `json`: the same curves, whatever
/// tipping levels were looked for in them (a choice of reading, not of simulation).
fn same_sweep(path: &Path, json: &str) -> bool {
    let curves = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|mut v| {
                v.as_object_mut().map(|o| o.remove("tipping"));
                v
            })
    };
    let old = std::fs::read_to_string(path).ok();
    old.and_then(|t| curves(&t))
        .is_some_and(|o| Some(o) == curves(json))
}

/// `recount sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let base = crate::cli::options::load(&args.scenario)?;
    let spec = sweep_spec(args, &base)?;
    let tipping = args.tipping || args.levels.is_some();
    let levels = args
        .levels
        .clone()
        .unwrap_or_else(|| sweep::TIPPING_LEVELS.to_vec());
    if let Some(l) = levels.iter().find(|l| !(**l > 0.0 && **l < 1.0)) {
        return Err(Error::Usage(format!(
            "--levels: {l} is not a probability strictly between 0 and 1 (for example --levels 0.1,0.5,0.9)"
        )));
    }
    if tipping
        && matches!(args.measure, crate::cli::args::MeasureArg::DeficitClosed)
        && !crate::engine::summary::any_focus_deficit(&base.model)
    {
        return Err(Error::Usage(format!(
            "--measure deficit-closed needs a focus party the official count left under the threshold, and {} gives none (official_votes of the focus parties)",
            base.name
        )));
    }
    // Validate every point's scenario, and the folder, before simulating anything.
    sweep::prepare(&spec, &base)?;
    let dir = sweep_dir(&args.out, &base.name, &spec);
    Folder::check_writable(&dir)?;
    let bar = progress_bar(
        spec.len() as u64 * spec.trials,
        args.quiet,
        &format!("over {} points", spec.len()),
    );
    let points = sweep::run(&spec, &base, |done| bar.set_position(done))?;
    bar.finish_and_clear();
    let mut report = SweepReport::new(&base, &spec, points);
    let sentences = if tipping {
        let tips = sweep::tipping(&spec, &report.points, args.measure.into(), &levels);
        let first = &report.points[0].results;
        let focus = crate::export::words::party_names(first, &first.focus);
        let text = sweep::tipping_sentences(&spec, &tips, &focus, base.model.threshold);
        report.tipping = Some(tips);
        text
    } else {
        String::new()
    };
    let json = curve::to_json(&report);
    let svg = plot::sweep_figure(&report)
        .map_err(|e| Error::io(dir.join("curve.svg"), std::io::Error::other(e)))?;
    // The curves' JSON is the set's marker: written last, and the same sweep made again
    // replaces it; another one goes to curve.2.*, ...
    let folder = Folder::open(&dir)?;
    let mut set = folder.claim("curve", ".json", |old| args.force || same_sweep(old, &json))?;
    set.write(".csv", curve::to_csv(&report).as_bytes())?;
    set.figure(".svg", &svg)?;
    let stem = set.stem().to_string();
    set.finish(json.as_bytes())?;
    if args.json {
        return emit(&curve::to_json(&report));
    }
    let mut text = curve::to_table(&report);
    if !sentences.is_empty() {
        text.push('\n');
        text.push_str(&sentences);
    }
    text.push_str(&format!(
        "Curves written to {}/{stem}.{{csv,json,svg,png}}\n",
        dir.display()
    ));
    emit(&text)
}
