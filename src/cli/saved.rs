//! Saved results read back: a run's JSON or a partial or shard file, with the scenario it embeds.

use crate::engine::{self};
use crate::error::{Error, Result};
use crate::export::files::{SavedRun, Versions};
use crate::model::load::Loaded;
use crate::model::scenario::Scenario;
use crate::question::answer;

/// What `--resume` and `merge` need from a saved partial result or shard.
pub(crate) struct Saved {
    pub(crate) path: std::path::PathBuf,
    pub(crate) hash: String,
    pub(crate) sampler: String,
    pub(crate) trials: u64,
    pub(crate) seed: u64,
    pub(crate) shard: Option<engine::Shard>,
    pub(crate) elapsed: f64,
    pub(crate) threads: usize,
    /// The scenario's name and content as the run recorded them.
    pub(crate) name: String,
    pub(crate) scenario: Scenario,
    pub(crate) state: answer::State,
    /// The file's checksum as read (`export::files`): whether it still holds what was read.
    pub(crate) checksum: String,
}

impl Saved {
    /// Refuses to continue a run of other scenario content.
    pub(crate) fn check_scenario(&self, loaded: &Loaded) -> Result<()> {
        if self.hash != loaded.hash {
            return Err(Error::Usage(format!(
                "{}: cannot resume: it was made from scenario content {} but {} now has {}; results would mix two scenarios",
                self.path.display(),
                self.hash,
                loaded.name,
                loaded.hash
            )));
        }
        Ok(())
    }
}

/// Largest partial result or shard read back (its histograms take a few MB at most).
const MAX_SAVED_BYTES: u64 = 512 * 1024 * 1024;

/// Reads a partial-result or shard file and checks it was made by this recount.
pub(crate) fn read_saved(path: &std::path::Path) -> Result<Saved> {
    let bad = |why: String| Error::Usage(format!("{}: cannot use it: {why}", path.display()));
    // Only regular files of a bounded size: /dev/zero would fill memory, a FIFO block forever.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(bad(
            "not a regular file (a partial result or shard is a .json file recount wrote)".into(),
        ));
    }
    if meta.len() > MAX_SAVED_BYTES {
        return Err(bad(format!(
            "{} bytes: a partial result or shard has at most {} MiB",
            meta.len(),
            MAX_SAVED_BYTES >> 20
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let v: Versions =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a partial result ({e})")))?;
    if v.sampler_version != crate::SAMPLER_VERSION || v.recount_version != crate::VERSION {
        return Err(bad(format!(
            "it was made by recount {} (sampler {}), this is recount {} (sampler {})",
            v.recount_version,
            v.sampler_version,
            crate::VERSION,
            crate::SAMPLER_VERSION
        )));
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a partial result ({e})")))?;
    crate::export::files::verify(&value).map_err(bad)?;
    let checksum = value["checksum"].as_str().unwrap_or_default().to_string();
    let saved: SavedRun = serde_json::from_value(value)
    .map_err(|e| {
        bad(format!(
            "not a resumable partial result or shard of this build ({e}); one saved by an earlier build of recount {} lacks sums this build publishes: run it again from the start",
            crate::VERSION
        ))
    })?;
    let state = saved.state;
    if !state.done.is_multiple_of(engine::BATCH) && state.done != saved.trials {
        return Err(bad(format!(
            "{} trials done is not a whole number of batches",
            state.done
        )));
    }
    // The trials it holds must be the run's (or its shard's) from the start: a range of its own
    // would merge into a result of trials another shard was meant to run.
    let shard = saved.partial.as_ref().and_then(|p| p.shard);
    let range = match shard {
        Some(s) if s.index >= 1 && s.index <= s.count => s.range(saved.trials),
        Some(_) => None,
        None => Some(0..saved.trials),
    };
    match range {
        Some(r) if state.first == r.start && state.first <= state.done && state.done <= r.end => {}
        _ => {
            return Err(bad(format!(
                "it holds trials {} to {}, which are not the start of {} of a run of {} trials (a saved file's trials start its range and stay within it)",
                state.first,
                state.done,
                shard.map_or("the trials".to_string(), |s| format!(
                    "shard {}/{}'s trials",
                    s.index, s.count
                )),
                saved.trials
            )));
        }
    }
    Ok(Saved {
        path: path.to_path_buf(),
        hash: saved.scenario.hash,
        name: saved.scenario.name,
        sampler: saved.sampler,
        trials: saved.trials,
        seed: saved.seed,
        shard,
        elapsed: saved.timing.map_or(0.0, |t| t.elapsed_seconds),
        threads: saved.timing.map_or(1, |t| t.threads),
        scenario: saved.scenario_content,
        state,
        checksum,
    })
}

/// The scenario a shard was run on, from its embedded copy; its hash must match the one recorded.
pub(crate) fn embedded_scenario(saved: &Saved) -> Result<Loaded> {
    let path = &saved.path;
    let bad = |why: String| Error::Usage(format!("{}: cannot use it: {why}", path.display()));
    let loaded = Loaded::new(saved.name.clone(), path.clone(), saved.scenario.clone())?;
    if loaded.hash != saved.hash {
        return Err(bad(format!(
            "its scenario has hash {} but it records {}; the file was edited",
            loaded.hash, saved.hash
        )));
    }
    crate::cli::options::checked(loaded)
}
