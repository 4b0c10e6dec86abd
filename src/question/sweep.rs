//! Sweeps: the same scenario run at many values of one or two of its numbers.
//!
//! A swept number is named by its dotted path in the scenario's JSON (`threshold`,
//! `irregularities.prevalence`, `irregularities.transfer.intensity.beta[0]`,
//! `regions[15].turnout`). Each point is the scenario with that number replaced, re-validated by
//! `Loaded::new` exactly as if it had been read from a file, and run by `answer::estimate` with the
//! same seed as every other point: common random numbers (see `docs/sweeps.md`). Nothing here
//! knows about the command line or the terminal; `commands` does the printing and `curve`/`plot` the
//! exporting.

use crate::engine::Plan;
use crate::engine::summary::Results;
use crate::error::{Error, Result};
use crate::model::load::Loaded;
use crate::numeric::math;
use crate::numeric::stats::Estimate;
use crate::question::answer;
use crate::sample::kind::SamplerKind;
use serde::Serialize;
use serde_json::Value;

/// Most points a sweep may have (the product of both axes in a 2-D sweep).
pub const MAX_POINTS: usize = 1000;
/// Most simulated elections a sweep may run in all (points x trials).
pub const MAX_TOTAL_TRIALS: u64 = 1_000_000_000;

/// Paths that are not assumptions about the election and cannot be swept.
const NOT_SWEEPABLE: [&str; 2] = ["run.trials", "run.seed"];

/// Friendly names for the numbers people sweep most, and what they stand for.
const ALIASES: [(&str, &str); 3] = [
    ("prevalence", "irregularities.prevalence"),
    ("threshold", "threshold.value"),
    ("observers", OBSERVERS),
];

/// The observers' sample size: `irregularities.prevalence.observed.of`, with `negative` scaled so
/// the observed rate stays what the scenario says (rounded to a whole count).
const OBSERVERS: &str = "irregularities.prevalence.observed.of (at the same observed rate)";

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// What setting a parameter does to the scenario JSON.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// Replace the number at this path.
    Number,
    /// The path names a prior (`uniform`, `beta` or `observed`): fix it at the value.
    FixPrior,
    /// The observers' sample size at the same observed rate.
    Observers,
}

/// A sweepable number of a scenario, resolved against that scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// What the user typed.
    pub given: String,
    /// The canonical dotted path (`irregularities.prevalence`, `threshold.value`, ...).
    pub path: String,
    /// The value in the scenario as written (for a prior: its mean), where there is one.
    pub base: Option<f64>,
    segs: Vec<Seg>,
    action: Action,
}

fn parse_path(text: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    for part in text.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        } else if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let close = rest.find(']')?;
            if !rest.starts_with('[') {
                return None;
            }
            segs.push(Seg::Index(rest[1..close].trim().parse().ok()?));
            rest = &rest[close + 1..];
        }
    }
    (!segs.is_empty()).then_some(segs)
}

fn format_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn get<'v>(v: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    segs.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    })
}

fn get_mut<'v>(v: &'v mut Value, segs: &[Seg]) -> Option<&'v mut Value> {
    segs.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    })
}

/// Whether a JSON object is a prior that can be fixed (has a source and a distribution).
fn is_prior(v: &Value) -> bool {
    v.get("source").is_some()
        && ["uniform", "beta", "observed"]
            .iter()
            .any(|k| v.get(*k).is_some())
}

/// The mean of a prior object as written (for `base`).
fn prior_mean(v: &Value) -> Option<f64> {
    let pair = |k: &str| -> Option<(f64, f64)> {
        let a = v.get(k)?;
        Some((a.get(0)?.as_f64()?, a.get(1)?.as_f64()?))
    };
    if let Some((lo, hi)) = pair("uniform") {
        return Some(0.5 * (lo + hi));
    }
    if let Some((a, b)) = pair("beta") {
        return Some(a / (a + b));
    }
    let o = v.get("observed")?;
    let (k, n) = (o.get("negative")?.as_f64()?, o.get("of")?.as_f64()?);
    Some((k + 1.0) / (n + 2.0))
}

