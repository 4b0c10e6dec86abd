//! `recount merge`: the shards of one run, checked to tile it, folded into one result.

use crate::cli::args::MergeArgs;
use crate::cli::run::{report_of, result_base, write_result};
use crate::cli::saved::{Saved, embedded_scenario, read_saved};
use crate::error::{Error, Result};
use crate::export::run::Timing;
use crate::question::answer;
use crate::sample::kind::SamplerKind;

/// `recount merge`: combines the shard files of one run into the run's result.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let mut parts = args
        .files
        .iter()
        .map(|p| read_saved(p))
        .collect::<Result<Vec<_>>>()?;
    let first = &parts[0];
    for p in &parts[1..] {
        let fields = [
            ("scenario content", first.hash.clone(), p.hash.clone()),
            ("seed", first.seed.to_string(), p.seed.to_string()),
            (
                "trial count",
                first.trials.to_string(),
                p.trials.to_string(),
            ),
            ("sampler", first.sampler.clone(), p.sampler.clone()),
        ];
        if let Some((what, a, b)) = fields.iter().find(|(_, a, b)| a != b) {
            return Err(Error::Usage(format!(
                "{}: its {what} {b} differs from the {what} {a} of {}; only shards of one run \
                 (same scenario content, seed, trials, sampler and recount version) can be merged",
                p.path.display(),
                first.path.display()
            )));
        }
    }
    let (seed, trials) = (first.seed, first.trials);
    let sampler = SamplerKind::from_name(&first.sampler).ok_or_else(|| {
        Error::Usage(format!(
            "{}: unknown sampler `{}`",
            first.path.display(),
            first.sampler
        ))
    })?;
    let loaded = embedded_scenario(first)?;
    parts.sort_by_key(|p| (p.state.first, p.state.done));
    let mut state = answer::State::new(&loaded.model, 0);
    for p in &parts {
        if p.state.first > state.done {
            return Err(Error::Usage(missing(&parts, state.done, p.state.first)));
        }
        if p.state.first < state.done {
            let other = parts
                .iter()
                .find(|q| {
                    q.state.first < p.state.done && p.state.first < q.state.done && q.path != p.path
                })
                .map_or(String::new(), |q| format!(" and {}", q.path.display()));
            return Err(Error::Usage(format!(
                "{}{other} both hold trials from {} on; give each shard once",
                p.path.display(),
                p.state.first
            )));
        }
        state
            .merge(&p.state)
            .map_err(|e| Error::Usage(format!("{}: {e}", p.path.display())))?;
    }
    if state.done < trials {
        return Err(Error::Usage(missing(&parts, state.done, trials)));
    }
    let mut report = report_of(&loaded, seed, trials, sampler, &state);
    let plan = crate::engine::Plan {
        trials,
        seed,
        threads: crate::cli::options::threads(None)?,
        sampler,
    };
    // The files make one run: the folder is checked before the prior pass simulates anything.
    crate::export::write::Folder::check_writable(&args.out.join(&loaded.name))?;
    crate::cli::run::add_odds(&loaded, &plan, false, &mut report);
    // As if the shards ran at the same time: the longest shard's time, all their threads.
    let elapsed = parts.iter().map(|p| p.elapsed).fold(0.0, f64::max);
    report.timing = Some(Timing {
        elapsed_seconds: elapsed,
        threads: parts.iter().map(|p| p.threads).sum(),
        trials_per_second: trials as f64 / elapsed,
        precinct_trials_per_second: (trials * loaded.model.n_precincts()) as f64 / elapsed,
        // Each shard's file holds its own.
        peak_memory_mib: None,
        memory_estimate_mib: None,
    });
    crate::cli::run::has_answer(&loaded, &report)?;
    let dir = args.out.join(&loaded.name);
    write_result(
        &dir,
        &result_base(seed, trials, sampler),
        &report,
        (&loaded, &state),
        args.force,
        args.json,
    )?;
    crate::cli::run::trusted(&report)
}

/// Says which trials no file covers, and which shards those were if the files agree on n.
pub(crate) fn missing(parts: &[Saved], from: u64, to: u64) -> String {
    let incomplete: Vec<String> = parts
        .iter()
        .filter(|p| {
            // A shard (or a whole run) that did not reach the end of its trials.
            let end = p
                .shard
                .and_then(|s| s.range(p.trials))
                .map_or(p.trials, |r| r.end);
            p.state.done < end
        })
        .map(|p| {
            format!(
                "{} stopped early: continue it with `recount run --resume {}`",
                p.path.display(),
                p.path.display()
            )
        })
        .collect();
    let counts: Vec<u64> = parts
        .iter()
        .filter_map(|p| p.shard.map(|s| s.count))
        .collect();
    let shards = match counts.first() {
        Some(&n) if counts.len() == parts.len() && counts.iter().all(|&c| c == n) => {
            let have: Vec<u64> = parts
                .iter()
                .filter_map(|p| p.shard.map(|s| s.index))
                .collect();
            let lacking: Vec<String> = (1..=n)
                .filter(|i| !have.contains(i))
                .map(|i| format!("{i}/{n}"))
                .collect();
            if lacking.is_empty() {
                String::new()
            } else {
                format!(" (shard {} missing)", lacking.join(", "))
            }
        }
        _ => String::new(),
    };
    let mut msg =
        format!("no file holds trials {from} to {to}{shards}; merge needs every shard of the run");
    for line in incomplete {
        msg.push_str("\n  ");
        msg.push_str(&line);
    }
    msg
}
