//! The files a run leaves that later commands read back (`--resume`, `merge`), as types: one
//! place says what a saved partial result or shard holds, for the writer and the readers alike.

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

/// The JSON of a partial result or shard: the report's fields, `state` and `scenario_content`,
/// keys in sorted order, one line.
pub fn saved_json(report: &RunReport, state: &State, scenario: &Scenario) -> String {
    let mut v = serde_json::to_value(report).expect("a report serialises");
    v["state"] = serde_json::to_value(state).expect("a state serialises");
    v["scenario_content"] = serde_json::to_value(scenario).expect("a scenario serialises");
    let mut s = serde_json::to_string(&v).expect("a value serialises");
    s.push('\n');
    s
}