impl Param {
    /// Resolves `given` against a scenario, or explains which paths exist.
    pub fn resolve(loaded: &Loaded, given: &str) -> Result<Param> {
        let value = serde_json::to_value(&loaded.scenario).expect("a scenario serialises");
        let flag_err = |why: String| {
            Error::Usage(format!(
                "--param {given}: {why}\n{}",
                sweepable_listing(&value)
            ))
        };
        let target = ALIASES
            .iter()
            .find(|(alias, _)| *alias == given)
            .map_or(given, |(_, path)| *path);
        if target == OBSERVERS {
            let segs = parse_path("irregularities.prevalence.observed.of").expect("valid");
            let Some(n) = get(&value, &segs).and_then(Value::as_f64) else {
                return Err(flag_err(
                    "this scenario's prevalence is not an observers' sample (`observed`)".into(),
                ));
            };
            return Ok(Param {
                given: given.to_string(),
                path: "observers".to_string(),
                base: Some(n),
                segs,
                action: Action::Observers,
            });
        }
        let Some(segs) = parse_path(target) else {
            return Err(flag_err(
                "not a dotted path (write e.g. `irregularities.transfer.intensity.beta[0]`)".into(),
            ));
        };
        // Friendly form: the `irregularities.` or `count_errors.` prefix may be left out.
        let mut candidates = vec![segs.clone()];
        for prefix in ["irregularities", "count_errors"] {
            if segs.first() != Some(&Seg::Key(prefix.into())) {
                let mut with = vec![Seg::Key(prefix.into())];
                with.extend(segs.iter().cloned());
                candidates.push(with);
            }
        }
        for segs in candidates {
            let Some(node) = get(&value, &segs) else {
                continue;
            };
            let path = format_path(&segs);
            if NOT_SWEEPABLE.contains(&path.as_str()) {
                return Err(flag_err(format!(
                    "`{path}` is not an assumption; use --trials or --seed instead"
                )));
            }
            let (segs, action, base) = if node.is_number() {
                (segs, Action::Number, node.as_f64())
            } else if node.get("value").is_some_and(Value::is_number) {
                let mut s = segs;
                s.push(Seg::Key("value".into()));
                (s, Action::Number, node["value"].as_f64())
            } else if is_prior(node) {
                (segs, Action::FixPrior, prior_mean(node))
            } else {
                return Err(flag_err(format!("`{path}` is not a number or a prior")));
            };
            return Ok(Param {
                given: given.to_string(),
                path: format_path(&segs),
                base,
                segs,
                action,
            });
        }
        Err(flag_err(format!(
            "no number at `{given}` in scenario {}",
            loaded.name
        )))
    }

    /// A short, file-name-safe form of the path (`regions[15].turnout` -> `regions.15.turnout`).
    pub fn slug(&self) -> String {
        self.path
            .chars()
            .filter_map(|c| match c {
                '[' => Some('.'),
                ']' => None,
                c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' => Some(c),
                _ => Some('_'),
            })
            .collect()
    }

    /// Sets the parameter to `x` in a scenario's JSON.
    fn apply(&self, v: &mut Value, x: f64) -> Result<()> {
        let bad = || {
            Error::Usage(format!(
                "--param {}: cannot set {} to {x}",
                self.given, self.path
            ))
        };
        let num = serde_json::Number::from_f64(x).ok_or_else(bad)?;
        match self.action {
            Action::Number => *get_mut(v, &self.segs).ok_or_else(bad)? = Value::Number(num),
            Action::FixPrior => {
                let node = get_mut(v, &self.segs).ok_or_else(bad)?;
                let source = node
                    .get("source")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                *node = serde_json::json!({
                    "value": num,
                    "source": format!("recount sweep: fixed at {x} (was: {source})"),
                });
            }
            Action::Observers => {
                let obs = get_mut(v, &self.segs[..self.segs.len() - 1]).ok_or_else(bad)?;
                let k = obs["negative"].as_f64().ok_or_else(bad)?;
                let n = obs["of"].as_f64().ok_or_else(bad)?;
                obs["of"] = Value::Number(num);
                let scaled = (k / n * x).round();
                obs["negative"] = serde_json::Number::from_f64(scaled)
                    .map(Value::Number)
                    .ok_or_else(bad)?;
            }
        }
        Ok(())
    }
}

