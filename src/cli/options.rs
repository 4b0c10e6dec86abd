//! The options every command shares, resolved in one place: the flag, else the scenario's value
//! (trials, seed), and the thread count, each checked here once.

use crate::cli::args::Sampler;
use crate::error::{Error, Result};
use crate::model::load::Loaded;
use crate::sample::kind::SamplerKind;

/// A scenario by name or path (`model::load::load`), with the checks that need the inverse
/// question's unknowns: every `inference.alternatives` prior names one and lies within its
/// prior.
pub(crate) fn load(arg: &str) -> Result<Loaded> {
    checked(crate::model::load::load(arg)?)
}

/// `loaded` if its alternatives resolve (`question::alternatives`), else the problem with its
/// file.
pub(crate) fn checked(loaded: Loaded) -> Result<Loaded> {
    match crate::question::alternatives::resolve(&loaded.model) {
        Ok(_) => Ok(loaded),
        Err(message) => Err(Error::Scenario {
            file: loaded.path.display().to_string(),
            message,
        }),
    }
}

/// The `--sampler` flag as the library's kind, refused where the scenario needs precinct
/// counts that it does not draw (pooled: `Model::needs_station_counts`).
pub(crate) fn sampler(flag: Sampler, loaded: &Loaded) -> Result<SamplerKind> {
    let kind = SamplerKind::from(flag);
    if kind == SamplerKind::Pooled
        && let Some(why) = loaded.model.needs_station_counts()
    {
        return Err(Error::Usage(format!(
            "{}: {why}; --sampler pooled draws none: use --sampler fast (or exact)",
            loaded.path.display()
        )));
    }
    Ok(kind)
}

/// Trials from the flag, else the scenario's `run.trials`; at least 1.
pub(crate) fn trials(flag: Option<u64>, loaded: &Loaded) -> Result<u64> {
    match flag.unwrap_or(loaded.model.trials) {
        0 => Err(Error::Usage("--trials must be at least 1".into())),
        n => Ok(n),
    }
}

/// The seed from the flag, else the scenario's `run.seed`.
pub(crate) fn seed(flag: Option<u64>, loaded: &Loaded) -> u64 {
    flag.unwrap_or(loaded.model.seed)
}

/// Most worker threads per core: results never depend on the thread count, and more threads
/// than this only cost memory and switching (100,000 threads once started 5,295 and stalled).
const THREADS_PER_CORE: usize = 4;

/// Worker threads from the flag (default: all cores); at least 1, at most `THREADS_PER_CORE`
/// per core of this machine.
pub(crate) fn threads(flag: Option<usize>) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = cores * THREADS_PER_CORE;
    match flag {
        Some(0) => Err(Error::Usage("--threads must be at least 1".into())),
        Some(t) if t > most => Err(Error::Usage(format!(
            "--threads {t} is more than this machine can use: at most {most} ({THREADS_PER_CORE} per core, {cores} cores); results do not depend on the thread count"
        ))),
        Some(t) => Ok(t),
        None => Ok(cores),
    }
}
