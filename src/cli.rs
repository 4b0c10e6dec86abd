//! Command-line arguments (clap derive). Only parsing and flag-level checks live here; `app`
//! turns them into runs.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The scenario `recount run` uses when none is named.
pub const DEFAULT_SCENARIO: &str = "odihr-43";

#[derive(Debug, Parser)]
#[command(
    name = "recount",
    version,
    about = "Estimates, by Monte Carlo simulation, how vote-counting irregularities could have changed an election's outcome.",
    long_about = "Estimates, by Monte Carlo simulation, how vote-counting irregularities could have changed an \
election's outcome. Scenarios (JSON files in scenarios/) describe the country precinct by precinct and the \
irregularities, each number with its source.",
    after_help = "Examples:\n  recount list\n  recount run odihr-43\n  recount run exit-poll --trials 200000 --seed 7 --threads 2 --json\n  recount show odihr-43\n  recount validate my-scenario.json\n  recount schema > scenario.schema.json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and report who truly and reportedly crossed the threshold.
    #[command(after_help = "Examples:\n  recount run                       # the default scenario, odihr-43\n  recount run official --trials 5000\n  recount run odihr-43 --trials 200000 --seed 7 --threads 2 --json\n  recount run path/to/my.json --out results/")]
    Run(RunArgs),
    /// List the named scenarios, one line each with its question.
    List,
    /// Show a scenario with every number and its source.
    Show {
        /// Scenario name (in scenarios/) or path to a JSON file.
        scenario: String,
        /// Print the scenario as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Check scenario files; exit 0 if all are valid, 2 with the file, field and allowed range if not.
    Validate {
        /// Scenario names or paths.
        #[arg(required = true)]
        scenarios: Vec<String>,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario name (in scenarios/) or path to a JSON file.
    #[arg(default_value = DEFAULT_SCENARIO)]
    pub scenario: String,
    /// Number of simulated elections (default: the scenario's run.trials).
    #[arg(long, short = 'n')]
    pub trials: Option<u64>,
    /// Master seed (default: the scenario's run.seed).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); --threads 1 disables parallelism. Results do not
    /// depend on it.
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Print the result as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Where result files go: <out>/<scenario>/run-<seed>-<trials>.{json,csv}.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}