/// Every sweepable path of a scenario, one a line; region and party indices folded into `[i]`.
pub fn sweepable_paths(value: &Value) -> Vec<String> {
    fn walk(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if is_prior(v) {
                    out.push(format!("{path} (a prior: sweeping fixes it)"));
                }
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{path}[{i}]"), out);
                }
            }
            Value::Number(_) if !NOT_SWEEPABLE.contains(&path.as_str()) => out.push(path),
            _ => {}
        }
    }
    let mut all = Vec::new();
    walk(value, String::new(), &mut all);
    let mut folded: Vec<String> = Vec::new();
    for p in all {
        let f = fold_index(&fold_index(&p, "regions"), "parties");
        if !folded.contains(&f) {
            folded.push(f);
        }
    }
    folded
}

/// `regions[3].x` -> `regions[i].x`.
fn fold_index(path: &str, array: &str) -> String {
    let open = format!("{array}[");
    match path
        .strip_prefix(&open)
        .and_then(|rest| rest.find(']').map(|i| &rest[i..]))
    {
        Some(rest) => format!("{array}[i{rest}"),
        None => path.to_string(),
    }
}

fn sweepable_listing(value: &Value) -> String {
    let n_regions = value["regions"].as_array().map_or(0, Vec::len);
    let n_parties = value["parties"].as_array().map_or(0, Vec::len);
    let mut s = format!(
        "Sweepable paths (regions[i]: i = 0..{}, parties[i]: i = 0..{}; a path naming a number \
         object such as `threshold` means its `.value`; `irregularities.` or `count_errors.` may be left out):\n",
        n_regions.saturating_sub(1),
        n_parties.saturating_sub(1)
    );
    for (alias, path) in ALIASES {
        s.push_str(&format!("  {alias:<12} = {path}\n"));
    }
    for p in sweepable_paths(value) {
        s.push_str(&format!("  {p}\n"));
    }
    s
}

/// The values of one axis, as the user asked for them.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisSpec {
    /// From `from` to `to` (both included) in `steps` equal steps: steps + 1 points.
    Steps { from: f64, to: f64, steps: u64 },
    /// From `from` to `to` by `step` (to is included when it is a whole number of steps away).
    Step { from: f64, to: f64, step: f64 },
    /// An explicit list.
    Values(Vec<f64>),
}

/// The flag names of an axis, for error messages (`--from` or `--from2`).
#[derive(Debug, Clone, Copy)]
pub struct AxisFlags {
    pub suffix: &'static str,
}

impl AxisSpec {
    /// The points, computed as start + i * step (no accumulated drift), or an error naming the
    /// flag to fix.
    pub fn points(&self, flags: AxisFlags) -> Result<Vec<f64>> {
        let sfx = flags.suffix;
        fn usage<T>(m: String) -> Result<T> {
            Err(Error::Usage(m))
        }
        let check_range = |from: f64, to: f64| -> Result<()> {
            if !from.is_finite() || !to.is_finite() {
                return usage(format!("--from{sfx} and --to{sfx} must be finite numbers"));
            }
            if from >= to {
                return usage(format!(
                    "empty range: --from{sfx} {from} is not below --to{sfx} {to}; give --from{sfx} < --to{sfx}, or --values{sfx} {from} for a single point"
                ));
            }
            Ok(())
        };
        let too_many = |n: f64| -> Result<()> {
            if n > MAX_POINTS as f64 {
                return usage(format!(
                    "too many points: this range has {n} points, at most {MAX_POINTS} are allowed; use fewer --steps{sfx} or a larger --step{sfx}"
                ));
            }
            Ok(())
        };
        match *self {
            AxisSpec::Steps { from, to, steps } => {
                check_range(from, to)?;
                if steps < 1 {
                    return usage(format!(
                        "--steps{sfx} must be at least 1 (the number of equal steps from --from{sfx} to --to{sfx})"
                    ));
                }
                too_many(steps as f64 + 1.0)?;
                let n = steps as usize;
                Ok((0..=n)
                    .map(|i| {
                        if i == n {
                            to
                        } else {
                            from + (to - from) * i as f64 / n as f64
                        }
                    })
                    .collect())
            }
            AxisSpec::Step { from, to, step } => {
                check_range(from, to)?;
                if !(step.is_finite() && step > 0.0) {
                    return usage(format!(
                        "--step{sfx} must be a positive number (got {step})"
                    ));
                }
                let span = (to - from) / step;
                // A last point within 1e-9 steps of `to` counts as `to`.
                let n = (span + 1e-9).floor();
                too_many(n + 1.0)?;
                let n = n as usize;
                Ok((0..=n)
                    .map(|i| {
                        let x = from + step * i as f64;
                        if (x - to).abs() <= 1e-9 * step { to } else { x }
                    })
                    .collect())
            }
            AxisSpec::Values(ref values) => {
                if values.is_empty() {
                    return usage(format!("--values{sfx} needs at least one number"));
                }
                if let Some(x) = values.iter().find(|x| !x.is_finite()) {
                    return usage(format!("--values{sfx}: {x} is not a finite number"));
                }
                too_many(values.len() as f64)?;
                let mut v = values.clone();
                v.sort_by(f64::total_cmp);
                if let Some(w) = v.windows(2).find(|w| w[0] == w[1]) {
                    return usage(format!("--values{sfx} lists {} twice", w[0]));
                }
                Ok(v)
            }
        }
    }
}

