//! What one simulated election means: national shares of valid votes, who crosses the threshold,
//! and the seats, for both the true and the reported count. The reported count is the final
//! result: the stations' protocols added up (the preliminary count) and, where the scenario has
//! one, changed by the tabulation stage.

use crate::election::draw::{Draw, Totals};
use crate::election::seats;
use crate::election::tabulation;
use crate::model::{MAX_PARTIES, Model};

/// One trial's result, as the accumulators see it.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    /// Weight of the trial (1 in the forward question; the ABC weight in the inverse one).
    pub weight: f64,
    pub true_share: [f64; MAX_PARTIES],
    pub reported_share: [f64; MAX_PARTIES],
    /// Shares of the preliminary count (the stations' protocols added up, before the tabulation
    /// stage); the reported shares where the scenario has no tabulation stage.
    pub preliminary_share: [f64; MAX_PARTIES],
    pub true_seats: [u32; MAX_PARTIES],
    pub reported_seats: [u32; MAX_PARTIES],
    pub true_turnout: f64,
    pub reported_turnout: f64,
    /// Share of the reported ballots that were invalid.
    pub reported_invalid: f64,
    /// Votes the irregularities added to each party (reported minus true; negative: taken).
    pub moved: [f64; MAX_PARTIES],
    /// Valid votes of the reported count (the scale of `moved`).
    pub reported_valid: f64,
    /// Fraction of precincts whose count was irregular.
    pub irregular_fraction: f64,
    /// The election-level unknowns this trial drew.
    pub draw: Draw,
}

/// Shares of valid votes (the spoiled category, last, excluded) into `out`.
pub fn valid_shares(votes: &[u64], n_parties: usize, out: &mut [f64; MAX_PARTIES]) {
    let valid: u64 = votes[..n_parties].iter().sum();
    for j in 0..n_parties {
        out[j] = if valid > 0 {
            votes[j] as f64 / valid as f64
        } else {
            0.0
        };
    }
}

/// Turns national totals into a record.
pub fn record(model: &Model, n_precincts: usize, draw: &Draw, preliminary: &Totals) -> Record {
    let np = model.n_parties();
    let mut t = *preliminary;
    if let Some(tab) = &model.tabulation {
        tabulation::apply(tab, draw.tabulation, np, &mut t.reported_votes[..=np]);
    }
    let mut r = Record {
        weight: 1.0,
        true_share: [0.0; MAX_PARTIES],
        reported_share: [0.0; MAX_PARTIES],
        preliminary_share: [0.0; MAX_PARTIES],
        true_seats: [0; MAX_PARTIES],
        reported_seats: [0; MAX_PARTIES],
        true_turnout: t.true_votes[..=np].iter().sum::<u64>() as f64 / t.registered.max(1) as f64,
        reported_turnout: t.reported_votes[..=np].iter().sum::<u64>() as f64
            / t.registered.max(1) as f64,
        reported_invalid: t.reported_votes[np] as f64
            / t.reported_votes[..=np].iter().sum::<u64>().max(1) as f64,
        moved: [0.0; MAX_PARTIES],
        reported_valid: t.reported_votes[..np].iter().sum::<u64>() as f64,
        irregular_fraction: t.irregular_precincts as f64 / n_precincts.max(1) as f64,
        draw: *draw,
    };
    for j in 0..np {
        r.moved[j] = t.reported_votes[j] as f64 - t.true_votes[j] as f64;
    }
    valid_shares(&t.true_votes, np, &mut r.true_share);
    valid_shares(&t.reported_votes, np, &mut r.reported_share);
    valid_shares(&preliminary.reported_votes, np, &mut r.preliminary_share);
    let mut eligible = [false; MAX_PARTIES];
    for (votes, share, seats) in [
        (&t.true_votes, &r.true_share, &mut r.true_seats),
        (&t.reported_votes, &r.reported_share, &mut r.reported_seats),
    ] {
        for j in 0..np {
            eligible[j] = share[j] >= model.threshold;
        }
        seats::allocate(
            model.allocation,
            model.seats,
            &votes[..np],
            &eligible[..np],
            &mut seats[..np],
        );
    }
    r
}
