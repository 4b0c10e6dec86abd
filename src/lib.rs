//! recount: Monte Carlo estimates of how vote-counting irregularities could have changed an
//! election's outcome. docs/model.md describes the model, docs/architecture.md the layers below
//! and README.md the use.
//!
//! Flow, bottom to top: `model::load` reads a scenario file and validates it into a
//! `model::Model`; `engine` runs trials (`election::sampler::Sampler`: the precinct loop and the
//! mechanisms, then `election::outcome`) in parallel and folds them into
//! `engine::summary::Accumulator`; `question::answer` picks the forward or the inverse question
//! and holds the state a run saves; `export` turns the results into a table, JSON, CSV, figures
//! and HTML; `cli` is the command line.

#![forbid(unsafe_code)]

pub mod cli;
pub mod election;
pub mod engine;
pub mod error;
pub mod export;
pub mod model;
pub mod numeric;
pub mod question;
pub mod sample;

/// recount's version, recorded in every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Version of the sampling algorithms: bumped whenever a change makes a seed produce different
/// numbers (recorded in outputs; see CHANGELOG.md).
pub const SAMPLER_VERSION: u32 = 11;