/// A validated sweep: the base scenario, one or two parameters and their points.
#[derive(Debug, Clone)]
pub struct Spec {
    pub param: Param,
    pub xs: Vec<f64>,
    pub param2: Option<Param>,
    /// The second axis (one empty value when there is no second parameter).
    pub ys: Vec<f64>,
    pub trials: u64,
    pub seed: u64,
    pub threads: usize,
    /// Exact (the default) or approximate samplers, for every point (see `Spec::with_sampler`).
    pub sampler: SamplerKind,
}

impl Spec {
    /// The same sweep with samplers `kind`.
    pub fn with_sampler(mut self, kind: SamplerKind) -> Spec {
        self.sampler = kind;
        self
    }

    /// Checks the size of the sweep (error names the flags to change).
    pub fn new(
        param: Param,
        xs: Vec<f64>,
        second: Option<(Param, Vec<f64>)>,
        trials: u64,
        seed: u64,
        threads: usize,
    ) -> Result<Spec> {
        if trials == 0 {
            return Err(Error::Usage("--trials must be at least 1".into()));
        }
        let (param2, ys) = match second {
            Some((p, ys)) => (Some(p), ys),
            None => (None, vec![f64::NAN]),
        };
        if param2.as_ref().is_some_and(|p2| p2.path == param.path) {
            return Err(Error::Usage(format!(
                "--param2 {} names the same number as --param",
                param.path
            )));
        }
        let points = xs.len() * ys.len();
        if points > MAX_POINTS {
            return Err(Error::Usage(format!(
                "too many points: {} x {} = {points} points, at most {MAX_POINTS} are allowed; use fewer --steps/--steps2",
                xs.len(),
                ys.len()
            )));
        }
        if (points as u64).saturating_mul(trials) > MAX_TOTAL_TRIALS {
            return Err(Error::Usage(format!(
                "too large: {points} points x {trials} trials is more than {MAX_TOTAL_TRIALS} simulated elections; lower --trials or the number of points"
            )));
        }
        Ok(Spec {
            param,
            xs,
            param2,
            ys,
            trials,
            seed,
            threads,
            sampler: SamplerKind::Exact,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.xs.len() * self.ys.len()
    }

    /// The points in run order: x varies fastest.
    pub fn coords(&self) -> Vec<(f64, Option<f64>)> {
        let two = self.param2.is_some();
        self.ys
            .iter()
            .flat_map(|&y| self.xs.iter().map(move |&x| (x, two.then_some(y))))
            .collect()
    }

    /// The scenario at one point, validated (the error names the field and its allowed range).
    pub fn scenario_at(&self, base: &Loaded, x: f64, y: Option<f64>) -> Result<Loaded> {
        let mut v = serde_json::to_value(&base.scenario).expect("a scenario serialises");
        self.param.apply(&mut v, x)?;
        if let (Some(p2), Some(y)) = (&self.param2, y) {
            p2.apply(&mut v, y)?;
        }
        let scenario = serde_json::from_value(v).map_err(|e| Error::Scenario {
            file: base.path.display().to_string(),
            message: format!("after setting {}: {e}", self.param.path),
        })?;
        let at = match y {
            Some(y) => format!(
                "{} = {x}, {} = {y}",
                self.param.path,
                self.param2.as_ref().map_or("", |p| p.path.as_str())
            ),
            None => format!("{} = {x}", self.param.path),
        };
        Loaded::new(base.name.clone(), base.path.clone(), scenario).map_err(|e| match e {
            Error::Scenario { file, message } => Error::Scenario {
                file,
                message: format!("at {at}: {message}"),
            },
            other => other,
        })
    }
}

/// One point's results.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value2: Option<f64>,
    /// Hash of the scenario at this point.
    pub scenario_hash: String,
    /// Kish effective sample size (the trial count in forward mode).
    pub ess: f64,
    pub results: Results,
}

/// Validates every point's scenario before any simulation, so a bad value fails at once.
pub fn prepare(spec: &Spec, base: &Loaded) -> Result<Vec<(f64, Option<f64>, Loaded)>> {
    spec.coords()
        .into_iter()
        .map(|(x, y)| {
            let loaded = spec.scenario_at(base, x, y)?;
            Ok((x, y, loaded))
        })
        .collect()
}

/// Runs every point with the same seed (common random numbers); `progress(done)` counts trials
/// over the whole sweep.
pub fn run(spec: &Spec, base: &Loaded, mut progress: impl FnMut(u64)) -> Result<Vec<Point>> {
    let prepared = prepare(spec, base)?;
    let plan = Plan {
        trials: spec.trials,
        seed: spec.seed,
        threads: spec.threads,
        sampler: spec.sampler,
    };
    let mut points = Vec::with_capacity(prepared.len());
    for (i, (x, y, loaded)) in prepared.into_iter().enumerate() {
        let offset = i as u64 * spec.trials;
        // `estimate` answers the inverse question for scenarios with observations.
        let state = answer::estimate(&loaded.model, &plan, None, |done| progress(offset + done));
        points.push(Point {
            value: x,
            value2: y,
            scenario_hash: loaded.hash.clone(),
            ess: state.acc.weights.ess(),
            results: state.acc.results(&loaded.model),
        });
    }
    Ok(points)
}

/// The measures a sweep reports for every party and for the focus parties together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// P(true share >= threshold).
    True,
    /// P(reported share >= threshold).
    Reported,
    /// P(truly over the threshold and reported under it).
    Flipped,
    /// P(the votes moved took at least the party's official deficit from it).
    DeficitClosed,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::True,
        Measure::Reported,
        Measure::Flipped,
        Measure::DeficitClosed,
    ];
    /// The measures every scenario has, one panel each in the sweep figures.
    pub const PANELS: [Measure; 3] = [Measure::True, Measure::Reported, Measure::Flipped];

    /// Column value in curve.csv.
    pub fn name(self) -> &'static str {
        match self {
            Measure::True => "p_true_cross",
            Measure::Reported => "p_reported_cross",
            Measure::Flipped => "p_flipped",
            Measure::DeficitClosed => "p_deficit_closed",
        }
    }

    /// Human form, e.g. "truly >= 7%".
    pub fn phrase(self, threshold: f64) -> String {
        let th = format!("{}%", fmt_num(100.0 * threshold));
        match self {
            Measure::True => format!("truly >= {th}"),
            Measure::Reported => format!("reported >= {th}"),
            Measure::Flipped => format!("truly >= {th} and reported under"),
            Measure::DeficitClosed => "had at least its official shortfall taken".to_string(),
        }
    }

    /// This measure for party `j` (None: the focus parties together, "any of them"); None for
    /// `DeficitClosed` where no party in question was officially under the threshold.
    pub fn of(self, r: &Results, party: Option<usize>) -> Option<Estimate> {
        match (self, party) {
            (Measure::True, Some(j)) => Some(r.parties[j].p_true_cross),
            (Measure::Reported, Some(j)) => Some(r.parties[j].p_reported_cross),
            (Measure::Flipped, Some(j)) => Some(r.parties[j].p_flipped),
            (Measure::DeficitClosed, Some(j)) => r.parties[j].p_deficit_closed,
            (Measure::True, None) => Some(r.p_any_true_cross),
            (Measure::Reported, None) => Some(r.p_any_reported_cross),
            (Measure::Flipped, None) => Some(r.p_any_flipped),
            (Measure::DeficitClosed, None) => r.p_any_deficit_closed,
        }
    }
}

