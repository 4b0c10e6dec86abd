//! A sweep's results as files: curve.csv (tidy) and curve.json (with provenance).
//!
//! Exporters are pure: a `SweepReport` in, text out. Writing is `output::write_atomic`'s job.

use crate::export::run::Provenance;
use crate::model::load::Loaded;
use crate::question::sweep::{self, Measure, Point, Spec, Tipping};
use serde::Serialize;

/// How common random numbers work, recorded in curve.json and shown in `--help`.
pub const CRN_NOTE: &str = "common random numbers: every point runs with the same seed, so trial t of every point draws from the same stream rng::stream(seed, t) and the precinct layout is the same; differences between points come from the parameter, not from fresh noise";

/// A swept parameter as recorded in outputs.
#[derive(Debug, Clone, Serialize)]
pub struct ParamInfo {
    /// Canonical path in the scenario JSON.
    pub path: String,
    /// As given on the command line.
    pub given: String,
    /// The scenario's own value (a prior's mean), where it has one.
    pub scenario_value: Option<f64>,
    pub values: Vec<f64>,
}

/// Everything a sweep reports.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    #[serde(flatten)]
    pub provenance: Provenance,
    pub common_random_numbers: String,
    pub param: ParamInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param2: Option<ParamInfo>,
    pub points: Vec<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tipping: Option<Vec<Tipping>>,
}

impl SweepReport {
    pub fn new(base: &Loaded, spec: &Spec, points: Vec<Point>) -> SweepReport {
        let info = |p: &sweep::Param, values: &[f64]| ParamInfo {
            path: p.path.clone(),
            given: p.given.clone(),
            scenario_value: p.base,
            values: values.to_vec(),
        };
        let mut provenance = Provenance::new(base, spec.seed, spec.trials);
        provenance.sampler = spec.sampler.name().to_string();
        SweepReport {
            provenance,
            common_random_numbers: CRN_NOTE.to_string(),
            param: info(&spec.param, &spec.xs),
            param2: spec.param2.as_ref().map(|p| info(p, &spec.ys)),
            points,
            tipping: None,
        }
    }

    /// The series of the report: every party (index) and the focus parties together (None), with
    /// their ids.
    pub fn series(&self) -> Vec<(Option<usize>, String)> {
        let Some(first) = self.points.first() else {
            return Vec::new();
        };
        let r = &first.results;
        let mut s: Vec<(Option<usize>, String)> = r
            .parties
            .iter()
            .enumerate()
            .map(|(j, p)| (Some(j), p.id.clone()))
            .collect();
        s.push((None, sweep::any_focus_id(r)));
        s
    }
}

/// Pretty JSON.
pub fn to_json(report: &SweepReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a sweep report serialises");
    s.push('\n');
    s
}

/// Tidy CSV: one row per point, series (party, or the focus parties together) and measure:
/// `value` (and `value2`) of the swept number(s), the figures, then which number was swept
/// (`param`, `param2`: its path) and the run's provenance on every row, so that many sweeps'
/// files concatenated stay readable.
pub fn to_csv(report: &SweepReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let two = report.param2.is_some();
    let mut header = vec!["value"];
    if two {
        header.push("value2");
    }
    header.extend([
        "party", "measure", "estimate", "ci_low", "ci_high", "mcse", "ess", "param",
    ]);
    if two {
        header.push("param2");
    }
    let stamp = crate::export::run::Stamp::of(&report.provenance);
    header.extend(stamp.names());
    w.write_record(&header)
        .expect("writing to memory cannot fail");
    let mut tail = vec![report.param.path.clone()];
    if let Some(p2) = &report.param2 {
        tail.push(p2.path.clone());
    }
    tail.extend(stamp.values());
    let series = report.series();
    for p in &report.points {
        for (j, id) in &series {
            for m in Measure::ALL {
                let Some(e) = m.of(&p.results, *j) else {
                    continue;
                };
                let mut row = vec![p.value.to_string()];
                if let Some(y) = p.value2 {
                    row.push(y.to_string());
                }
                row.push(crate::export::run::cell(id));
                row.push(m.name().to_string());
                row.extend(
                    [e.estimate, e.ci95[0], e.ci95[1], e.mcse, p.ess].map(|x| x.to_string()),
                );
                row.extend(tail.iter().cloned());
                w.write_record(&row).expect("writing to memory cannot fail");
            }
        }
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

/// A short terminal table: per point, the focus parties together.
pub fn to_table(report: &SweepReport) -> String {
    let Some(first) = report.points.first() else {
        return String::new();
    };
    let focus =
        crate::export::words::party_names(&first.results, &first.results.focus).join(" or ");
    let th = report.provenance.threshold;
    let mut s = format!(
        "{} ({}): sweep of {}{}, {} trials per point, seed {} (common random numbers)\n\
         P({focus} ...): estimate [95% interval]\n",
        report.provenance.scenario.name,
        report.provenance.scenario.title,
        report.param.path,
        report
            .param2
            .as_ref()
            .map(|p| format!(" x {}", p.path))
            .unwrap_or_default(),
        report.provenance.trials,
        report.provenance.seed,
    );
    let col = |m: Measure| m.phrase(th);
    // The measures this scenario has (the deficit only where a focus party was officially under).
    let measures: Vec<Measure> = Measure::ALL
        .into_iter()
        .filter(|m| m.of(&first.results, None).is_some())
        .collect();
    s.push_str(&format!("{:>12}", "value"));
    if report.param2.is_some() {
        s.push_str(&format!(" {:>12}", "value2"));
    }
    for &m in &measures {
        s.push_str(&format!(" {:>36}", col(m)));
    }
    s.push_str(&format!(" {:>10}\n", "ESS"));
    for p in &report.points {
        s.push_str(&format!("{:>12}", sweep::fmt_num(p.value)));
        if let Some(y) = p.value2 {
            s.push_str(&format!(" {:>12}", sweep::fmt_num(y)));
        }
        for &m in &measures {
            let cell = match m.of(&p.results, None) {
                Some(e) => format!("{:.3} [{:.3}, {:.3}]", e.estimate, e.ci95[0], e.ci95[1]),
                None => "-".to_string(),
            };
            s.push_str(&format!(" {cell:>36}"));
        }
        s.push_str(&format!(" {:>10.0}\n", p.ess));
    }
    s
}
