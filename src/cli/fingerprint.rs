//! `recount fingerprint`: the real protocols' fingerprint beside a simulated election's.

use crate::cli::args::FingerprintArgs;
use crate::cli::terminal::emit;
use crate::error::{Error, Result};
use crate::export::fingerprint;

use crate::sample::kind::SamplerKind;

/// `recount fingerprint`.
pub fn fingerprint(args: &FingerprintArgs) -> Result<()> {
    let loaded = crate::cli::options::load(&args.scenario)?;
    let Some(stations) = loaded.model.stations.clone() else {
        return Err(Error::Usage(format!(
            "{}: no real stations (`protocols`); make a scenario of them with `recount import`, or draw a simulated election's fingerprint with `recount precincts {}`",
            loaded.path.display(),
            args.scenario
        )));
    };
    if !(2..=500).contains(&args.bins) {
        return Err(Error::Usage(format!(
            "--bins must be between 2 and 500 (got {})",
            args.bins
        )));
    }
    let m = &loaded.model;
    let j = match &args.party {
        None => m.irregular.beneficiary,
        Some(id) => m.parties.iter().position(|p| &p.id == id).ok_or_else(|| {
            Error::Usage(format!(
                "--party {id}: no such party; valid options: {}",
                m.parties
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
    };
    let seed = crate::cli::options::seed(args.seed, &loaded);
    // An inverse scenario's simulated panel is a posterior draw: one of --draws trials, picked
    // by its weight; a forward scenario's is trial --trial.
    let (trial, caption) = match (&m.inverse, args.trial) {
        (Some(_), None) => {
            let plan = crate::engine::Plan {
                trials: args.draws,
                seed,
                threads: crate::cli::options::threads(None)?,
                sampler: SamplerKind::Fast,
            };
            eprintln!(
                "Weighing {} simulated elections of {} stations to draw one from the posterior...",
                args.draws,
                stations.len()
            );
            let (t, ess) = crate::question::inverse::posterior_trial(m, &plan).ok_or_else(|| {
                Error::Usage(format!(
                    "none of the {} trials reproduces the official result within the tolerance: raise --draws",
                    args.draws
                ))
            })?;
            (
                t,
                format!(
                    "Simulated: a posterior draw (trial {t} of {}, ESS {ess:.0})",
                    args.draws
                ),
            )
        }
        (_, t) => {
            let t = t.unwrap_or(0);
            (
                t,
                format!("Simulated (trial {t} of seed {seed}, reported count)"),
            )
        }
    };
    let election = crate::export::precincts::replay(m, seed, trial, SamplerKind::Fast);
    let real = fingerprint::real(&stations, j, args.bins);
    let sim = fingerprint::simulated(&election, j, args.bins);
    let party = &m.parties[j];
    let title = format!(
        "{}: {} stations, turnout x {} share (cf. Klimek et al., PNAS 2012)",
        loaded.scenario.title,
        stations.len(),
        party.name
    );
    let svg = fingerprint::svg(&title, &party.name, &real, &sim, &caption)
        .map_err(|e| Error::Usage(format!("drawing the fingerprint: {e}")))?;
    let stem = format!("fingerprint-{}-{seed}-{trial}", party.id);
    let stamp = crate::export::run::Stamp::new(
        &loaded.name,
        &loaded.hash,
        seed,
        ("trial", trial),
        SamplerKind::Fast.name(),
    );
    let csv = stamp.onto(&fingerprint::to_csv(&real, &sim));
    let (svg_path, csv_path) = crate::export::write::table_with_figure(
        &args.out.join(&loaded.name),
        &stem,
        (&csv, &svg),
        args.force,
    )?;
    let features = fingerprint::table(
        &crate::model::protocols::Features::of(stations.points(j)),
        &crate::model::protocols::Features::of(fingerprint::simulated_points(&election, j)),
        &party.id,
    );
    emit(&format!(
        "{}: fingerprint of {} stations (turnout x {} share), beside trial {trial} of seed {seed} simulated on the same stations.\n\n{features}\nFigure written to {} (and .png)\nTable written to {}\n",
        loaded.name,
        stations.len(),
        party.id,
        svg_path.display(),
        csv_path.display()
    ))
}
