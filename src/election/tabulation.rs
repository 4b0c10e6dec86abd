//! The tabulation stage acting on national totals: the final result from the preliminary count
//! (the stations' protocols added up). `transfer` moves that share of each `from` party's votes
//! to the beneficiary; `added` gives the beneficiary that share of the preliminary valid votes.
//!
//! One rule (`moves`) serves both the simulated counts, rounded to whole votes, and the expected
//! shares the inverse question aims its proposals with (`question::mean_field`).

use crate::model::MAX_CATEGORIES;
use crate::model::tabulation::TabulationModel;

/// The votes each party loses and the votes added to the beneficiary, for preliminary `votes`
/// (categories; the first `n_parties` are parties) and the draw's [transfer, added].
pub fn moves(
    t: &TabulationModel,
    draw: [f64; 2],
    n_parties: usize,
    votes: &[f64],
) -> ([f64; MAX_CATEGORIES], f64) {
    let [transfer, added] = draw;
    let mut lost = [0.0; MAX_CATEGORIES];
    for j in 0..n_parties {
        if t.from[j] {
            lost[j] = transfer * votes[j];
        }
    }
    let valid: f64 = votes[..n_parties].iter().sum();
    (lost, added * valid)
}

/// The final counts from the preliminary ones, in place, in whole votes (each move rounded to
/// the nearest vote, so the beneficiary gains exactly what the others lose plus what is added).
pub fn apply(t: &TabulationModel, draw: [f64; 2], n_parties: usize, votes: &mut [u64]) {
    let mut prelim = [0.0; MAX_CATEGORIES];
    for (p, &v) in prelim.iter_mut().zip(votes.iter()) {
        *p = v as f64;
    }
    let (lost, added) = moves(t, draw, n_parties, &prelim);
    let mut gain = added.round() as u64;
    for j in 0..n_parties {
        let x = (lost[j].round() as u64).min(votes[j]);
        votes[j] -= x;
        gain += x;
    }
    votes[t.beneficiary] += gain;
}

/// The expected final counts from expected preliminary ones, in place.
pub fn apply_expected(t: &TabulationModel, draw: [f64; 2], n_parties: usize, votes: &mut [f64]) {
    let (lost, added) = moves(t, draw, n_parties, votes);
    let mut gain = added;
    for j in 0..n_parties {
        votes[j] -= lost[j];
        gain += lost[j];
    }
    votes[t.beneficiary] += gain;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::prior::Dist;

    fn model(from: Vec<bool>) -> TabulationModel {
        TabulationModel {
            beneficiary: 0,
            from,
            transfer: Dist::Fixed(0.0),
            added: Dist::Fixed(0.0),
        }
    }

    #[test]
    fn whole_votes_move_and_the_beneficiary_gains_exactly_them() {
        // 10% of b's 1,005 (100.5, rounds to 101) and of c's 20 (2) move to a; 1% of the 2,025
        // valid votes (20.25, rounds to 20) is added; spoiled ballots (last) are untouched.
        let t = model(vec![false, true, true]);
        let mut v = [1_000u64, 1_005, 20, 7];
        apply(&t, [0.1, 0.01], 3, &mut v);
        assert_eq!(v, [1_000 + 101 + 2 + 20, 904, 18, 7]);
        let mut e = [1_000.0, 1_005.0, 20.0, 7.0];
        apply_expected(&t, [0.1, 0.01], 3, &mut e);
        assert_eq!(e, [1_000.0 + 100.5 + 2.0 + 20.25, 904.5, 18.0, 7.0]);
    }

    #[test]
    fn nothing_moves_at_zero_and_only_from_the_named_parties() {
        let t = model(vec![false, false, true]);
        let mut v = [50u64, 60, 70, 3];
        apply(&t, [0.0, 0.0], 3, &mut v);
        assert_eq!(v, [50, 60, 70, 3]);
        apply(&t, [1.0, 0.0], 3, &mut v);
        assert_eq!(v, [120, 60, 0, 3], "all of c, none of b");
    }
}
