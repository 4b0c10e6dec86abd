//! What one trial draws and what it returns: the election-level unknowns (`Draw`) and the true
//! and reported national totals (`Totals`). Shared by the trial loop, the mechanisms and the
//! questions above them.

use crate::model::count_errors::MAX_COMPONENTS;
use crate::model::{MAX_CATEGORIES, MAX_PARTIES};

/// The election-level unknowns of one trial.
#[derive(Debug, Clone, Copy, Default)]
pub struct Draw {
    /// True national share of valid votes per party.
    pub support: [f64; MAX_PARTIES],
    /// True share of spoiled ballots among ballots cast.
    pub spoiled: f64,
    /// Probability that a precinct's count is irregular (before urban/e-voting multipliers).
    pub prevalence: f64,
    /// Per mechanism: probability of acting in an irregular precinct and mean intensity.
    pub transfer: [f64; 2],
    pub stuffing: [f64; 2],
    pub invalidation: [f64; 2],
    pub miscount: [f64; 2],
    pub rewrite: f64,
    /// The honest counting errors' unknowns (`count_errors`).
    pub count: CountDraw,
    /// The tabulation stage's transfer share and added share (`tabulation`).
    pub tabulation: [f64; 2],
}

/// The election-level unknowns of the honest counting errors (`count_errors`): each kind's
/// prevalence per station, and the means of the slips' count law.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountDraw {
    pub slips: f64,
    pub slip_means: [f64; MAX_COMPONENTS],
    pub zeroed: f64,
    pub swapped: f64,
}

/// National totals of one simulated election. Category `n_parties` is spoiled ballots.
#[derive(Debug, Clone, Copy)]
pub struct Totals {
    pub true_votes: [u64; MAX_CATEGORIES],
    pub reported_votes: [u64; MAX_CATEGORIES],
    pub registered: u64,
    pub irregular_precincts: u64,
}
