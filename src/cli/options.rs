//! The options every command shares, resolved in one place: the flag, else the scenario's value
//! (trials, seed), and the thread count, each checked here once.

use crate::error::{Error, Result};
use crate::model::load::Loaded;

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

/// Worker threads from the flag (default: all cores); at least 1.
pub(crate) fn threads(flag: Option<usize>) -> Result<usize> {
    match flag {
        Some(0) => Err(Error::Usage("--threads must be at least 1".into())),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}