/// The series id of the focus parties together, e.g. "nsdp_or_ak_zhol".
pub fn any_focus_id(r: &Results) -> String {
    r.focus.join("_or_")
}

/// Where a curve crosses a level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Crossing {
    pub level: f64,
    /// The parameter value where the estimate crosses the level (linear interpolation between
    /// neighbouring points); None if it never does within the sweep.
    pub value: Option<f64>,
    /// Parameter values between which the 95% band straddles the level around the crossing:
    /// where the upper and the lower CI curves cross it.
    pub range: Option<[f64; 2]>,
    /// Whether the estimate crosses the level more than once (a non-monotone curve).
    pub multiple: bool,
}

/// First x where the piecewise-linear curve (xs, ys) reaches `level`, and how many times it does.
fn first_crossing(xs: &[f64], ys: &[f64], level: f64) -> (Option<f64>, usize) {
    let mut first = None;
    let mut count = 0;
    for i in 0..xs.len().saturating_sub(1) {
        let (a, b) = (ys[i] - level, ys[i + 1] - level);
        if a == 0.0 && i == 0 {
            first = first.or(Some(xs[0]));
            count += 1;
        }
        if (a < 0.0 && b >= 0.0) || (a > 0.0 && b <= 0.0) {
            let t = a / (a - b);
            first = first.or(Some(xs[i] + t * (xs[i + 1] - xs[i])));
            count += 1;
        }
    }
    if xs.len() == 1 && ys[0] == level {
        return (Some(xs[0]), 1);
    }
    (first, count)
}

