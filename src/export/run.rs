//! Turning a run's results into what people read: a text table, JSON and CSV.
//!
//! Exporters are pure (results in, text out); writing files is `output`'s job. Only the `timing`
//! block varies between runs of the same seed and trial count; it is left out of `--json` on
//! stdout so that output can be compared byte for byte.

use crate::engine::summary::Results;
use crate::export::words::{self, Answer, Made, group};
use crate::model::load::Loaded;
use crate::numeric::stats::Estimate;
use crate::question::inverse::InverseSummary;
use serde::{Deserialize, Serialize};

/// Provenance of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub name: String,
    /// SHA-256 (16 hex digits) of the scenario's canonical JSON.
    pub hash: String,
    pub title: String,
    pub question: String,
}

/// A run stopped before all its trials (Ctrl-C), or one shard of a run: its figures cover
/// `trials_done` trials, from trial `first_trial` on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PartialInfo {
    pub trials_done: u64,
    pub first_trial: u64,
    /// `recount run --shard i/n`: which share of the run this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::engine::Shard>,
}

/// How long the run took (varies from run to run).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Timing {
    pub elapsed_seconds: f64,
    pub threads: usize,
    pub trials_per_second: f64,
    pub precinct_trials_per_second: f64,
    /// The most memory the run's process held (Linux), to size a cluster job's memory by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_mib: Option<f64>,
    /// What recount estimated it would need before starting (it refuses runs whose estimate
    /// exceeds the memory available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_estimate_mib: Option<f64>,
}

/// Where a result comes from: what every output (run, sweep) records first.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub recount_version: String,
    pub sampler_version: u32,
    /// `exact` or `fast` (approximate binomials, `--sampler fast`).
    pub sampler: String,
    pub generator: String,
    pub scenario: ScenarioInfo,
    /// "forward" or "inverse".
    pub mode: String,
    pub seed: u64,
    pub trials: u64,
    pub precincts: u64,
    pub threshold: f64,
}

impl Provenance {
    pub fn new(loaded: &Loaded, seed: u64, trials: u64) -> Provenance {
        let m = &loaded.model;
        Provenance {
            recount_version: crate::VERSION.to_string(),
            sampler_version: crate::SAMPLER_VERSION,
            // Exact unless `run` or `sweep` overwrites it for `--sampler fast`.
            sampler: crate::sample::kind::SamplerKind::Exact.name().to_string(),
            generator: crate::sample::rng::GENERATOR.to_string(),
            scenario: ScenarioInfo {
                name: loaded.name.clone(),
                hash: loaded.hash.clone(),
                title: loaded.scenario.title.clone(),
                question: loaded.scenario.question.clone(),
            },
            mode: if m.inverse.is_some() {
                "inverse"
            } else {
                "forward"
            }
            .to_string(),
            seed,
            trials,
            precincts: m.n_precincts(),
            threshold: m.threshold,
        }
    }
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub provenance: Provenance,
    pub seats: u32,
    #[serde(flatten)]
    pub results: Results,
    /// Inverse question: effective sample size of the weighted trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ess: Option<f64>,
    /// Inverse question: share of trials within the tolerance of the official result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptance_rate: Option<f64>,
    /// Inverse question: posteriors of the unknowns beside their priors, and diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inverse: Option<InverseSummary>,
    /// Present when the run stopped early: the figures cover only the trials done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// The answer in words (`words::answer`); filled when the report is written, once the
    /// sampler is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

impl RunReport {
    pub fn new(
        loaded: &Loaded,
        seed: u64,
        trials: u64,
        results: Results,
        inverse: Option<InverseSummary>,
    ) -> RunReport {
        RunReport {
            provenance: Provenance::new(loaded, seed, trials),
            seats: loaded.model.seats,
            results,
            ess: inverse.as_ref().map(|i| i.ess),
            acceptance_rate: inverse.as_ref().map(|i| i.acceptance_rate),
            inverse,
            partial: None,
            timing: None,
            answer: None,
        }
    }

