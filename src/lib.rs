//! recount: Monte Carlo estimates of how vote-counting irregularities could have changed an
//! election's outcome (see ../shared/MODEL.md for the model and README.md for use).
//!
//! Flow: `load` reads a scenario file (`scenario`) and validates it into a `model::Model`;
//! `engine` runs trials (`trial` + `mechanism` per precinct, `outcome` per election) in parallel
//! and folds them into `summary::Accumulator`; `report` turns the results into a table, JSON and
//! CSV. `cli` and `app` are the command-line front end.

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
pub const SAMPLER_VERSION: u32 = 10;
