//! `recount check`: simulation-based calibration of an inverse scenario
//! (`question::calibration`), with a progress bar over every replication's trials, the verdict
//! in words on the terminal, the replications as CSV and the verdict as JSON. Exits with 3 when
//! the answer is not calibrated.

use crate::cli::args::CheckArgs;
use crate::cli::options;
use crate::cli::terminal::emit;
use crate::engine::Plan;
use crate::error::{Error, Result};
use crate::export::run::Stamp;
use crate::export::words::{focus_names, group, headline};
use crate::export::write::{Folder, holds};
use crate::question::calibration::{self, Replication, Verdict};
use serde::Serialize;

/// The most replications a check may ask for.
const MAX_REPLICATIONS: u64 = 100_000;

/// The check's JSON: what was checked, and the verdict.
#[derive(Serialize)]
struct CheckFile<'a> {
    scenario: &'a str,
    scenario_hash: &'a str,
    seed: u64,
    replications: u64,
    trials: u64,
    sampler: &'a str,
    recount_version: &'a str,
    verdict: &'a Verdict,
}

pub(crate) fn check(args: &CheckArgs) -> Result<()> {
    let loaded = options::load(&args.scenario)?;
    calibration::supported(&loaded)?;
    if args.replications == 0 || args.replications > MAX_REPLICATIONS {
        return Err(Error::Usage(format!(
            "--replications {} must be in [1, {MAX_REPLICATIONS}]",
            args.replications
        )));
    }
    if args.trials == 0 {
        return Err(Error::Usage("--trials must be at least 1".into()));
    }
    let sampler = options::sampler(args.sampler, &loaded)?;
    let threads = options::threads(args.threads)?;
    crate::cli::run::check_size(&loaded, args.trials, threads, sampler, args.quiet)?;
    let plan = Plan {
        trials: args.trials,
        seed: args.seed,
        threads,
        sampler,
    };
    let dir = args.out.join(&loaded.name);
    Folder::check_writable(&dir)?;
    let bar = crate::cli::terminal::progress_bar(
        args.replications * args.trials,
        args.quiet,
        "(calibration)",
    );
    let mut reps = Vec::new();
    for i in 0..args.replications {
        let before = i * args.trials;
        reps.push(calibration::replicate(&loaded, &plan, i, |done| {
            bar.set_position(before + done)
        })?);
        bar.set_position(before + args.trials);
    }
    bar.finish_and_clear();
    let names = focus_names(&loaded.model);
    let ids: Vec<String> = loaded
        .model
        .focus
        .iter()
        .map(|&j| loaded.model.parties[j].id.clone())
        .collect();
    let verdict = calibration::verdict(&reps, &names);
    let base = format!(
        "check-{}-{}x{}-{}",
        args.seed,
        args.replications,
        args.trials,
        sampler.name()
    );
    let stamp = Stamp::new(
        &loaded.name,
        &loaded.hash,
        args.seed,
        ("trials", args.trials),
        sampler.name(),
    );
    let file = CheckFile {
        scenario: &loaded.name,
        scenario_hash: &loaded.hash,
        seed: args.seed,
        replications: args.replications,
        trials: args.trials,
        sampler: sampler.name(),
        recount_version: crate::VERSION,
        verdict: &verdict,
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a verdict serialises");
    text.push('\n');
    // The verdict's JSON is the set's marker, written last; the same check made again replaces it.
    let csv = {
        let folder = Folder::open(&dir)?;
        let mut set = folder.claim(&base, ".json", |old| {
            args.force || holds(old, text.as_bytes())
        })?;
        set.write(".csv", stamp.onto(&to_csv(&reps, &ids)).as_bytes())?;
        let csv = set.path(".csv");
        set.finish(text.as_bytes())?;
        csv
    };
    let headline = headline(&names, loaded.model.threshold);
    emit(&format!(
        "{}Written to {} and .json\n",
        table(&loaded.name, args, sampler.name(), &verdict, &headline),
        csv.display()
    ))?;
    if verdict.calibrated {
        Ok(())
    } else {
        Err(Error::Unreliable(format!(
            "{} is not calibrated (the verdict above says why); its replications are written",
            loaded.name
        )))
    }
}

/// One row per replication: its seed, whether it was set aside, each focus party's truth and
/// rank, the headline and whether the event truly happened, the ESS and k-hat.
fn to_csv(reps: &[Replication], focus: &[String]) -> String {
    let mut out = String::from("replication,replication_seed,set_aside");
    for id in focus {
        out.push_str(&format!(",true_share_{id},rank_{id}"));
    }
    out.push_str(",headline,truly,ess,pareto_k\n");
    for r in reps {
        out.push_str(&format!(
            "{},{},{}",
            r.index,
            r.seed,
            r.set_aside.as_deref().unwrap_or("")
        ));
        for (t, u) in r.truth.iter().zip(&r.rank) {
            let u = if u.is_nan() {
                String::new()
            } else {
                u.to_string()
            };
            out.push_str(&format!(",{t},{u}"));
        }
        let headline = if r.headline.is_nan() {
            String::new()
        } else {
            r.headline.to_string()
        };
        out.push_str(&format!(
            ",{headline},{},{},{}\n",
            r.truly,
            r.ess,
            r.pareto_k.map_or(String::new(), |k| k.to_string())
        ));
    }
    out
}

/// The verdict for the terminal.
fn table(name: &str, args: &CheckArgs, sampler: &str, v: &Verdict, headline: &str) -> String {
    let used = v.replications - v.set_aside;
    let mut out = format!(
        "Calibration of {name}: {} simulated elections, each asked the inverse question with {} trials ({sampler} sampler, seeds {} to {}); {} set aside.\n\n",
        group(v.replications),
        group(args.trials),
        args.seed,
        args.seed + args.replications - 1,
        v.set_aside
    );
    out.push_str(&format!(
        "{:<16} {:<44} {:>12} {:>10} {:>10}\n",
        "true share of",
        "where the truth fell in its posterior, by tenth",
        "chi-square",
        "50% range",
        "90% range"
    ));
    for p in &v.parties {
        let ranks: Vec<String> = p.ranks.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!(
            "{:<16} {:<44} {:>12} {:>10} {:>10}\n",
            p.party,
            ranks.join(" "),
            format!("{:.1}/{:.1}", p.chi2, p.chi2_critical),
            format!("{:.1}%", 100.0 * p.covered_50),
            format!("{:.1}%", 100.0 * p.covered_90)
        ));
    }
    out.push_str(&format!(
        "Each tenth should hold about {:.0} of the {used} replications used; chi-square above the second figure means they do not; the 50% and 90% ranges should cover the truth in about 50% and 90% of them.\n",
        used as f64 / calibration::BINS as f64
    ));
    out.push_str(&format!(
        "{headline}: {:.1}% on average across the replications; the event truly happened in {:.1}% (a calibrated answer differs by about {:.1} points or less).\n",
        100.0 * v.headline_mean,
        100.0 * v.headline_truly,
        100.0 * 3.0 * v.headline_se
    ));
    out.push_str(&format!(
        "Median effective sample size {:.0} of {} trials; {} replications with too heavy a weights' tail.\n\n",
        v.median_ess,
        group(args.trials),
        v.heavy_tailed
    ));
    if v.calibrated {
        out.push_str("Verdict: calibrated. Where the scenario's own assumptions hold, its posteriors cover the truth as often as they say.\n");
    } else {
        out.push_str(&format!(
            "Verdict: NOT calibrated: {}.\n",
            v.reasons.join("; ")
        ));
    }
    out
}