    /// The answer in words.
    pub fn answer(&self) -> Answer {
        let p = &self.provenance;
        let made = Made {
            threshold: p.threshold,
            sampler: &p.sampler,
            seed: p.seed,
            trials: p.trials,
        };
        words::answer(&made, &self.results, self.inverse.as_ref())
    }
}

/// Pretty JSON, with or without the timing block.
pub fn to_json(report: &RunReport, with_timing: bool) -> String {
    let mut r = report.clone();
    if !with_timing {
        r.timing = None;
    }
    r.answer = Some(report.answer());
    let mut s = serde_json::to_string_pretty(&r).expect("a report always serialises");
    s.push('\n');
    s
}

/// The per-party table as CSV: one row per party, one column per figure.
pub fn to_csv(report: &RunReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let est = |e: &Estimate| [e.estimate, e.ci95[0], e.ci95[1]];
    // Provenance on every row, so a table of many runs concatenated stays readable.
    let stamp = Stamp::of(&report.provenance);
    w.write_record(
        [
            "party_id",
            "party_name",
            "official_share",
            "true_share_mean",
            "true_share_q05",
            "true_share_q50",
            "true_share_q95",
            "reported_share_mean",
            "reported_share_q05",
            "reported_share_q50",
            "reported_share_q95",
            "p_true_cross",
            "p_true_cross_ci_low",
            "p_true_cross_ci_high",
            "p_reported_cross",
            "p_reported_cross_ci_low",
            "p_reported_cross_ci_high",
            "p_flipped",
            "p_flipped_ci_low",
            "p_flipped_ci_high",
            "expected_seats_true",
            "expected_seats_reported",
            "votes_moved_mean",
            "votes_moved_q05",
            "votes_moved_q50",
            "votes_moved_q95",
            "official_deficit_votes",
            "p_deficit_closed",
            "p_deficit_closed_ci_low",
            "p_deficit_closed_ci_high",
        ]
        .into_iter()
        .chain(stamp.names()),
    )
    .expect("writing to memory cannot fail");
    let provenance: Vec<String> = stamp.values().collect();
    for p in &report.results.parties {
        let mut row = vec![cell(&p.id), cell(&p.name)];
        row.push(p.official_share.map(|x| x.to_string()).unwrap_or_default());
        for s in [&p.true_share, &p.reported_share] {
            row.extend([s.mean, s.q05, s.q50, s.q95].map(|x| x.to_string()));
        }
        for e in [&p.p_true_cross, &p.p_reported_cross, &p.p_flipped] {
            row.extend(est(e).map(|x| x.to_string()));
        }
        row.push(p.expected_seats_true.to_string());
        row.push(p.expected_seats_reported.to_string());
        let m = &p.votes_moved;
        row.extend([m.mean, m.q05, m.q50, m.q95].map(|x| x.round().to_string()));
        row.push(
            p.official_deficit
                .map(|x| x.to_string())
                .unwrap_or_default(),
        );
        match &p.p_deficit_closed {
            Some(e) => row.extend(est(e).map(|x| x.to_string())),
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        row.extend(provenance.iter().cloned());
        w.write_record(&row).expect("writing to memory cannot fail");
    }
    // The headline rows: the focus parties together, "any of them" (the headline) and "all of
    // them", in the same columns, where there are two or more focus parties. Figures that belong
    // to one party (shares, seats, votes moved) are empty there.
    let r = &report.results;
    if r.focus.len() > 1 {
        let names: Vec<&str> = r
            .focus
            .iter()
            .filter_map(|id| r.parties.iter().find(|p| &p.id == id))
            .map(|p| short(&p.name))
            .collect();
        let empty = |n: usize| vec![String::new(); n];
        let opt = |e: &Option<Estimate>| {
            e.as_ref()
                .map_or_else(|| empty(3), |e| est(e).map(|x| x.to_string()).to_vec())
        };
        for (id, name, crosses, reported, flipped, closed) in [
            (
                r.focus.join("_or_"),
                names.join(" or "),
                &r.p_any_true_cross,
                &r.p_any_reported_cross,
                Some(r.p_any_flipped),
                r.p_any_deficit_closed,
            ),
            (
                r.focus.join("_and_"),
                names.join(" and "),
                &r.p_all_true_cross,
                &r.p_all_reported_cross,
                None,
                None,
            ),
        ] {
            let mut row = vec![cell(&id), cell(&name)];
            row.extend(empty(9));
            row.extend(est(crosses).map(|x| x.to_string()));
            row.extend(est(reported).map(|x| x.to_string()));
            row.extend(opt(&flipped));
            row.extend(empty(7));
            row.extend(opt(&closed));
            row.extend(provenance.iter().cloned());
            w.write_record(&row).expect("writing to memory cannot fail");
        }
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

/// The inverse question's headline under the scenario's priors and under each of
/// `inference.alternatives`, as CSV, one row each: the priors changed, the headline with its
/// interval and s.e., the effective sample size, and (for the scenario's own priors, once the
/// prior pass has run) the prior probability and the Bayes factor with its interval.
pub fn headline_csv(report: &RunReport) -> Option<String> {
    let inv = report.inverse.as_ref()?;
    let figures = |e: Option<Estimate>| match e {
        Some(e) => vec![
            e.estimate.to_string(),
            e.ci95[0].to_string(),
            e.ci95[1].to_string(),
            e.mcse.to_string(),
        ],
        None => vec![String::new(); 4],
    };
    let mut own = vec!["the scenario's priors".to_string(), String::new()];
    own.extend(figures(Some(report.results.p_any_true_cross)));
    own.push(inv.ess.to_string());
    match &inv.odds {
        Some(o) => own.extend([
            o.prior.estimate.to_string(),
            o.bayes_factor.to_string(),
            o.bayes_factor_ci95[0].to_string(),
            o.bayes_factor_ci95[1].to_string(),
        ]),
        None => own.extend(vec![String::new(); 4]),
    }
    let mut rows = vec![own];
    for a in &inv.alternatives {
        let mut row = vec![cell(&a.name), cell(&a.priors.join("; "))];
        row.extend(figures(a.headline));
        row.push(a.ess.to_string());
        row.extend(vec![String::new(); 4]);
        rows.push(row);
    }
    Some(stamped_csv(
        report,
        &[
            "under",
            "priors_changed",
            "headline",
            "ci95_low",
            "ci95_high",
            "mcse",
            "ess",
            "prior_probability",
            "bayes_factor",
            "bayes_factor_ci95_low",
            "bayes_factor_ci95_high",
        ],
        rows,
    ))
}

/// A CSV of `header` and `rows`, each ending with the report's provenance columns.
fn stamped_csv(report: &RunReport, header: &[&'static str], rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let stamp = Stamp::of(&report.provenance);
    w.write_record(header.iter().copied().chain(stamp.names()))
        .expect("writing to memory cannot fail");
    for mut row in rows {
        row.extend(stamp.values());
        w.write_record(&row).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

/// The inverse question's table of unknowns as CSV, one row per unknown: its prior and
/// posterior (mean and quantiles), how far the evidence narrowed it, the headline in the two
/// halves of its prior and whether the answer rests on it, and the path `recount sweep` takes;
/// None for a forward run.
pub fn unknowns_csv(report: &RunReport) -> Option<String> {
    let inv = report.inverse.as_ref()?;
    let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let rows = inv
        .parameters
        .iter()
        .map(|p| {
            let d = &p.dependence;
            vec![
                cell(&p.name),
                cell(&p.prior),
                p.prior_mean.to_string(),
                p.prior_q05.to_string(),
                p.prior_q95.to_string(),
                p.posterior.mean.to_string(),
                p.posterior.q05.to_string(),
                p.posterior.q50.to_string(),
                p.posterior.q95.to_string(),
                opt(d.narrowed),
                d.split_at.to_string(),
                opt(d.headline_below.map(|e| e.estimate)),
                opt(d.headline_above.map(|e| e.estimate)),
                d.rests_on_prior.to_string(),
                d.sweep_path.clone(),
            ]
        })
        .collect();
    Some(stamped_csv(
        report,
        &[
            "unknown",
            "prior",
            "prior_mean",
            "prior_q05",
            "prior_q95",
            "posterior_mean",
            "posterior_q05",
            "posterior_q50",
            "posterior_q95",
            "narrowed",
            "split_at",
            "headline_below",
            "headline_above",
            "rests_on_prior",
            "sweep_path",
        ],
        rows,
    ))
}

/// Where a CSV's rows come from, as columns on every row (a table of many files concatenated
/// stays readable): the scenario, its hash, the seed, the trials (or the one trial replayed),
/// the sampler and recount's version. Every CSV recount writes ends with these.
#[derive(Debug, Clone)]
pub struct Stamp(pub Vec<(&'static str, String)>);

impl Stamp {
    /// The stamp of a run or sweep, with the version that made it (a merged shard's result may
    /// be read back by a later build).
    pub fn of(v: &Provenance) -> Stamp {
        Stamp::with_version(
            &v.scenario.name,
            &v.scenario.hash,
            v.seed,
            ("trials", v.trials),
            &v.sampler,
            &v.recount_version,
        )
    }

    /// `count` is ("trials", n) for a run, ("trial", t) for one replayed election.
    pub fn new(
        scenario: &str,
        hash: &str,
        seed: u64,
        count: (&'static str, u64),
        sampler: &str,
    ) -> Stamp {
        Stamp::with_version(scenario, hash, seed, count, sampler, crate::VERSION)
    }

    fn with_version(
        scenario: &str,
        hash: &str,
        seed: u64,
        count: (&'static str, u64),
        sampler: &str,
        version: &str,
    ) -> Stamp {
        Stamp(vec![
            ("scenario", cell(scenario)),
            ("scenario_hash", hash.to_string()),
            ("seed", seed.to_string()),
            (count.0, count.1.to_string()),
            ("sampler", sampler.to_string()),
            ("recount_version", version.to_string()),
        ])
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(k, _)| *k)
    }

    pub fn values(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(|(_, v)| v.clone())
    }

    /// `csv` (a header and rows, as recount's writers make them) with these columns appended,
    /// and every cell that is text, not a number, safe for a spreadsheet (`cell`).
    pub fn onto(&self, csv: &str) -> String {
        let safe = |f: &str| {
            if f.parse::<f64>().is_ok() {
                f.to_string()
            } else {
                cell(f)
            }
        };
        let mut r = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = r
            .headers()
            .expect("recount's own CSV")
            .iter()
            .map(safe)
            .collect();
        header.extend(self.names().map(String::from));
        w.write_record(&header)
            .expect("writing to memory cannot fail");
        for row in r.records() {
            let mut row: Vec<String> = row.expect("recount's own CSV").iter().map(safe).collect();
            row.extend(self.values());
            w.write_record(&row).expect("writing to memory cannot fail");
        }
        String::from_utf8(w.into_inner().expect("flushing memory cannot fail"))
            .expect("CSV is UTF-8")
    }
}

/// The short form of a party name ("NSDP (National ...)" -> "NSDP").
pub(crate) fn short(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name)
}

/// Text for a spreadsheet cell: one starting with `=`, `+`, `-` or `@` would be run as a formula
/// by Excel or LibreOffice, so it gets a leading apostrophe (shown by neither).
pub(crate) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn prob(e: &Estimate) -> String {
    format!("{:.3} [{:.3}, {:.3}]", e.estimate, e.ci95[0], e.ci95[1])
}

/// A headline probability with its Monte Carlo standard error spelled out.
fn headline(e: &Estimate) -> String {
    format!("{}  (Monte Carlo s.e. {:.4})", prob(e), e.mcse)
}

/// What the brackets after a probability are (forward runs).
const PROBABILITIES: &str = "Probabilities: estimate [95% interval]; the interval and the Monte Carlo s.e. measure simulation error alone (more trials narrow them).\n";

/// The same for the inverse question, whose uncertainty about the world is inside the estimate.
const PROBABILITIES_INVERSE: &str = "Probabilities: posterior estimate [95% interval]; the interval and the Monte Carlo s.e. measure simulation error alone (more trials narrow them), the uncertainty about what happened is in the estimate itself.\n";

/// A readable summary for the terminal.
pub fn to_table(report: &RunReport) -> String {
    let r = &report.results;
    let th = pct(report.provenance.threshold);
    let mut out = String::new();
    if let Some(p) = &report.partial {
        let what = match p.shard {
            Some(s) => format!(
                "shard {}/{}, trials {} to {}",
                s.index,
                s.count,
                p.first_trial,
                p.first_trial + p.trials_done
            ),
            None => "stopped early".to_string(),
        };
        out.push_str(&format!(
            "PARTIAL RESULT: {} of {} trials ({what}); the intervals reflect the trials done.\n",
            p.trials_done, report.provenance.trials
        ));
    }
    // The exact samplers are the default and go unsaid; approximate ones are said where the
    // reader looks, not only in the file name.
    let samplers = if report.provenance.sampler == crate::sample::kind::SamplerKind::Exact.name() {
        String::new()
    } else {
        format!(", {} (approximate) samplers", report.provenance.sampler)
    };
    out.push_str(&format!(
        "{} ({})\n{}\n{} trials x {} precincts, seed {}, scenario hash {}{samplers}\n\n",
        report.provenance.scenario.name,
        report.provenance.scenario.title,
        report.provenance.scenario.question,
        report.provenance.trials,
        report.provenance.precincts,
        report.provenance.seed,
        report.provenance.scenario.hash
    ));
    out.push_str(&party_table(r, &th));
    // Prose names parties as readers know them; the tables keep the ids `--param` takes.
    let names = words::party_names(r, &r.focus);
    let focus = names.join(" or ");
    let answer = report.answer();
    out.push_str(&format!("\nThe answer: {}\n", answer.sentence));
    if let Some(o) = &answer.odds {
        out.push_str(&format!("{o}\n"));
    }
    out.push_str(&format!(
        "\nP({focus} truly >= {th}): {}\n",
        headline(&r.p_any_true_cross)
    ));
    if r.focus.len() > 1 {
        out.push_str(&format!(
            "P({} truly >= {th}): {}\n",
            names.join(" and "),
            headline(&r.p_all_true_cross)
        ));
    }
    out.push_str(&format!(
        "P({focus} reported >= {th}): {}\nP({focus} truly over, reported under): {}\n",
        prob(&r.p_any_reported_cross),
        prob(&r.p_any_flipped),
    ));
    if let Some(e) = &r.p_any_deficit_closed {
        out.push_str(&format!(
            "P(the votes moved cover what {focus} officially lacked): {}\n",
            prob(e)
        ));
    }
    out.push_str(&moved_table(r, &th));
    out.push_str(&format!(
        "Turnout true {} / reported {}; irregular counts {} of precincts (means).\n",
        pct(r.true_turnout.mean),
        pct(r.reported_turnout.mean),
        pct(r.irregular_fraction.mean)
    ));
    if let Some(inv) = &report.inverse {
        out.push_str(&inverse_table(inv, &format!("P({focus} truly >= {th})")));
        out.push_str(PROBABILITIES_INVERSE);
    } else {
        out.push_str(PROBABILITIES);
    }
    if let Some(t) = &report.timing {
        out.push_str(&format!(
            "{:.1} s on {} threads ({:.3e} precinct-trials/s).\n",
            t.elapsed_seconds, t.threads, t.precinct_trials_per_second
        ));
    }
    out
}

/// The per-party table: official, true and reported shares, the threshold probabilities, seats.
fn party_table(r: &Results, th: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<12} {:>8} {:>22} {:>22} {:>21} {:>21} {:>21} {:>13}\n",
        "party",
        "official",
        "true share [5%, 95%]",
        "reported [5%, 95%]",
        format!("P(true >= {th})"),
        format!("P(reported >= {th})"),
        "P(flipped)",
        "seats t/r"
    ));
    for p in &r.parties {
        out.push_str(&format!(
            "{:<12} {:>8} {:>22} {:>22} {:>21} {:>21} {:>21} {:>13}\n",
            p.id,
            p.official_share.map(pct).unwrap_or_default(),
            format!(
                "{} [{}, {}]",
                pct(p.true_share.mean),
                pct(p.true_share.q05),
                pct(p.true_share.q95)
            ),
            format!(
                "{} [{}, {}]",
                pct(p.reported_share.mean),
                pct(p.reported_share.q05),
                pct(p.reported_share.q95)
            ),
            prob(&p.p_true_cross),
            prob(&p.p_reported_cross),
            prob(&p.p_flipped),
            format!(
                "{:.1}/{:.1}",
                p.expected_seats_true, p.expected_seats_reported
            )
        ));
    }
    out
}

/// Votes the irregularities moved per party, beside what the official count lacked.
fn moved_table(r: &Results, th: &str) -> String {
    let mut out = format!(
        "\n{:<12} {:>40} {:>24} {:>21}\n",
        "party",
        "votes moved: mean [5%, 95%]",
        format!("official short of {th}"),
        "P(moved cover it)"
    );
    for p in &r.parties {
        let m = &p.votes_moved;
        out.push_str(&format!(
            "{:<12} {:>40} {:>24} {:>21}\n",
            p.id,
            format!(
                "{} [{}, {}]",
                signed_votes(m.mean),
                signed_votes(m.q05),
                signed_votes(m.q95)
            ),
            p.official_deficit
                .map(|d| if d > 0.0 {
                    group(d as u64)
                } else {
                    "reached".into()
                })
                .unwrap_or_default(),
            p.p_deficit_closed.as_ref().map(prob).unwrap_or_default()
        ));
    }
    out.push_str(
        "Votes moved: reported minus true, added to the party (+) or taken from it (-). \
         P(moved cover it): P(at least the official shortfall was taken from the party).\n",
    );
    out
}

/// A vote count rounded, with its sign and thousands separated: "+12,345", "-678", "0".
pub(crate) fn signed_votes(x: f64) -> String {
    if x.is_nan() {
        return "-".into();
    }
    let v = x.round();
    let sign = if v > 0.0 {
        "+"
    } else if v < 0.0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{}", group(v.abs() as u64))
}

/// The inverse question's diagnostics and posteriors, for the terminal; `headline` names the
/// headline probability ("P(nsdp or ak_zhol truly >= 7.00%)").
fn inverse_table(inv: &InverseSummary, headline: &str) -> String {
    let observers = if inv.observed_counts > 0 {
        format!(
            "{} of {} observed counts assessed negatively",
            inv.observed_negative, inv.observed_counts
        )
    } else {
        "no observers' sample".to_string()
    };
    let mut out = format!(
        "\nInverse question: {observers}; tolerance {:.2} points.\n",
        inv.tolerance_pp
    );
    if let Some(f) = &inv.fingerprint {
        let o = &f.observed;
        out.push_str(&format!(
            "Fingerprint of the {} stations that voted (each weighed within the points in brackets): mean turnout {:.2}% [{:.2}], turnout >= 80% in {:.2}% [{:.2}], turnout and the beneficiary's share >= 80% in {:.2}% [{:.2}], correlation {:.3} [{:.2}].\n",
            o.stations,
            100.0 * o.mean_turnout,
            f.bandwidths_pp[0],
            100.0 * o.high_turnout,
            f.bandwidths_pp[1],
            100.0 * o.corner,
            f.bandwidths_pp[2],
            o.correlation,
            f.bandwidths_pp[3]
        ));
    }
    if let Some(r) = &inv.recounts {
        let how = words::selection(r);
        out.push_str(&format!(
            "Recounts: {} stations ({how}), {} with figures that differ from the reported ones; they weigh the counting errors' unknowns ({}).\n",
            r.stations, r.differing, r.file
        ));
    }
    out.push_str(&format!(
        "Effective sample size {:.0}; {:.2}% of trials within the tolerance of every official{} share; {}.\n",
        inv.ess,
        100.0 * inv.acceptance_rate,
        if inv.preliminary.is_empty() { "" } else { " and preliminary" },
        words::tail(inv.pareto_k, inv.pareto_k_limit)
    ));
    out.push_str(&format!(
        "\n{:<36} {:>26} {:>30} {:>9} {:>22}\n",
        "unknown",
        "prior mean [5%, 95%]",
        "posterior mean [5%, 95%]",
        "narrowed",
        "headline below/above"
    ));
    let half = |e: &Option<crate::numeric::stats::Estimate>| {
        e.map_or_else(|| "-".to_string(), |e| format!("{:.3}", e.estimate))
    };
    for p in &inv.parameters {
        let d = &p.dependence;
        out.push_str(&format!(
            "{:<36} {:>26} {:>30} {:>9} {:>22}\n",
            p.name,
            format!(
                "{:.4} [{:.4}, {:.4}]",
                p.prior_mean, p.prior_q05, p.prior_q95
            ),
            format!(
                "{:.4} [{:.4}, {:.4}]",
                p.posterior.mean, p.posterior.q05, p.posterior.q95
            ),
            d.narrowed
                .map_or_else(|| "-".to_string(), |n| format!("{:.0}%", 100.0 * n)),
            format!("{} / {}", half(&d.headline_below), half(&d.headline_above)),
        ));
    }
    out.push_str(&format!(
        "Narrowed: how much the evidence shrank the unknown's 90% range. Headline below/above: {headline} among trials with the unknown below / at or above its prior's median.\n"
    ));
    for p in inv
        .parameters
        .iter()
        .filter(|p| p.dependence.rests_on_prior)
    {
        let d = &p.dependence;
        out.push_str(&format!(
            "The answer rests on the prior of {}: the evidence narrowed it by {:.0}%, and {headline} is {} with that prior cut to below {:.4} and {} with it cut to above (effective sample sizes {:.0} and {:.0}). Question that prior, or sweep it (recount sweep --param {}).\n",
            p.name,
            100.0 * d.narrowed.unwrap_or(0.0),
            half(&d.headline_below),
            d.split_at,
            half(&d.headline_above),
            d.ess_halves[0],
            d.ess_halves[1],
            d.sweep_path,
        ));
    }
    if !inv.alternatives.is_empty() {
        out.push_str(&format!(
            "\n{headline} under other priors (inference.alternatives; the same trials, reweighted):\n"
        ));
        for a in &inv.alternatives {
            out.push_str(&format!("  {}\n", words::alternative(a)));
        }
    }
    if let Some(w) = &inv.warning {
        out.push_str(&format!("\nWARNING: {w}\n"));
    }
    out
}
