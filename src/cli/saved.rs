//! Saved results read back: a run's JSON or a partial or shard file, with the scenario it embeds.

use crate::engine::{self};
use crate::error::{Error, Result};
use crate::model::load::Loaded;
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
    pub(crate) value: serde_json::Value,
    pub(crate) state: answer::State,
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

/// Reads a partial-result or shard file and checks it was made by this recount.
pub(crate) fn read_saved(path: &std::path::Path) -> Result<Saved> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let bad = |why: String| Error::Usage(format!("{}: cannot use it: {why}", path.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a partial result ({e})")))?;
    if v["sampler_version"] != crate::SAMPLER_VERSION || v["recount_version"] != crate::VERSION {
        return Err(bad(format!(
            "it was made by recount {} (sampler {}), this is recount {} (sampler {})",
            v["recount_version"],
            v["sampler_version"],
            crate::VERSION,
            crate::SAMPLER_VERSION
        )));
    }
    let state: answer::State = serde_json::from_value(v["state"].clone())
        .map_err(|e| bad(format!("no resumable state in it ({e})")))?;
    if !state.done.is_multiple_of(engine::BATCH) && state.done != v["trials"] {
        return Err(bad(format!(
            "{} trials done is not a whole number of batches",
            state.done
        )));
    }
    let shard = match v["partial"].get("shard") {
        None => None,
        Some(s) => {
            Some(serde_json::from_value(s.clone()).map_err(|e| bad(format!("bad `shard` ({e})")))?)
        }
    };
    Ok(Saved {
        path: path.to_path_buf(),
        hash: v["scenario"]["hash"].as_str().unwrap_or("").to_string(),
        sampler: v["sampler"].as_str().unwrap_or("exact").to_string(),
        trials: v["trials"]
            .as_u64()
            .ok_or_else(|| bad("no `trials`".into()))?,
        seed: v["seed"].as_u64().ok_or_else(|| bad("no `seed`".into()))?,
        shard,
        elapsed: v["timing"]["elapsed_seconds"].as_f64().unwrap_or(0.0),
        threads: v["timing"]["threads"].as_u64().unwrap_or(1) as usize,
        value: v,
        state,
    })
}

/// The scenario a shard was run on, from its embedded copy; its hash must match the one recorded.
pub(crate) fn embedded_scenario(saved: &Saved) -> Result<Loaded> {
    let path = &saved.path;
    let bad = |why: String| Error::Usage(format!("{}: cannot use it: {why}", path.display()));
    let scenario = serde_json::from_value(saved.value["scenario_content"].clone())
        .map_err(|e| bad(format!("no scenario in it ({e})")))?;
    let name = saved.value["scenario"]["name"]
        .as_str()
        .unwrap_or("merged")
        .to_string();
    let loaded = Loaded::new(name, path.clone(), scenario)?;
    if loaded.hash != saved.hash {
        return Err(bad(format!(
            "its scenario has hash {} but it records {}; the file was edited",
            loaded.hash, saved.hash
        )));
    }
    Ok(loaded)
}