/// The tipping point of a curve at `level`: the estimate's crossing and the range where the CI
/// band contains the level. Pointwise bands are conservative under common random numbers (the
/// noise shared by neighbouring points does not move the crossing much).
pub fn crossing(xs: &[f64], est: &[Estimate], level: f64) -> Crossing {
    let mid: Vec<f64> = est.iter().map(|e| e.estimate).collect();
    let lo: Vec<f64> = est.iter().map(|e| e.ci95[0]).collect();
    let hi: Vec<f64> = est.iter().map(|e| e.ci95[1]).collect();
    let (value, count) = first_crossing(xs, &mid, level);
    let range = value.map(|v| {
        // The band edges' crossings nearest the estimate's; an edge that never crosses means the
        // band holds the level up to that end of the sweep.
        let near = |ys: &[f64], fallback: f64| -> f64 {
            let mut best: Option<f64> = None;
            for i in 0..xs.len().saturating_sub(1) {
                let (a, b) = (ys[i] - level, ys[i + 1] - level);
                if (a <= 0.0 && b >= 0.0) || (a >= 0.0 && b <= 0.0) {
                    let t = if a == b { 0.0 } else { a / (a - b) };
                    let x = xs[i] + t * (xs[i + 1] - xs[i]);
                    if best.is_none_or(|bx| (x - v).abs() < (bx - v).abs()) {
                        best = Some(x);
                    }
                }
            }
            best.unwrap_or(fallback)
        };
        let rising = mid.last() > mid.first();
        let (first, last) = (xs[0], xs[xs.len() - 1]);
        // Rising curve: the upper band reaches the level first (left), the lower one last.
        let (a, b) = if rising {
            (near(&hi, first), near(&lo, last))
        } else {
            (near(&lo, first), near(&hi, last))
        };
        [a.min(v), b.max(v)]
    });
    Crossing {
        level,
        value,
        range,
        multiple: count > 1,
    }
}

/// The levels `--tipping` reports unless `--levels` names others.
pub const TIPPING_LEVELS: [f64; 3] = [0.05, 0.5, 0.95];

/// Tipping points of one curve.
#[derive(Debug, Clone, Serialize)]
pub struct Tipping {
    /// The series ("nsdp_or_ak_zhol") and measure the tipping point is about.
    pub series: String,
    pub measure: Measure,
    /// The second parameter's value for this curve, in a 2-D sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value2: Option<f64>,
    pub crossings: Vec<Crossing>,
    /// Smallest and largest estimate along the curve.
    pub span: [f64; 2],
    /// The curve does not move beyond its Monte Carlo noise: its span is under 4 of its largest
    /// standard errors, so the parameter does not change this probability.
    pub flat: bool,
}

