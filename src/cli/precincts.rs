//! `recount precincts`: one simulated election precinct by precinct, as CSV and a fingerprint.

use crate::cli::args::PrecinctsArgs;
use crate::cli::terminal::emit;
use crate::error::{Error, Result};

/// `recount precincts`.
pub fn precincts(args: &PrecinctsArgs) -> Result<()> {
    let loaded = crate::cli::options::load(&args.scenario)?;
    let seed = crate::cli::options::seed(args.seed, &loaded);
    if !(2..=500).contains(&args.bins) {
        return Err(Error::Usage(format!(
            "--bins must be between 2 and 500 (got {})",
            args.bins
        )));
    }
    if crate::sample::kind::SamplerKind::from(args.sampler)
        == crate::sample::kind::SamplerKind::Pooled
    {
        return Err(Error::Usage(
            "--sampler pooled draws no precinct counts (it pools their ballot-level noise over \
             the country); replay with --sampler fast (the same precinct-level draws) or exact"
                .to_string(),
        ));
    }
    let election = crate::export::precincts::replay(
        &loaded.model,
        seed,
        args.trial,
        crate::sample::kind::SamplerKind::from(args.sampler),
    );
    let dir = args.out.join(&loaded.name);
    let mut stem = format!("precincts-{seed}-{}", args.trial);
    // Kept apart from the exact replay's files, as `run` does with run-<seed>-<trials>-fast.
    if crate::sample::kind::SamplerKind::from(args.sampler)
        != crate::sample::kind::SamplerKind::Exact
    {
        stem.push('-');
        stem.push_str(crate::sample::kind::SamplerKind::from(args.sampler).name());
    }
    let stamp = crate::export::run::Stamp::new(
        &loaded.name,
        &loaded.hash,
        seed,
        ("trial", args.trial),
        crate::sample::kind::SamplerKind::from(args.sampler).name(),
    );
    let csv = stamp.onto(&crate::export::precincts::to_csv(&loaded.model, &election));
    let svg =
        crate::export::precincts::fingerprint(&loaded.model, &loaded.name, &election, args.bins)
            .map_err(|e| Error::io(dir.join(format!("{stem}.svg")), std::io::Error::other(e)))?;
    let (svg_path, csv_path) =
        crate::export::write::table_with_figure(&dir, &stem, (&csv, &svg), args.force)?;
    let irregular = election.precincts.iter().filter(|p| p.irregular).count();
    emit(&format!(
        "{}: trial {} of seed {}: {} precincts, {irregular} with irregular counts (prevalence drawn {:.3}).\n\
         Precinct table written to {}\nFingerprint (turnout x {} share, true and reported) written to {} (and .png)\n",
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
