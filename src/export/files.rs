//! The files a run leaves that later commands read back (`--resume`, `merge`), as types: one
//! place says what a saved partial result or shard holds, for the writer and the readers alike.
//!
//! A saved file carries the SHA-256 of everything else in it (`checksum`): the state, the trial
//! range, the seed, trials, sampler and versions, and the scenario. A file edited by hand or
//! damaged on the way is refused rather than merged into a result from trials never simulated.
//! The checksum guards against edits and corruption, not against someone who recomputes it.

use crate::export::run::{PartialInfo, RunReport, ScenarioInfo, Timing};
use crate::model::scenario::Scenario;
use crate::question::answer::State;
use serde::Deserialize;

/// The versions a saved file was made by: read before the rest, so a file from another recount
/// is refused for its versions rather than for a field it lacks.
#[derive(Debug, Deserialize)]
pub struct Versions {
    #[serde(default)]
    pub recount_version: String,
    #[serde(default)]
    pub sampler_version: u32,
}

/// A partial result or a shard: the run's figures so far (as `RunReport` writes them), the state
/// to continue from, and the scenario it ran (`scenario_content`, which `merge` runs on).
#[derive(Debug, Deserialize)]
pub struct SavedRun {
    #[serde(default = "exact")]
    pub sampler: String,
    pub scenario: ScenarioInfo,
    pub trials: u64,
    pub seed: u64,
    #[serde(default)]
    pub partial: Option<PartialInfo>,
    #[serde(default)]
    pub timing: Option<Timing>,
    pub state: State,
    pub scenario_content: Scenario,
}

fn exact() -> String {
    crate::sample::kind::SamplerKind::Exact.name().to_string()
}

/// The JSON of a partial result or shard: the report's fields, `state`, `scenario_content` and
/// the `checksum` of the rest, keys in sorted order, one line.
pub fn saved_json(report: &RunReport, state: &State, scenario: &Scenario) -> String {
    let mut v = serde_json::to_value(report).expect("a report serialises");
    v["state"] = serde_json::to_value(state).expect("a state serialises");
    v["scenario_content"] = serde_json::to_value(scenario).expect("a scenario serialises");
    v["checksum"] = checksum(&v).into();
    let mut s = serde_json::to_string(&v).expect("a value serialises");
    s.push('\n');
    s
}

/// The SHA-256 (hex) of a saved file's fields other than `checksum`, as one sorted line of
/// JSON (numbers read back print the same: serde_json's `float_roundtrip`).
fn checksum(v: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut rest = v.clone();
    if let Some(o) = rest.as_object_mut() {
        o.remove("checksum");
    }
    let line = serde_json::to_string(&rest).expect("a value serialises");
    let digest = Sha256::digest(line.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a saved file's text `v` is as recount wrote it: `Err` says what is wrong.
pub fn verify(v: &serde_json::Value) -> Result<(), String> {
    match v.get("checksum").and_then(|c| c.as_str()) {
        None => Err("it has no checksum (files saved by recount carry one)".into()),
        Some(c) if c != checksum(v) => Err(
            "its checksum does not match its content: the file was edited or damaged after recount wrote it; run that shard or partial run again".into(),
        ),
        Some(_) => Ok(()),
    }
}