/// Tipping points of the focus parties together, one per value of the second parameter.
pub fn tipping(spec: &Spec, points: &[Point], measure: Measure, levels: &[f64]) -> Vec<Tipping> {
    let nx = spec.xs.len();
    points
        .chunks(nx)
        .map(|row| {
            let est: Vec<Estimate> = row
                .iter()
                .map(|p| {
                    // A point without the measure (no official deficit there) crosses nothing.
                    measure.of(&p.results, None).unwrap_or(Estimate {
                        estimate: f64::NAN,
                        ci95: [f64::NAN; 2],
                        mcse: f64::NAN,
                    })
                })
                .collect();
            let span = est
                .iter()
                .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], e| {
                    [lo.min(e.estimate), hi.max(e.estimate)]
                });
            let noise = est.iter().map(|e| e.mcse).fold(0.0, f64::max);
            Tipping {
                series: any_focus_id(&row[0].results),
                measure,
                value2: row[0].value2,
                crossings: levels
                    .iter()
                    .map(|&l| crossing(&spec.xs, &est, l))
                    .collect(),
                span,
                flat: span[1] - span[0] <= 4.0 * noise,
            }
        })
        .collect()
}

/// The tipping points in sentences.
pub fn tipping_sentences(
    spec: &Spec,
    tips: &[Tipping],
    focus: &[String],
    threshold: f64,
) -> String {
    let p = &spec.param.path;
    let (lo, hi) = (spec.xs[0], spec.xs[spec.xs.len() - 1]);
    let mut s = String::new();
    for t in tips {
        let what = format!("P({} {})", focus.join(" or "), t.measure.phrase(threshold));
        let at = match (t.value2, &spec.param2) {
            (Some(y), Some(p2)) => format!(" with {} = {}", p2.path, fmt_num(y)),
            _ => String::new(),
        };
        let mut missed = Vec::new();
        for c in &t.crossings {
            match (c.value, c.range) {
                (Some(v), Some([a, b])) => s.push_str(&format!(
                    "{what}{at} reaches {} at {p} = {} (95% band: between {} and {}){}.\n",
                    c.level,
                    fmt_num(v),
                    fmt_num(a),
                    fmt_num(b),
                    if c.multiple {
                        "; the curve crosses this level more than once, this is the first"
                    } else {
                        ""
                    }
                )),
                _ => missed.push(c.level.to_string()),
            }
        }
        if missed.is_empty() {
            continue;
        }
        let levels = match missed.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => unreachable!("missed is not empty"),
        };
        let range = format!("{p} in [{}, {}]", fmt_num(lo), fmt_num(hi));
        let (a, b) = (t.span[0], t.span[1]);
        if !a.is_finite() || !b.is_finite() {
            s.push_str(&format!(
                "{what}{at} is not defined for {range}: no point has a focus party under the threshold in its official count.\n"
            ));
        } else if t.flat {
            s.push_str(&format!(
                "{what}{at} does not reach {levels} for {range}: the curve is flat ({a:.3} to {b:.3}, within its Monte Carlo noise), so {p} does not move this probability. {}\n",
                why_flat(t.measure, p)
            ));
        } else {
            s.push_str(&format!(
                "{what}{at} does not reach {levels} for {range} (it ranges from {a:.3} to {b:.3}): widen the range (--from, --to) or choose --levels inside it.\n"
            ));
        }
    }
    s
}

/// Why a curve may not move, and which measure would.
fn why_flat(measure: Measure, path: &str) -> &'static str {
    let acts_on_the_count = ["irregularities.", "count_errors.", "tabulation."]
        .iter()
        .any(|p| path.starts_with(p));
    match measure {
        Measure::True if acts_on_the_count => {
            "The true shares are drawn before any irregularity or error acts, so in a forward scenario they do not depend on it: --measure reported, flipped or deficit-closed follow what it changes."
        }
        _ => "Another --measure may move with it (true, reported, flipped, deficit-closed).",
    }
}

/// A number in at most 4 significant digits, without trailing zeros.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (4 - 1 - math::log10(x.abs()).floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: AxisFlags = AxisFlags { suffix: "" };

    /// A counting error's number is found with or without its `count_errors.` prefix.
    #[test]
    fn count_error_paths_may_leave_out_their_prefix() {
        let mut v: Value = serde_json::from_str(include_str!("../../scenarios/official.json"))
            .expect("a named scenario");
        v["count_errors"] = serde_json::json!({ "slips": {
            "prevalence": { "uniform": [0.0, 0.2], "source": "assumption: test" },
            "size": { "law": "poisson", "mean": { "value": 2.0, "source": "assumption: test" } },
            "to": "other",
        } });
        let scenario = crate::model::load::parse(&v.to_string()).expect("parses");
        let loaded = Loaded::new("t".into(), "t.json".into(), scenario).expect("valid");
        for given in ["slips.prevalence", "count_errors.slips.prevalence"] {
            let p = Param::resolve(&loaded, given).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(p.path, "count_errors.slips.prevalence", "{given}");
        }
    }

    #[test]
    fn paths_parse_and_print() {
        let s = parse_path("irregularities.transfer.intensity.beta[0]").unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s[4], Seg::Index(0));
        assert_eq!(format_path(&s), "irregularities.transfer.intensity.beta[0]");
        assert_eq!(
            format_path(&parse_path("regions[15].turnout").unwrap()),
            "regions[15].turnout"
        );
        assert!(parse_path("a..b").is_none());
        assert!(parse_path("a[x]").is_none());
        assert!(parse_path("").is_none());
    }

    #[test]
    fn points_have_no_drift_and_include_the_end() {
        let p = AxisSpec::Steps {
            from: 0.0,
            to: 1.0,
            steps: 10,
        }
        .points(F)
        .unwrap();
        assert_eq!(p.len(), 11);
        assert_eq!(p[3], 0.3);
        assert_eq!(p[10], 1.0);
        let p = AxisSpec::Step {
            from: 0.0,
            to: 1.0,
            step: 0.1,
        }
        .points(F)
        .unwrap();
        assert_eq!(p.len(), 11);
        assert_eq!(p[10], 1.0);
        assert_eq!(p[7], 0.1 * 7.0);
        let p = AxisSpec::Step {
            from: 0.0,
            to: 1.0,
            step: 0.3,
        }
        .points(F)
        .unwrap();
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn bad_axes_name_the_flag() {
        let err = |a: AxisSpec| a.points(AxisFlags { suffix: "2" }).unwrap_err().to_string();
        assert!(
            err(AxisSpec::Steps {
                from: 1.0,
                to: 0.0,
                steps: 3
            })
            .contains("empty range: --from2")
        );
        assert!(
            err(AxisSpec::Steps {
                from: 0.0,
                to: 1.0,
                steps: 0
            })
            .contains("--steps2 must be at least 1")
        );
        assert!(
            err(AxisSpec::Step {
                from: 0.0,
                to: 1.0,
                step: 0.0
            })
            .contains("--step2 must be a positive")
        );
        assert!(
            err(AxisSpec::Step {
                from: 0.0,
                to: 1.0,
                step: 1e-6
            })
            .contains("too many points")
        );
        assert!(err(AxisSpec::Values(vec![0.1, 0.1])).contains("twice"));
        assert!(err(AxisSpec::Values(vec![])).contains("at least one"));
    }

    #[test]
    fn crossing_interpolates() {
        let xs = [0.0, 1.0, 2.0];
        let e = |p: f64| Estimate {
            estimate: p,
            ci95: [p - 0.1, p + 0.1],
            mcse: 0.05,
        };
        let c = crossing(&xs, &[e(0.2), e(0.4), e(0.8)], 0.5);
        assert!((c.value.unwrap() - 1.25).abs() < 1e-12);
        let [a, b] = c.range.unwrap();
        assert!(a < 1.25 && b > 1.25, "{a} {b}");
        assert!(
            (a - 1.0).abs() < 1e-12 && (b - 1.5).abs() < 1e-12,
            "{a} {b}"
        );
        assert!(!c.multiple);
        assert_eq!(crossing(&xs, &[e(0.2), e(0.3), e(0.4)], 0.5).value, None);
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(fmt_num(0.30000000000000004), "0.3");
        assert_eq!(fmt_num(150.0), "150");
        assert_eq!(fmt_num(0.012345), "0.01235");
    }
}
